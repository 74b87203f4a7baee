import { ERROR_TYPE_NAMES, type GatewayError } from '../../errors.js';
import { rateLimitHeaders } from '../../limits/types.js';
import { jsonResponse, type V1Response } from '../http.js';

/** OpenAI's error body, as openai-node and openai-python read it. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function openAIErrorBody(e: GatewayError): OpenAIErrorBody {
  return { error: { message: e.message, type: ERROR_TYPE_NAMES[e.kind], param: e.param, code: e.code } };
}

/**
 * Headers every OpenAI-shaped error carries: `x-should-retry: false` where a retry cannot help (the SDKs retry
 * 408/409/429/5xx otherwise), and `retry-after` when the gateway knows how long to wait.
 */
export function errorHeaders(e: GatewayError): Record<string, string> {
  const headers: Record<string, string> = rateLimitHeaders(e.rateLimit);
  if (e.retryable === false) headers['x-should-retry'] = 'false';
  if (e.retryAfter !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(e.retryAfter)));
  return headers;
}

/** An error as an OpenAI-shaped /v1 response with its real status. */
export function openAIErrorResponse(e: GatewayError, requestId: string): V1Response {
  return jsonResponse(e.status, openAIErrorBody(e), { 'x-request-id': requestId, ...errorHeaders(e) });
}
