import { describe, expect, it } from 'vitest';
import { errors, GatewayError } from '../../../../lambdas/core/errors.js';
import { errorHeaders, openAIErrorBody, openAIErrorResponse } from '../../../../lambdas/core/wire/openai/errors.js';

describe('OpenAI error rendering', () => {
  it("the body is OpenAI's {error:{message,type,param,code}}, type from the error's kind", () => {
    expect(openAIErrorBody(errors.badRequest('bad', 'messages', 'some_code'))).toEqual({
      error: { message: 'bad', type: 'invalid_request_error', param: 'messages', code: 'some_code' },
    });
    expect(openAIErrorBody(errors.insufficientQuota()).error.type).toBe('insufficient_quota');
    expect(openAIErrorBody(errors.forbidden('no')).error).toMatchObject({ type: 'permission_denied', code: 'forbidden' });
    expect(openAIErrorBody(errors.modelNotFound('m')).error).toMatchObject({
      type: 'invalid_request_error',
      param: 'model',
      code: 'model_not_found',
    });
    expect(openAIErrorBody(new GatewayError(503, 'busy')).error).toMatchObject({ type: 'api_error', param: null, code: null });
  });

  it('headers: x-should-retry false where a retry cannot help, retry-after in whole seconds when known', () => {
    expect(errorHeaders(errors.insufficientQuota())).toEqual({ 'x-should-retry': 'false' });
    expect(errorHeaders(errors.storeUnavailable())).toEqual({ 'retry-after': '2' });
    expect(errorHeaders(new GatewayError(429, 'x', { retryAfter: 0.2 }))).toEqual({ 'retry-after': '1' });
    expect(errorHeaders(new GatewayError(429, 'x', { retryAfter: 2.5 }))).toEqual({ 'retry-after': '3' });
    expect(errorHeaders(errors.badRequest('x'))).toEqual({});
  });

  it('the response has the real status, the request id and the headers', () => {
    const res = openAIErrorResponse(errors.insufficientQuota(), 'req-1');
    expect(res.statusCode).toBe(429);
    expect(res.headers).toMatchObject({ 'content-type': 'application/json', 'x-request-id': 'req-1', 'x-should-retry': 'false' });
    expect(JSON.parse(res.body as string)).toEqual(openAIErrorBody(errors.insufficientQuota()));
  });
});
