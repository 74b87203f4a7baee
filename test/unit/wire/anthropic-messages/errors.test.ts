import { describe, expect, it } from 'vitest';
import { errors, type ErrorKind, GatewayError } from '../../../../lambdas/core/errors.js';
import { mapBedrockError } from '../../../../lambdas/core/providers/bedrock-errors.js';
import { anthropicErrorResponse } from '../../../../lambdas/core/wire/anthropic-messages/errors.js';

const render = (e: GatewayError) => {
  const r = anthropicErrorResponse(e, 'req-1');
  return {
    status: r.statusCode,
    headers: r.headers,
    body: JSON.parse(r.body as string) as { type: string; error: { type: string; message: string }; request_id: string },
  };
};

describe('GatewayError → Anthropic’s error shape, by kind', () => {
  it.each<[ErrorKind, number, string]>([
    ['invalid_request', 400, 'invalid_request_error'],
    ['authentication', 401, 'authentication_error'],
    ['insufficient_quota', 402, 'billing_error'],
    ['permission', 403, 'permission_error'],
    ['not_found', 404, 'not_found_error'],
    ['payload_too_large', 413, 'request_too_large'],
    ['rate_limit', 429, 'rate_limit_error'],
    ['overloaded', 529, 'overloaded_error'],
    ['unavailable', 529, 'overloaded_error'],
    ['timeout', 529, 'overloaded_error'],
    ['upstream', 500, 'api_error'],
    ['internal', 500, 'api_error'],
  ])('%s → %i %s', (kind, status, type) => {
    const r = render(new GatewayError(418, 'what happened', { kind }));
    expect(r.status).toBe(status);
    expect(r.body).toEqual({ type: 'error', error: { type, message: 'what happened' }, request_id: 'req-1' });
    expect(r.headers['request-id']).toBe('req-1');
  });

  it('429 and 529 always carry retry-after; a refusal that cannot be helped by retrying says x-should-retry: false', () => {
    expect(render(new GatewayError(429, 'limit', { kind: 'rate_limit' })).headers['retry-after']).toBe('1');
    expect(render(mapBedrockError({ name: 'ThrottlingException', message: 'slow' })).headers['retry-after']).toBe('2');
    expect(render(errors.storeUnavailable()).headers).toMatchObject({ 'retry-after': '2' });
    expect(render(errors.storeUnavailable()).status).toBe(529);
    const quota = render(errors.insufficientQuota());
    expect([quota.status, quota.body.error.type, quota.headers['x-should-retry']]).toEqual([402, 'billing_error', 'false']);
    expect(render(errors.badRequest('x')).headers).not.toHaveProperty('retry-after');
  });

  it('Bedrock failures through the one Bedrock error map', () => {
    expect(render(mapBedrockError({ name: 'ServiceUnavailableException', message: 'down' })).status).toBe(529);
    expect(render(mapBedrockError({ name: 'ModelNotReadyException', message: 'warming' })).status).toBe(529);
    expect(render(mapBedrockError({ name: 'ValidationException', message: 'bad' })).body.error).toEqual({
      type: 'invalid_request_error',
      message: 'bad',
    });
    expect(render(mapBedrockError({ name: 'ModelTimeoutException', message: 'slow' })).status).toBe(529);
    expect(render(mapBedrockError({ name: 'AccessDeniedException', message: 'no' })).body.error.type).toBe('api_error');
    expect(render(mapBedrockError({ name: 'ResourceNotFoundException', message: 'gone' })).status).toBe(500);
  });
});
