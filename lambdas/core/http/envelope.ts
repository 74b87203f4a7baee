import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ERROR_TYPE_NAMES, type GatewayError } from '../errors.js';
import { stringifyPlain } from '../json.js';

/** /admin and /user envelopes: `{success:true, data}` / `{success:false, error:{code, message}}`. */
export function ok(data: unknown, status = 200): APIGatewayProxyStructuredResultV2 {
  return json(status, { success: true, data });
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export function page<T>(all: T[], limit: number, offset: number): Page<T> {
  return { items: all.slice(offset, offset + limit), total: all.length, limit, offset };
}

export function fail(err: GatewayError): APIGatewayProxyStructuredResultV2 {
  const headers: Record<string, string> =
    err.retryAfter === undefined ? {} : { 'retry-after': String(Math.max(1, Math.ceil(err.retryAfter))) };
  return json(err.status, { success: false, error: { code: err.code ?? ERROR_TYPE_NAMES[err.kind], message: err.message } }, headers);
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    // Money reads as money: 0.00000002, never 2e-8 (JSON.stringify's form for numbers below 1e-6).
    body: stringifyPlain(body),
  };
}
