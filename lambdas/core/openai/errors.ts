import type { OpenAIErrorBody } from './types.js';

/**
 * The one error type the gateway throws on purpose. Carries the HTTP status and OpenAI's error fields so that
 * every edge (/v1, /admin, /user) can render it in its own envelope.
 */
export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  /** false → `x-should-retry: false` (openai SDKs otherwise retry 408/409/429/5xx). */
  readonly retryable: boolean | undefined;

  constructor(
    status: number,
    message: string,
    opts: { type?: string; code?: string | null; param?: string | null; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GatewayError';
    this.status = status;
    this.type = opts.type ?? defaultType(status);
    this.code = opts.code ?? null;
    this.param = opts.param ?? null;
    this.retryable = opts.retryable;
  }

  toOpenAI(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

function defaultType(status: number): string {
  if (status === 401) return 'invalid_request_error';
  if (status === 403) return 'permission_denied';
  if (status === 404) return 'invalid_request_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

export const errors = {
  badRequest: (message: string, param: string | null = null, code: string | null = null) =>
    new GatewayError(400, message, { type: 'invalid_request_error', param, code }),
  invalidApiKey: () => new GatewayError(401, 'Incorrect API key provided.', { type: 'invalid_request_error', code: 'invalid_api_key' }),
  forbidden: (message: string, code: string | null = 'forbidden') => new GatewayError(403, message, { type: 'permission_denied', code }),
  modelNotPermitted: (model: string) =>
    new GatewayError(403, `This key may not use model '${model}'.`, {
      type: 'permission_denied',
      code: 'model_not_permitted',
      param: 'model',
    }),
  modelNotFound: (model: string) =>
    new GatewayError(404, `The model '${model}' does not exist.`, {
      type: 'invalid_request_error',
      code: 'model_not_found',
      param: 'model',
    }),
  notFound: (message: string) => new GatewayError(404, message, { type: 'invalid_request_error', code: 'not_found' }),
  conflict: (message: string) => new GatewayError(409, message, { type: 'invalid_request_error', code: 'conflict' }),
  insufficientQuota: (message = 'You exceeded your current quota and your balance is empty.') =>
    new GatewayError(429, message, { type: 'insufficient_quota', code: 'insufficient_quota', retryable: false }),
  internal: (message = 'Internal error.') => new GatewayError(500, message, { type: 'api_error', code: 'internal_error' }),
};

export function isGatewayError(e: unknown): e is GatewayError {
  return e instanceof GatewayError;
}
