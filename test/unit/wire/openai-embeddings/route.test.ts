import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../../lambdas/core/errors.js';
import { parse } from '../../../../lambdas/core/validate.js';
import { embeddingsSchema, MAX_INPUTS, normalizeInput } from '../../../../lambdas/core/wire/openai-embeddings/route.js';

function gwErr(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GatewayError);
    return e as GatewayError;
  }
  throw new Error('expected a GatewayError');
}

describe('normalizeInput (OpenAI input → the neutral list of texts)', () => {
  it('accepts a string or an array of strings', () => {
    expect(normalizeInput('hi')).toEqual(['hi']);
    expect(normalizeInput(['a', 'b'])).toEqual(['a', 'b']);
    expect(normalizeInput(new Array(MAX_INPUTS).fill('x'))).toHaveLength(2048);
  });

  it.each([
    ['', /empty string/],
    [[], /empty array/],
    [['a', ''], /input\[1\]' must not be an empty string/],
    [[1, 2, 3], /token arrays are not supported/],
    [[[1, 2], [3]], /token arrays are not supported/],
    [['a', 1], /input\[1\]' must be a string/],
    [null, /string or an array/],
    [42, /string or an array/],
    [new Array(2049).fill('x'), /at most 2048/],
  ])('refuses %j', (input, msg) => {
    const e = gwErr(() => normalizeInput(input));
    expect(e.status).toBe(400);
    expect(e.param).toBe('input');
    expect(e.message).toMatch(msg);
  });
});

describe('embeddingsSchema', () => {
  const body = (over: Record<string, unknown>) => ({ model: 'emb', input: 'a', ...over });

  it('encoding_format: float or base64, nothing else', () => {
    expect(parse(embeddingsSchema, body({})).encoding_format).toBeUndefined();
    expect(parse(embeddingsSchema, body({ encoding_format: 'float' })).encoding_format).toBe('float');
    expect(parse(embeddingsSchema, body({ encoding_format: 'base64' })).encoding_format).toBe('base64');
    const e = gwErr(() => parse(embeddingsSchema, body({ encoding_format: 'binary' })));
    expect(e.status).toBe(400);
    expect(e.param).toBe('encoding_format');
  });

  it('dimensions must be a positive integer; unknown fields are accepted', () => {
    expect(gwErr(() => parse(embeddingsSchema, body({ dimensions: 0 }))).param).toBe('dimensions');
    expect(gwErr(() => parse(embeddingsSchema, body({ dimensions: 1.5 }))).param).toBe('dimensions');
    expect(parse(embeddingsSchema, body({ dimensions: 256, user: 'u', seed: 1 }))).toMatchObject({ dimensions: 256 });
  });

  it('needs a model', () => {
    expect(gwErr(() => parse(embeddingsSchema, { input: 'a' })).param).toBe('model');
  });
});
