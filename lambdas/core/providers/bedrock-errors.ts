import { GatewayError, isGatewayError } from '../errors.js';
import { sanitizeUpstreamMessage } from './sanitize-upstream-message.js';

/**
 * The one map from a Bedrock runtime failure — an SDK exception, an exception frame inside an event stream, a
 * network error, an abort — to the gateway's neutral error, for every Bedrock provider (Converse, InvokeModel for
 * Claude, embeddings). Each wire API renders the result in its own shape.
 *
 * As CONTRACT has it (throttling → 429 retryable, validation → 400, others → 502/503): ThrottlingException and
 * ServiceQuotaExceededException → 429 rate_limit · Validation → 400 with Bedrock's (sanitised) words ·
 * AccessDenied → 502 without the IAM text, ResourceNotFound → 502 (both the gateway's configuration, not the
 * caller's: a 403/404 would tell the caller its own key or model name is wrong) · ModelNotReady /
 * ServiceUnavailable → 503 overloaded (retryable) · ModelTimeout → 503 timeout (retryable) · an abort → 499
 * cancelled · anything else, and an unknown name, by its HTTP status when it has one, else 502.
 */
interface SdkErrorLike {
  name?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $retryable?: unknown;
}

/** `message` is already sanitised (ARNs and account ids redacted, length capped); the raw error stays in `cause`. */
type Rule = (message: string, cause: unknown) => GatewayError;

const CONTEXT_TOO_LONG = /too long|too many (input )?tokens|context (length|window)|exceeds? the (maximum|max)/i;

/** Seconds to suggest to a client after Bedrock throttled or was unavailable. */
const UPSTREAM_RETRY_AFTER_S = 2;

const upstream =
  (status: number, code: string, retryable?: boolean): Rule =>
  (message, cause) =>
    new GatewayError(status, `Bedrock: ${message}`, {
      code,
      retryable,
      cause,
      ...(retryable ? { retryAfter: UPSTREAM_RETRY_AFTER_S } : {}),
    });

// Keyed by the exception name with a lower-case first letter: event-stream frames name them that way
// ("throttlingException") when the SDK cannot model them, the SDK classes with an upper-case one.
const RULES: Record<string, Rule> = {
  throttlingException: (message, cause) =>
    new GatewayError(429, `Bedrock is throttling this model: ${message}`, {
      kind: 'rate_limit',
      code: 'throttled',
      retryable: true,
      retryAfter: UPSTREAM_RETRY_AFTER_S,
      cause,
    }),
  serviceQuotaExceededException: (message, cause) =>
    new GatewayError(429, `Bedrock service quota exceeded: ${message}`, { kind: 'rate_limit', code: 'upstream_quota_exceeded', cause }),
  // Bedrock's own words (sanitised) are the useful part of a validation error.
  validationException: (message, cause) =>
    new GatewayError(400, message, {
      kind: 'invalid_request',
      code: CONTEXT_TOO_LONG.test(message) ? 'context_length_exceeded' : 'upstream_validation_error',
      cause,
    }),
  // Bedrock's text names the gateway's IAM role and account: kept in `cause` for the logs, not sent to clients.
  accessDeniedException: (_message, cause) =>
    new GatewayError(502, 'The gateway is not allowed to invoke this model on Bedrock (check model access and IAM).', {
      kind: 'upstream',
      code: 'upstream_access_denied',
      cause,
    }),
  resourceNotFoundException: (_message, cause) =>
    new GatewayError(502, "Bedrock could not find this model's configured modelId in its region.", {
      kind: 'upstream',
      code: 'upstream_model_not_found',
      cause,
    }),
  modelNotReadyException: upstream(503, 'upstream_unavailable', true),
  serviceUnavailableException: upstream(503, 'upstream_unavailable', true),
  modelTimeoutException: (message, cause) =>
    new GatewayError(503, `Bedrock: ${message}`, {
      kind: 'timeout',
      code: 'upstream_timeout',
      retryable: true,
      retryAfter: UPSTREAM_RETRY_AFTER_S,
      cause,
    }),
  modelErrorException: upstream(502, 'upstream_error'),
  modelStreamErrorException: upstream(502, 'upstream_error'),
  internalServerException: upstream(502, 'upstream_error'),
  abortError: (_message, cause) =>
    new GatewayError(499, 'The request was cancelled.', { kind: 'cancelled', code: 'request_cancelled', cause }),
};

const RULE_BY_STATUS: Record<number, string> = {
  400: 'validationException',
  403: 'accessDeniedException',
  404: 'resourceNotFoundException',
  408: 'modelTimeoutException',
  429: 'throttlingException',
  503: 'serviceUnavailableException',
};

export function mapBedrockError(err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorLike;
  const name = typeof e.name === 'string' ? e.name : '';
  // Upstream text reaches clients and thread records: sanitised once here, for every rule.
  const raw = typeof e.message === 'string' ? sanitizeUpstreamMessage(e.message) : '';
  const message = raw || sanitizeUpstreamMessage(name) || 'Unknown upstream error';
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const key = name.charAt(0).toLowerCase() + name.slice(1);
  const rule = RULES[key] ?? (status !== undefined ? RULES[RULE_BY_STATUS[status] ?? ''] : undefined);
  return rule ? rule(message, err) : upstream(502, 'upstream_error')(message, err);
}
