import type { Readable } from 'node:stream';
import type { Invocation } from '../invocation.js';

/**
 * A response of the chat function (the /v1 function URL) before it is written: a status, headers, and either
 * JSON text or a stream of SSE frames. Every wire API's route returns one.
 */
export interface V1Response {
  statusCode: number;
  headers: Record<string, string>;
  body: string | Readable;
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): V1Response {
  return { statusCode: status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** What a /v1 route receives: the request id, lower-cased headers and the parsed JSON body. */
export interface V1Request {
  requestId: string;
  headers: Record<string, string | undefined>;
  body: unknown;
  /** The query string's parameters (e.g. `?beta=true`), when the route reads any. */
  query?: Record<string, string | undefined>;
  /** The invocation serving the request: a call's settlement after its last byte keeps it open (invocation.ts). */
  invocation?: Invocation;
}
