/**
 * The one Bedrock error map (providers/bedrock-errors.ts), shared by Converse, InvokeModel and embeddings. These
 * cases used to be split between the Converse map (chat) and a second, divergent embeddings map; both now assert
 * the unified behaviour.
 */
import { AccessDeniedException, ModelTimeoutException, ThrottlingException, ValidationException } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { ERROR_TYPE_NAMES, errors, GatewayError } from '../../../lambdas/core/errors.js';
import { mapBedrockError } from '../../../lambdas/core/providers/bedrock-errors.js';
import { errorHeaders, openAIErrorBody } from '../../../lambdas/core/wire/openai/errors.js';

const sdkError = (name: string, message: string, status?: number) =>
  Object.assign(new Error(message), { name, $metadata: status ? { httpStatusCode: status } : {} });
const named = (name: string, message = 'm') => Object.assign(new Error(message), { name });

describe('mapBedrockError', () => {
  it('throttling → 429 rate_limit (OpenAI rate_limit_error), retryable, with a retry-after', () => {
    const e = mapBedrockError(new ThrottlingException({ message: 'Too many requests', $metadata: { httpStatusCode: 429 } }));
    expect(e).toMatchObject({ status: 429, kind: 'rate_limit', code: 'throttled', retryable: true, retryAfter: 2 });
    expect(ERROR_TYPE_NAMES[e.kind]).toBe('rate_limit_error');
    expect(errorHeaders(e)).toEqual({ 'retry-after': '2' });
  });

  it("validation → 400 with Bedrock's message", () => {
    const e = mapBedrockError(
      new ValidationException({ message: 'The model returned the following errors: temperature: range', $metadata: {} }),
    );
    expect(e).toMatchObject({
      status: 400,
      kind: 'invalid_request',
      message: 'The model returned the following errors: temperature: range',
    });
    expect(ERROR_TYPE_NAMES[e.kind]).toBe('invalid_request_error');
  });

  it.each([
    ['ValidationException', 400],
    ['InternalServerException', 502],
    ['ServiceUnavailableException', 503],
    ['ModelErrorException', 502],
    ['ModelStreamErrorException', 502],
    ['ThrottlingException', 429],
    ['ServiceQuotaExceededException', 429],
    ['AccessDeniedException', 502],
    ['SomethingNew', 502],
  ])('%s: ARNs and account ids never reach the client message', (name, status) => {
    const e = mapBedrockError(
      sdkError(name, 'Profile arn:aws:bedrock:us-east-1:123456789012:inference-profile/x failed for account 123456789012'),
    );
    expect(e.status).toBe(status);
    expect(e.message).not.toContain('123456789012');
    expect(openAIErrorBody(e).error.message).not.toContain('123456789012');
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
    const embeddings = mapBedrockError(
      named('ValidationException', 'Malformed input request: arn:aws:bedrock:us-east-1:123456789012:inference-profile/x is bad'),
    );
    expect(embeddings.message).toContain('Malformed input request');
    expect(embeddings.message).not.toContain('123456789012');
  });

  it("a context-length validation error gets OpenAI's code", () => {
    expect(mapBedrockError(sdkError('ValidationException', 'Input is too long for requested model.')).code).toBe('context_length_exceeded');
    expect(mapBedrockError(sdkError('ValidationException', 'temperature out of range')).code).toBe('upstream_validation_error');
  });

  it('access denied → 502 (the gateway’s IAM, not the caller’s key) without leaking the IAM text', () => {
    const e = mapBedrockError(
      new AccessDeniedException({ message: 'User: arn:aws:sts::123456789012:assumed-role/x is not authorized', $metadata: {} }),
    );
    expect(e).toMatchObject({ status: 502, kind: 'upstream', code: 'upstream_access_denied' });
    expect(ERROR_TYPE_NAMES[e.kind]).toBe('api_error');
    expect(e.message).not.toMatch(/123456789012/);
    expect(e.message).not.toMatch(/assumed-role/);
  });

  it.each([
    ['ResourceNotFoundException', 502, 'upstream_model_not_found', 'upstream'],
    ['ModelNotReadyException', 503, 'upstream_unavailable', 'overloaded'],
    ['ServiceUnavailableException', 503, 'upstream_unavailable', 'overloaded'],
    ['ModelTimeoutException', 503, 'upstream_timeout', 'timeout'],
    ['ModelErrorException', 502, 'upstream_error', 'upstream'],
    ['InternalServerException', 502, 'upstream_error', 'upstream'],
    ['ModelStreamErrorException', 502, 'upstream_error', 'upstream'],
    ['ServiceQuotaExceededException', 429, 'upstream_quota_exceeded', 'rate_limit'],
    ['SomethingNew', 502, 'upstream_error', 'upstream'],
    ['TypeError', 502, 'upstream_error', 'upstream'],
    ['throttlingException', 429, 'throttled', 'rate_limit'], // unmodelled event-stream exception names
    ['AbortError', 499, 'request_cancelled', 'cancelled'],
  ])('%s → %d %s (%s)', (name, status, code, kind) => {
    expect(mapBedrockError(sdkError(name, 'x'))).toMatchObject({ status, code, kind });
  });

  // What a client may do next, for chat and embeddings alike (the embeddings map used to differ: quota
  // exceeded said "do not retry", a model timeout said nothing).
  it.each([
    ['ThrottlingException', true],
    ['ServiceQuotaExceededException', undefined],
    ['ValidationException', undefined],
    ['AccessDeniedException', undefined],
    ['ResourceNotFoundException', undefined],
    ['ModelNotReadyException', true],
    ['ServiceUnavailableException', true],
    ['ModelTimeoutException', true],
    ['ModelErrorException', undefined],
    ['InternalServerException', undefined],
    ['TypeError', undefined],
  ])('%s: retryable %s', (name, retryable) => {
    const e = mapBedrockError(named(name));
    expect(e).toBeInstanceOf(GatewayError);
    expect(e.retryable).toBe(retryable);
    expect(e.retryAfter).toBe(retryable ? 2 : undefined);
  });

  it('model timeout → 503 (CONTRACT: upstream failures other than throttling and validation are 502/503)', () => {
    expect(mapBedrockError(new ModelTimeoutException({ message: 'slow', $metadata: {} })).status).toBe(503);
  });

  it('an abort is a 499 cancelled, not an upstream failure', () => {
    const e = mapBedrockError(new DOMException('The operation was aborted.', 'AbortError'));
    expect(e).toMatchObject({ status: 499, kind: 'cancelled', code: 'request_cancelled', message: 'The request was cancelled.' });
  });

  it('falls back on the HTTP status when the name is unknown', () => {
    expect(mapBedrockError(sdkError('Weird', 'x', 429)).status).toBe(429);
    expect(mapBedrockError(sdkError('Weird', 'x', 400)).status).toBe(400);
    expect(mapBedrockError(sdkError('Weird', 'x', 403)).code).toBe('upstream_access_denied');
    expect(mapBedrockError(sdkError('Weird', 'x', 500)).status).toBe(502);
  });

  it('leaves GatewayErrors alone and survives non-errors', () => {
    const g = new GatewayError(400, 'mine');
    expect(mapBedrockError(g)).toBe(g);
    const b = errors.badRequest('x');
    expect(mapBedrockError(b)).toBe(b);
    expect(mapBedrockError('boom')).toMatchObject({ status: 502 });
    expect(mapBedrockError(null)).toMatchObject({ status: 502 });
    expect(mapBedrockError(undefined)).toMatchObject({ status: 502, message: 'Bedrock: Unknown upstream error' });
  });

  it('an unknown failure shows its own (sanitised) message, else its name', () => {
    expect(mapBedrockError(named('weird name!')).message).toBe('Bedrock: m');
    expect(mapBedrockError(named('weird name!', '')).message).toBe('Bedrock: weird name!');
    expect(mapBedrockError(named('Oops', 'for arn:aws:iam::123456789012:role/gw')).message).toBe('Bedrock: for arn:…');
  });

  it('keeps the raw error as the cause (for the logs only)', () => {
    const raw = sdkError('AccessDeniedException', 'User: arn:aws:sts::123456789012:assumed-role/x');
    expect(mapBedrockError(raw).cause).toBe(raw);
  });

  it('renders as the in-band OpenAI stream error object', () => {
    expect(openAIErrorBody(mapBedrockError(sdkError('ThrottlingException', 'slow down')))).toEqual({
      error: { message: expect.stringContaining('slow down'), type: 'rate_limit_error', param: null, code: 'throttled' },
    });
  });
});
