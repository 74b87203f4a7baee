/**
 * What an embeddings batch spent is billed, even when it fails: Titan is called once per input, so when one input
 * fails the calls that finished were paid for by the operator and are charged to the key (exactly, from the tokens
 * Bedrock reported). Inputs beyond a family's documented length are refused before the first call, for free.
 */
import OpenAI from 'openai';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { script, type ScriptRequest } from '../../local/bedrock-simulator/index.js';
import { useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway();
let key = '';
let keyId = 0;

interface ThreadRow {
  status: string;
  tokens_in: number;
  fee: number;
  error: string | null;
}

beforeAll(async () => {
  const k = (await ctx.admin.post('/admin/api-key/apply', { name: 'embed-billing', role: 'user', email: '', month_quota: 10 })).body
    .data as {
    id: number;
    api_key: string;
  };
  for (const [name, modelId] of [
    ['titan-bill', 'amazon.titan-embed-text-v2:0'],
    ['cohere-bill', 'cohere.embed-english-v3'],
  ] as const) {
    const saved = await ctx.admin.post('/admin/model/save', {
      name,
      provider: 'bedrock-embeddings',
      config: { modelId },
      price_in: 100,
      price_out: 0,
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    await ctx.admin.post('/admin/api-key/bind-model', { key_id: k.id, model_id: (saved.body.data as { id: number }).id });
  }
  key = k.api_key;
  keyId = k.id;
});
beforeEach(() => ctx.gw.sim.reset());

const client = () => new OpenAI({ apiKey: key, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });
const latestThread = async () =>
  ((await ctx.admin.get(`/admin/thread/list?key_id=${keyId}&limit=1`)).body.data as { items: ThreadRow[] }).items[0];
const monthUsed = async () =>
  ((await ctx.admin.get(`/admin/api-key/list?limit=100`)).body.data as { items: Array<{ id: number; month_fee: number }> }).items.find(
    (k) => k.id === keyId,
  )!.month_fee;
/** The simulator's Titan token count for one text (what it reports as inputTextTokenCount). */
const titanTokens = (t: string) => Math.max(1, Math.ceil(t.length / 4));
/** Fails the call whose text is `poison`, answers the others normally. */
const poisonScript = (req: ScriptRequest) =>
  req.body.inputText === 'poison' ? script.error('ValidationException', 'The input is invalid.') : { content: [] };

describe('embeddings billing', () => {
  it('a batch with one failing input bills the inputs that were embedded, exactly', async () => {
    const inputs = ['alpha alpha alpha', 'beta', 'poison', 'gamma gamma gamma gamma', 'delta delta'];
    ctx.gw.sim.enqueue(...inputs.map(() => poisonScript));
    const before = await monthUsed();
    const err = await client()
      .embeddings.create({ model: 'titan-bill', input: inputs })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(400);

    const answered = inputs.filter((t) => t !== 'poison');
    const tokens = answered.reduce((n, t) => n + titanTokens(t), 0);
    const t = await latestThread();
    expect(t.status).toBe('error');
    expect(t.tokens_in).toBe(tokens);
    // 100 USD per 1M tokens.
    expect(t.fee).toBeCloseTo((tokens * 100) / 1e6, 9);
    expect((await monthUsed()) - before).toBeCloseTo((tokens * 100) / 1e6, 9);
  });

  it('a longer batch stops starting calls after a failure and bills exactly the calls Bedrock answered', async () => {
    const inputs = ['poison', ...Array.from({ length: 23 }, (_, i) => `text number ${i} `.repeat(i + 1))];
    ctx.gw.sim.enqueue(...inputs.map(() => poisonScript));
    await client()
      .embeddings.create({ model: 'titan-bill', input: inputs })
      .catch(() => undefined);
    const answered = ctx.gw.sim.requests.map((r) => String(r.body.inputText)).filter((t) => t !== 'poison');
    // Not every input was sent (no new call starts after the failure) …
    expect(ctx.gw.sim.requests.length).toBeLessThan(inputs.length);
    // … and every one that was answered is billed.
    expect((await latestThread()).tokens_in).toBe(answered.reduce((n, t) => n + titanTokens(t), 0));
  });

  it.each([
    ['titan-bill', 50_000],
    ['cohere-bill', 2048],
  ])('%s: an input longer than %i characters is a 400 before any Bedrock call, and costs nothing', async (model, max) => {
    const before = await monthUsed();
    const err = await client()
      .embeddings.create({ model, input: ['fine', 'x'.repeat(max + 1)] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    expect((err as { error?: { code?: string; param?: string } }).error).toMatchObject({ code: 'input_too_long', param: 'input' });
    expect((err as Error).message).toContain('Input 1');
    expect(ctx.gw.sim.requests).toHaveLength(0);
    expect(await monthUsed()).toBe(before);
    // At the limit it is accepted.
    const ok = await client().embeddings.create({ model, input: ['x'.repeat(max)] });
    expect(ok.data).toHaveLength(1);
  });
});
