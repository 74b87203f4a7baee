import OpenAI from 'openai';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { embed } from '../../local/bedrock-simulator/index.js';
import { useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway();
let client: OpenAI;

beforeAll(async () => {
  const { gw, admin } = ctx;
  const titan = (
    await admin.post('/admin/model/save', {
      name: 'titan',
      config: { modelId: 'amazon.titan-embed-text-v2:0' },
      provider: 'bedrock-embeddings',
      price_in: 0.02,
      price_out: 0,
    })
  ).body.data;
  const cohere = (
    await admin.post('/admin/model/save', {
      name: 'cohere',
      config: { modelId: 'cohere.embed-multilingual-v3' },
      provider: 'bedrock-embeddings',
      price_in: 0.1,
      price_out: 0,
    })
  ).body.data;
  const key = (await admin.post('/admin/api-key/apply', { name: 'embedder', role: 'user', email: '', month_quota: 10 })).body.data;
  await admin.post('/admin/api-key/bind-model', { key_id: key.id, model_id: titan.id });
  await admin.post('/admin/api-key/bind-model', { key_id: key.id, model_id: cohere.id });
  client = new OpenAI({ apiKey: key.api_key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
});
beforeEach(() => ctx.gw.sim.reset());

describe('/v1/embeddings', () => {
  it("round-trips bit-exactly through the SDK's default base64 path", async () => {
    const res = await client.embeddings.create({ model: 'titan', input: 'Hello world.' });
    expect(ctx.gw.sim.requests[0].body).toMatchObject({ inputText: 'Hello world.' });
    const expected = embed('Hello world.', 1024, true); // what the simulator (as Bedrock) returned
    const got = res.data[0].embedding;
    expect(got).toHaveLength(expected.length);
    // Float32 exact: every component identical to what Bedrock produced.
    expect(got).toEqual(expected);
    expect(res.model).toBe('titan');
    expect(res.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('float format, array input, dimensions', async () => {
    const res = await client.embeddings.create({ model: 'titan', input: ['a', 'b', 'c'], encoding_format: 'float', dimensions: 256 });
    expect(res.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(res.data.every((d) => d.embedding.length === 256)).toBe(true);
    expect(ctx.gw.sim.requests).toHaveLength(3);
    expect(ctx.gw.sim.requests[0].body.dimensions).toBe(256);
  });

  it('cohere batches texts into one call', async () => {
    const res = await client.embeddings.create({ model: 'cohere', input: ['x', 'y'] });
    expect(res.data).toHaveLength(2);
    expect(ctx.gw.sim.requests).toHaveLength(1);
    expect(ctx.gw.sim.requests[0].body.texts).toEqual(['x', 'y']);
  });

  it('rejects bad input with 400 and a chat model with 400', async () => {
    await expect(client.embeddings.create({ model: 'titan', input: '' })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(client.embeddings.create({ model: 'titan', input: 'x', dimensions: 3 })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(client.embeddings.create({ model: 'nope', input: 'x' })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});
