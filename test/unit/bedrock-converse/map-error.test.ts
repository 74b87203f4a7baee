import { describe, expect, it } from 'vitest';
import { AccessDeniedException, ModelTimeoutException, ThrottlingException, ValidationException } from '@aws-sdk/client-bedrock-runtime';
import { GatewayError } from '../../../lambdas/core/openai/errors.js';
import { mapBedrockError, streamErrorBody } from '../../../lambdas/core/providers/bedrock-converse/map-error.js';

const sdkError = (name: string, message: string, status?: number) =>
  Object.assign(new Error(message), { name, $metadata: status ? { httpStatusCode: status } : {} });

describe('mapBedrockError', () => {
  it('throttling → 429 rate_limit_error, retryable', () => {
    const e = mapBedrockError(new ThrottlingException({ message: 'Too many requests', $metadata: { httpStatusCode: 429 } }));
    expect(e).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'throttled', retryable: true });
  });

  it("validation → 400 with Bedrock's message", () => {
    const e = mapBedrockError(
      new ValidationException({ message: 'The model returned the following errors: temperature: range', $metadata: {} }),
    );
    expect(e).toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      message: 'The model returned the following errors: temperature: range',
    });
  });

  it.each([
    ['ValidationException', 400],
    ['InternalServerException', 502],
    ['ServiceUnavailableException', 503],
    ['ModelErrorException', 502],
    ['ModelStreamErrorException', 502],
    ['ThrottlingException', 429],
    ['ServiceQuotaExceededException', 429],
    ['SomethingNew', 502],
  ])('%s: ARNs and account ids never reach the client message', (name, status) => {
    const e = mapBedrockError(
      sdkError(name, 'Profile arn:aws:bedrock:us-east-1:123456789012:inference-profile/x failed for account 123456789012'),
    );
    expect(e.status).toBe(status);
    expect(e.message).not.toContain('123456789012');
    expect(e.toOpenAI().error.message).not.toContain('123456789012');
  });

  it('keeps the useful part of a validation message and truncates a very long one', () => {
    const e = mapBedrockError(
      sdkError(
        'ValidationException',
        'The provided model identifier arn:aws:bedrock:us-east-1:123456789012:inference-profile/x is invalid.',
      ),
    );
    expect(e.message).toBe('The provided model identifier arn:… is invalid.');
    expect(mapBedrockError(sdkError('ValidationException', `bad ${'x'.repeat(10_000)}`)).message.length).toBeLessThan(1000);
  });

  it("a context-length validation error gets OpenAI's code", () => {
    expect(mapBedrockError(sdkError('ValidationException', 'Input is too long for requested model.')).code).toBe('context_length_exceeded');
  });

  it('access denied → 403 without leaking the IAM text', () => {
    const e = mapBedrockError(
      new AccessDeniedException({ message: 'User: arn:aws:sts::123456789012:assumed-role/x is not authorized', $metadata: {} }),
    );
    expect(e).toMatchObject({ status: 403, type: 'permission_denied', code: 'upstream_access_denied' });
    expect(e.message).not.toMatch(/123456789012/);
  });

  it.each([
    ['ResourceNotFoundException', 404, 'upstream_model_not_found'],
    ['ModelNotReadyException', 503, 'upstream_unavailable'],
    ['ServiceUnavailableException', 503, 'upstream_unavailable'],
    ['ModelErrorException', 502, 'upstream_error'],
    ['InternalServerException', 502, 'upstream_error'],
    ['ModelStreamErrorException', 502, 'upstream_error'],
    ['ServiceQuotaExceededException', 429, 'upstream_quota_exceeded'],
    ['SomethingNew', 502, 'upstream_error'],
    ['throttlingException', 429, 'throttled'], // unmodelled event-stream exception names
  ])('%s → %d %s', (name, status, code) => {
    expect(mapBedrockError(sdkError(name, 'x'))).toMatchObject({ status, code });
  });

  it('model timeout → 408', () => {
    expect(mapBedrockError(new ModelTimeoutException({ message: 'slow', $metadata: {} })).status).toBe(408);
  });

  it('falls back on the HTTP status when the name is unknown', () => {
    expect(mapBedrockError(sdkError('Weird', 'x', 429)).status).toBe(429);
    expect(mapBedrockError(sdkError('Weird', 'x', 400)).status).toBe(400);
    expect(mapBedrockError(sdkError('Weird', 'x', 500)).status).toBe(502);
  });

  it('leaves GatewayErrors alone and survives non-errors', () => {
    const g = new GatewayError(400, 'mine');
    expect(mapBedrockError(g)).toBe(g);
    expect(mapBedrockError('boom')).toMatchObject({ status: 502 });
    expect(mapBedrockError(null)).toMatchObject({ status: 502 });
  });

  it('renders the in-band stream error object', () => {
    expect(streamErrorBody(sdkError('ThrottlingException', 'slow down'))).toEqual({
      error: { message: expect.stringContaining('slow down'), type: 'rate_limit_error', param: null, code: 'throttled' },
    });
  });
});
