import type { Readable } from 'node:stream';
import { GatewayError } from '../openai/errors.js';

/** A /v1 response before it is written: JSON text, or a stream of SSE frames. */
export interface V1Response {
  statusCode: number;
  headers: Record<string, string>;
  body: string | Readable;
}

export function v1Json(status: number, body: unknown, headers: Record<string, string> = {}): V1Response {
  return { statusCode: status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** OpenAI's error shape with a real status; quota refusals tell the SDKs not to retry. */
export function v1Error(err: GatewayError, requestId: string): V1Response {
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (err.retryable === false) headers['x-should-retry'] = 'false';
  return v1Json(err.status, err.toOpenAI(), headers);
}
