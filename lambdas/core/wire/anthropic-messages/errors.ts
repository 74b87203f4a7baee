/**
 * Errors in Anthropic's shape, `{"type":"error","error":{"type","message"},"request_id"}` with a `request-id`
 * header, each kind of GatewayError at the status Anthropic's SDKs and Claude Code read it by (CONTRACT): a quota
 * and balance used up is 402 billing_error (not worth a retry), a per-key limit or Bedrock throttling 429
 * rate_limit_error with retry-after, Bedrock or the gateway's store unavailable 529 overloaded_error.
 */
import { rateLimitHeaders } from '../../limits/types.js';
import type { ErrorKind, GatewayError } from '../../errors.js';
import { jsonResponse, type V1Response } from '../http.js';
import type { ErrorBody } from './types.js';

const BY_KIND: Readonly<Record<ErrorKind, { status: number; type: string }>> = {
  invalid_request: { status: 400, type: 'invalid_request_error' },
  conflict: { status: 400, type: 'invalid_request_error' },
  authentication: { status: 401, type: 'authentication_error' },
  insufficient_quota: { status: 402, type: 'billing_error' },
  permission: { status: 403, type: 'permission_error' },
  not_found: { status: 404, type: 'not_found_error' },
  payload_too_large: { status: 413, type: 'request_too_large' },
  rate_limit: { status: 429, type: 'rate_limit_error' },
  overloaded: { status: 529, type: 'overloaded_error' },
  unavailable: { status: 529, type: 'overloaded_error' },
  // An upstream that did not answer in time is "Bedrock unavailable" (CONTRACT's 529, which Claude Code retries).
  timeout: { status: 529, type: 'overloaded_error' },
  upstream: { status: 500, type: 'api_error' },
  cancelled: { status: 500, type: 'api_error' },
  internal: { status: 500, type: 'api_error' },
};

/** Seconds to wait suggested on a 429 or 529 when the error names none (Anthropic always sends one). */
const DEFAULT_RETRY_AFTER_S = 1;

function anthropicErrorType(e: GatewayError): { status: number; type: string } {
  return BY_KIND[e.kind];
}

export function anthropicErrorBody(e: GatewayError, requestId: string): ErrorBody {
  return { type: 'error', error: { type: BY_KIND[e.kind].type, message: e.message }, request_id: requestId };
}

function anthropicErrorHeaders(e: GatewayError, requestId: string): Record<string, string> {
  const { status } = anthropicErrorType(e);
  const headers: Record<string, string> = { 'request-id': requestId, 'x-request-id': requestId, ...rateLimitHeaders(e.rateLimit) };
  if (e.retryable === false) headers['x-should-retry'] = 'false';
  if (status === 429 || status === 529 || e.retryAfter !== undefined) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(e.retryAfter ?? DEFAULT_RETRY_AFTER_S)));
  }
  return headers;
}

export function anthropicErrorResponse(e: GatewayError, requestId: string): V1Response {
  return jsonResponse(anthropicErrorType(e).status, anthropicErrorBody(e, requestId), anthropicErrorHeaders(e, requestId));
}
