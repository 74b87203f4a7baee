import { describe, expect, it } from 'vitest';
import { GatewayError, errors } from '../../../lambdas/core/openai/errors.js';
import { mapBedrockError } from '../../../lambdas/core/providers/bedrock-embeddings/map-error.js';

const named = (name: string, message = 'm') => Object.assign(new Error(message), { name });

describe('mapBedrockError', () => {
  it.each([
    ['ThrottlingException', 429, true],
    ['ServiceQuotaExceededException', 429, false],
    ['ValidationException', 400, undefined],
    ['AccessDeniedException', 403, undefined],
    ['ResourceNotFoundException', 404, undefined],
    ['ModelNotReadyException', 503, true],
    ['ServiceUnavailableException', 503, true],
    ['ModelTimeoutException', 408, undefined],
    ['ModelErrorException', 502, undefined],
    ['InternalServerException', 502, undefined],
    ['TypeError', 502, undefined],
  ])('%s → %i', (name, status, retryable) => {
    const e = mapBedrockError(named(name));
    expect(e).toBeInstanceOf(GatewayError);
    expect(e.status).toBe(status);
    expect(e.retryable).toBe(retryable);
  });

  it('keeps validation messages but strips ARNs', () => {
    const e = mapBedrockError(
      named('ValidationException', 'Malformed input request: arn:aws:bedrock:us-east-1:123456789012:inference-profile/x is bad'),
    );
    expect(e.message).toContain('Malformed input request');
    expect(e.message).not.toContain('123456789012');
  });

  it('does not leak AccessDenied details (role ARNs)', () => {
    const e = mapBedrockError(named('AccessDeniedException', 'User: arn:aws:sts::123456789012:assumed-role/gw/fn is not authorized'));
    expect(e.message).not.toContain('123456789012');
    expect(e.type).toBe('permission_denied');
  });

  it('passes GatewayErrors through and survives non-errors', () => {
    const g = errors.badRequest('x');
    expect(mapBedrockError(g)).toBe(g);
    expect(mapBedrockError(undefined).status).toBe(502);
    expect(mapBedrockError('string').status).toBe(502);
    expect(mapBedrockError(named('weird name!')).message).toBe('Bedrock request failed (unknown error).');
  });
});
