import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../../lambdas/core/errors.js';
import { chatProvider, embeddingsProvider, providerNames, validateModelConfig } from '../../../lambdas/core/providers/registry.js';

const refusal = async (p: Promise<unknown>) => {
  const e: unknown = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  return isGatewayError(e) ? { status: e.status, message: e.message } : e;
};

describe('provider registry', () => {
  it('names every provider and loads each module once (the same object every call)', async () => {
    expect(providerNames()).toEqual(['bedrock-converse', 'bedrock-embeddings', 'openai-compatible', 'openai-compatible-embeddings']);
    const [a, b] = await Promise.all([chatProvider('bedrock-converse'), chatProvider('bedrock-converse')]);
    expect(a).toBe(b);
    expect(a.kind).toBe('chat');
    expect((await embeddingsProvider('bedrock-embeddings')).kind).toBe('embeddings');
  });

  it('a provider of the other kind is a 400 naming what the model cannot do', async () => {
    expect(await refusal(chatProvider('bedrock-embeddings'))).toMatchObject({ status: 400, message: expect.stringContaining('chat') });
    expect(await refusal(embeddingsProvider('bedrock-converse'))).toMatchObject({
      status: 400,
      message: expect.stringContaining('embeddings'),
    });
  });

  it("Object's own names are unknown providers (400), never a TypeError", async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(() => validateModelConfig(name, {})).toThrow(/Unknown provider/);
      expect(await refusal(chatProvider(name))).toMatchObject({ status: 400 });
      expect(await refusal(embeddingsProvider(name))).toMatchObject({ status: 400 });
    }
  });
});
