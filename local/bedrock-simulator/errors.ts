/**
 * Bedrock Runtime's error vocabulary, with the HTTP statuses taken from the service model shipped in
 * @aws-sdk/client-bedrock-runtime (the `httpError` trait of each error shape).
 */

/** Errors an operation can fail with before any response body is sent. */
export type BedrockErrorType =
  | 'AccessDeniedException'
  | 'ConflictException'
  | 'InternalServerException'
  | 'ModelErrorException'
  | 'ModelNotReadyException'
  | 'ModelTimeoutException'
  | 'ResourceNotFoundException'
  | 'ServiceQuotaExceededException'
  | 'ServiceUnavailableException'
  | 'ThrottlingException'
  | 'ValidationException';

export const ERROR_STATUS: Record<BedrockErrorType, number> = {
  AccessDeniedException: 403,
  ConflictException: 400,
  InternalServerException: 500,
  ModelErrorException: 424,
  ModelNotReadyException: 429,
  ModelTimeoutException: 408,
  ResourceNotFoundException: 404,
  ServiceQuotaExceededException: 400,
  ServiceUnavailableException: 503,
  ThrottlingException: 429,
  ValidationException: 400,
};

/** Default messages, worded like the real service's. */
export const ERROR_MESSAGE: Record<BedrockErrorType, string> = {
  AccessDeniedException: "You don't have access to the model with the specified model ID.",
  ConflictException: 'The request conflicts with the current state of the resource.',
  InternalServerException: 'The server encountered an internal error while processing the request.',
  ModelErrorException: 'The model returned an error while processing the request.',
  ModelNotReadyException: 'The model is not ready to serve inference requests.',
  ModelTimeoutException: 'Model has timed out in processing the request. Try your request again.',
  ResourceNotFoundException: 'The requested resource could not be found.',
  ServiceQuotaExceededException: 'Your request exceeds the service quota for your account.',
  ServiceUnavailableException: 'The service is temporarily unable to handle the request. Try again later.',
  ThrottlingException: 'Too many requests, please wait before trying again.',
  ValidationException: 'The request is invalid.',
};

/**
 * Exceptions that can arrive inside an event stream (camelCase union member names). ConverseStream models the first
 * five; InvokeModelWithResponseStream adds modelTimeoutException.
 */
export type StreamExceptionType =
  | 'internalServerException'
  | 'modelStreamErrorException'
  | 'serviceUnavailableException'
  | 'throttlingException'
  | 'validationException'
  | 'modelTimeoutException';

/**
 * What an HTTP error looks like under the restJson1 protocol: status from the error shape, the error code in the
 * `x-amzn-errortype` header (the SDK strips the `:namespace` suffix) and `{message}` in the body.
 */
export function errorResponse(type: string, message: string, status: number, extra: Record<string, unknown> = {}) {
  return {
    status,
    headers: {
      'content-type': 'application/json',
      'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    },
    body: JSON.stringify({ message, ...extra }),
  };
}

/** Thrown inside the simulator to turn into an HTTP error response. */
export class SimulatedBedrockError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number = ERROR_STATUS[type as BedrockErrorType] ?? 400,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = type;
  }
}

export const validationError = (message: string) => new SimulatedBedrockError('ValidationException', message, 400);
