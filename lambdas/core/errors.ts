/**
 * The one error type the gateway throws on purpose. It is neutral: a kind, an HTTP status, a stable code, whether
 * a retry may help (and after how long), and a message that is safe to show (upstream text already sanitised).
 * Each edge renders it in its own shape — OpenAI's `{error:{message,type,param,code}}` (wire/openai-chat), Anthropic's
 * `{type:"error",error:{type,message}}` (wire/anthropic-messages), the `{success:false,error}` envelope of /admin and
 * /user (http/envelope.ts) — so nothing inside the core knows which wire API it serves.
 */
import type { RateSnapshot } from './limits/types.js';
import type { TokenUsage } from './usage.js';
import { logger } from './log.js';

export type ErrorKind =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  /** Quota and balance used up: retrying does not help. */
  | 'insufficient_quota'
  /** Too many requests (a per-key limit or upstream throttling): retrying later helps. */
  | 'rate_limit'
  /** The upstream is overloaded or unavailable. */
  | 'overloaded'
  /** The gateway's own store (or another dependency) is unreachable: fail closed. */
  | 'unavailable'
  | 'timeout'
  /** The upstream failed in a way that is not the caller's fault. */
  | 'upstream'
  | 'cancelled'
  | 'internal';

/**
 * The name an error of each kind goes by where it has no code of its own (OpenAI's error types, which the /admin and
 * /user envelopes have always used as their fallback `code`, and OpenAI routes use as `type`).
 */
export const ERROR_TYPE_NAMES: Readonly<Record<ErrorKind, string>> = {
  invalid_request: 'invalid_request_error',
  authentication: 'invalid_request_error',
  permission: 'permission_denied',
  not_found: 'invalid_request_error',
  conflict: 'invalid_request_error',
  payload_too_large: 'invalid_request_error',
  insufficient_quota: 'insufficient_quota',
  rate_limit: 'rate_limit_error',
  overloaded: 'api_error',
  unavailable: 'api_error',
  timeout: 'api_error',
  upstream: 'api_error',
  cancelled: 'api_error',
  internal: 'api_error',
};

export interface GatewayErrorOptions {
  kind?: ErrorKind;
  code?: string | null;
  param?: string | null;
  /** false → clients are told not to retry (`x-should-retry: false`); true → a retry may succeed. */
  retryable?: boolean;
  /** Seconds a client should wait before retrying (`retry-after`). */
  retryAfter?: number;
  /** A rate-limited key's window state, for the x-ratelimit-* headers of the refusal. */
  rateLimit?: RateSnapshot;
  /** Tokens the upstream had already used when the call failed (e.g. the finished calls of an embeddings batch): billed. */
  spent?: TokenUsage;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly kind: ErrorKind;
  readonly code: string | null;
  readonly param: string | null;
  readonly retryable: boolean | undefined;
  readonly retryAfter: number | undefined;
  readonly rateLimit: RateSnapshot | undefined;
  readonly spent: TokenUsage | undefined;

  constructor(status: number, message: string, opts: GatewayErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GatewayError';
    this.status = status;
    this.kind = opts.kind ?? kindOfStatus(status);
    this.code = opts.code ?? null;
    this.param = opts.param ?? null;
    this.retryable = opts.retryable;
    this.retryAfter = opts.retryAfter;
    this.rateLimit = opts.rateLimit;
    this.spent = opts.spent;
  }
}

export function kindOfStatus(status: number): ErrorKind {
  if (status === 401) return 'authentication';
  if (status === 403) return 'permission';
  if (status === 404) return 'not_found';
  if (status === 408 || status === 504) return 'timeout';
  if (status === 409) return 'conflict';
  if (status === 413) return 'payload_too_large';
  if (status === 429) return 'rate_limit';
  if (status === 499) return 'cancelled';
  if (status === 503 || status === 529) return 'overloaded';
  if (status >= 500) return 'upstream';
  return 'invalid_request';
}

export const errors = {
  badRequest: (message: string, param: string | null = null, code: string | null = null) =>
    new GatewayError(400, message, { kind: 'invalid_request', param, code }),
  invalidApiKey: (message = 'Incorrect API key provided.', code = 'invalid_api_key') =>
    new GatewayError(401, message, { kind: 'authentication', code }),
  forbidden: (message: string, code: string | null = 'forbidden') => new GatewayError(403, message, { kind: 'permission', code }),
  modelNotFound: (model: string) =>
    new GatewayError(404, `The model '${model}' does not exist.`, {
      kind: 'not_found',
      code: 'model_not_found',
      param: 'model',
    }),
  notFound: (message: string) => new GatewayError(404, message, { kind: 'not_found', code: 'not_found' }),
  conflict: (message: string) => new GatewayError(409, message, { kind: 'conflict', code: 'conflict' }),
  insufficientQuota: (message = 'You exceeded your current quota and your balance is empty.') =>
    new GatewayError(429, message, { kind: 'insufficient_quota', code: 'insufficient_quota', retryable: false }),
  /**
   * The key has money left, but the calls it has in flight hold all of it (their reservations): a moment's wait,
   * not an empty key — retryable, and a rate limit on every wire API (not Anthropic's 402 billing_error).
   */
  reservedInFlight: () =>
    new GatewayError(
      429,
      "The key's calls in flight hold all of its remaining money until they finish (each reserves its possible cost); retry shortly.",
      { kind: 'rate_limit', code: 'reserved_by_calls_in_flight', retryable: true, retryAfter: 1 },
    ),
  /** The store (DynamoDB) failed: nothing was done, the client may retry shortly. */
  storeUnavailable: (cause?: unknown) =>
    new GatewayError(503, 'The gateway cannot reach its database right now; nothing was done. Retry shortly.', {
      kind: 'unavailable',
      code: 'service_unavailable',
      retryable: true,
      retryAfter: 2,
      cause,
    }),
  /** An upstream stream that ended before the model's finish: it was cut off (a dropped connection looks the same). */
  streamIncomplete: () =>
    new GatewayError(502, 'The upstream stream ended before the model finished its answer.', {
      kind: 'upstream',
      code: 'upstream_stream_incomplete',
    }),
  internal: (message = 'Internal error.') => new GatewayError(500, message, { kind: 'internal', code: 'internal_error' }),
};

export function isGatewayError(e: unknown): e is GatewayError {
  return e instanceof GatewayError;
}

/** Any failure as a GatewayError; an unexpected one is logged (with the request id) and shown as a bare 500. */
export function asGatewayError(e: unknown, requestId: string): GatewayError {
  if (isGatewayError(e)) return e;
  logger.error('unexpected error', { requestId, error: e as Error });
  return errors.internal();
}
