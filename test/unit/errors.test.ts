import { describe, expect, it } from 'vitest';
import {
  asGatewayError,
  ERROR_TYPE_NAMES,
  type ErrorKind,
  errors,
  GatewayError,
  isGatewayError,
  kindOfStatus,
} from '../../lambdas/core/errors.js';

describe('GatewayError', () => {
  it.each<[number, ErrorKind]>([
    [400, 'invalid_request'],
    [401, 'authentication'],
    [403, 'permission'],
    [404, 'not_found'],
    [408, 'timeout'],
    [409, 'conflict'],
    [413, 'payload_too_large'],
    [429, 'rate_limit'],
    [499, 'cancelled'],
    [500, 'upstream'],
    [502, 'upstream'],
    [503, 'overloaded'],
    [504, 'timeout'],
    [529, 'overloaded'],
  ])('status %d defaults to kind %s', (status, kind) => {
    expect(kindOfStatus(status)).toBe(kind);
    expect(new GatewayError(status, 'x').kind).toBe(kind);
  });

  it('an explicit kind wins; code and param default to null; the cause is kept', () => {
    const cause = new Error('raw');
    const e = new GatewayError(429, 'quota', { kind: 'insufficient_quota', retryable: false, cause });
    expect(e).toMatchObject({ status: 429, kind: 'insufficient_quota', code: null, param: null, retryable: false, name: 'GatewayError' });
    expect(e.cause).toBe(cause);
    expect(new GatewayError(400, 'x')).not.toHaveProperty('cause');
  });

  it('every kind has an OpenAI type name', () => {
    expect(Object.keys(ERROR_TYPE_NAMES).sort()).toEqual(
      [
        'authentication',
        'cancelled',
        'conflict',
        'insufficient_quota',
        'internal',
        'invalid_request',
        'not_found',
        'overloaded',
        'payload_too_large',
        'permission',
        'rate_limit',
        'timeout',
        'unavailable',
        'upstream',
      ].sort(),
    );
    expect(ERROR_TYPE_NAMES.rate_limit).toBe('rate_limit_error');
    expect(ERROR_TYPE_NAMES.internal).toBe('api_error');
  });

  it('the error constructors', () => {
    expect(errors.invalidApiKey()).toMatchObject({ status: 401, kind: 'authentication', code: 'invalid_api_key' });
    expect(errors.modelNotFound('m')).toMatchObject({ status: 404, kind: 'not_found', code: 'model_not_found', param: 'model' });
    expect(errors.insufficientQuota()).toMatchObject({ status: 429, kind: 'insufficient_quota', retryable: false });
    expect(errors.storeUnavailable()).toMatchObject({ status: 503, kind: 'unavailable', retryable: true, retryAfter: 2 });
    expect(errors.internal()).toMatchObject({ status: 500, kind: 'internal', code: 'internal_error', message: 'Internal error.' });
  });

  it('asGatewayError keeps gateway errors and hides anything else behind a bare 500', () => {
    const mine = errors.conflict('taken');
    expect(asGatewayError(mine, 'r')).toBe(mine);
    const hidden = asGatewayError(new Error('secret detail'), 'r');
    expect(isGatewayError(hidden)).toBe(true);
    expect(hidden).toMatchObject({ status: 500, message: 'Internal error.' });
    expect(isGatewayError(new Error('x'))).toBe(false);
  });
});
