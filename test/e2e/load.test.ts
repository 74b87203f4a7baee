/**
 * A bounded load test on loopback: 200 concurrent calls spread over 50 keys, then 200 concentrated on one key.
 * Nothing may be lost or answered with a 5xx: every call is a thread, Σ thread fees = Δ total_fee for every key,
 * and the sharded global lists, counters and daily statistics add up to exactly what was called.
 */
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { money, type Money } from '../../lambdas/core/money.js';
import { script } from '../../local/bedrock-simulator/index.js';
import type { NewKeyView, ThreadView } from '../support/api.js';
import { useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway();
const MODEL = 'load';

beforeAll(async () => {
  const model = await ctx.admin.post('/admin/model/save', {
    name: MODEL,
    provider: 'bedrock-converse',
    config: { modelId: 'amazon.nova-lite-v1:0' },
    price_in: 3,
    price_out: 15,
  });
  expect(model.status).toBe(200);
  let n = 0;
  ctx.gw.sim.setDefault(() => script.text(`answer ${++n}`, { usage: { inputTokens: 100 + (n % 97), outputTokens: 1 + (n % 53) } }));
});

async function newKeys(count: number, prefix: string): Promise<NewKeyView[]> {
  const model = (await ctx.admin.get(`/admin/model/list?q=${MODEL}`)).body.data.items[0];
  const keys: NewKeyView[] = [];
  for (let i = 0; i < count; i++) {
    const k = (
      await ctx.admin.post('/admin/api-key/apply', { name: `${prefix}-${i}`, role: 'user', email: '', month_quota: 1, balance: 1 })
    ).body.data;
    await ctx.admin.post('/admin/api-key/bind-model', { key_id: k.id, model_id: model.id });
    keys.push(k);
  }
  return keys;
}

const sum = (xs: Money[]) => xs.reduce((a, b) => a + b, 0n);

async function threadsOf(keyId: number): Promise<ThreadView[]> {
  return (await ctx.admin.get(`/admin/thread/list?key_id=${keyId}&limit=200`)).body.data.items;
}

async function burst(keys: NewKeyView[], calls: number): Promise<{ failures: string[] }> {
  const results = await Promise.allSettled(
    Array.from({ length: calls }, async (_, i) => {
      const key = keys[i % keys.length];
      const c = new OpenAI({ apiKey: key.api_key, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });
      if (i % 2 === 0) {
        await c.chat.completions.create(
          { model: MODEL, messages: [{ role: 'user', content: `q${i}` }], max_tokens: 64 },
          { headers: { 'Session-Id': `load-${i % 7}` } },
        );
      } else {
        const stream = await c.chat.completions.create({
          model: MODEL,
          messages: [{ role: 'user', content: `q${i}` }],
          max_tokens: 64,
          stream: true,
        });
        for await (const _ of stream) void _;
      }
    }),
  );
  await ctx.gw.idle(); // the streamed calls are settled just after their last byte
  return { failures: results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : [])) };
}

async function expectExactBooks(keys: NewKeyView[], callsPerKey: Map<number, number>) {
  const rows = (await ctx.admin.get('/admin/api-key/list?limit=1000')).body.data.items;
  for (const key of keys) {
    const threads = await threadsOf(key.id);
    expect(threads, `threads of key ${key.id}`).toHaveLength(callsPerKey.get(key.id)!);
    const after = rows.find((r) => r.id === key.id)!;
    expect(sum(threads.map((t) => money(t.fee))), `key ${key.id}`).toBe(money(after.total_fee) - money(key.total_fee));
  }
}

describe('load without hot partitions', () => {
  it('200 concurrent calls over 50 keys: no 5xx, no lost update, the sharded totals add up', async () => {
    const keys = await newKeys(50, 'spread');
    const before = (await ctx.admin.get('/admin/thread/list?limit=1')).body.data.total;
    const { failures } = await burst(keys, 200);
    expect(failures).toEqual([]);
    await expectExactBooks(keys, new Map(keys.map((k) => [k.id, 4])));
    // The global list is merged from its shards, its total from sharded counters.
    const all = (await ctx.admin.get('/admin/thread/list?limit=200')).body.data;
    expect(all.total - before).toBe(200);
    const ids = all.items.map((t) => t.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(ids.length);
    const usage = (await ctx.admin.get(`/admin/statistics/usage?model=${MODEL}`)).body.data;
    expect(usage.totals.requests).toBeGreaterThanOrEqual(200);
  }, 120_000);

  it('200 concurrent calls on one key: no 5xx, no lost update', async () => {
    const [key] = await newKeys(1, 'hot');
    const { failures } = await burst([key], 200);
    expect(failures).toEqual([]);
    await expectExactBooks([key], new Map([[key.id, 200]]));
  }, 120_000);
});
