import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { script } from '../../local/bedrock-simulator/index.js';
import { currentMonth, setClockOffsetForTests } from '../../lambdas/core/clock.js';
import { formatMoney, money, type Money } from '../../lambdas/core/money.js';
import type { KeyView, NewKeyView, ThreadView } from '../support/api.js';
import { api, useTestGateway } from '../support/gateway.js';

/**
 * Money end to end, through the local server with the official openai SDK: exact fees, quota then balance,
 * refusal before any upstream call, month rollover, burst-safe admission, exactly-once charging, recharges.
 */
const ctx = useTestGateway();
let chatModelId: number;
const CHAT = 'billing-haiku';
const ODD = 'billing-odd-prices';
const EMBED = 'billing-titan';

beforeAll(async () => {
  chatModelId = await saveModel({
    name: CHAT,
    config: { modelId: 'anthropic.claude-3-haiku-20240307-v1:0' },
    provider: 'bedrock-converse',
    price_in: 3,
    price_out: 15,
  });
  await saveModel({
    name: ODD,
    config: { modelId: 'anthropic.claude-3-haiku-20240307-v1:0' },
    provider: 'bedrock-converse',
    price_in: 0.123457,
    price_out: 1.654321,
  });
  await saveModel({
    name: EMBED,
    config: { modelId: 'amazon.titan-embed-text-v2:0' },
    provider: 'bedrock-embeddings',
    price_in: 0.02,
    price_out: 15,
  });
});
afterAll(() => {
  setClockOffsetForTests(0);
});
afterEach(() => {
  setClockOffsetForTests(0);
  ctx.gw.sim.setDefault(null);
  ctx.gw.sim.reset();
});

async function saveModel(body: Record<string, unknown>): Promise<number> {
  const res = await ctx.admin.post('/admin/model/save', { multiple: false, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data.id;
}

/** A user key bound to every test model. */
async function userKey(
  name: string,
  money: { month_quota?: number | string; balance?: number | string } = {},
  role = 'user',
): Promise<NewKeyView> {
  const res = await ctx.admin.post('/admin/api-key/apply', { name, role, email: '', month_quota: 0, ...money });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const key = res.body.data;
  const models = (await ctx.admin.get('/admin/model/list?limit=100')).body.data.items;
  for (const m of models) expect((await ctx.admin.post('/admin/api-key/bind-model', { key_id: key.id, model_id: m.id })).status).toBe(200);
  return key;
}

const client = (key: string) => new OpenAI({ apiKey: key, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });

async function keyRow(id: number): Promise<KeyView> {
  const list = await ctx.admin.get('/admin/api-key/list?limit=1000');
  const row = list.body.data.items.find((k) => k.id === id);
  if (!row) throw new Error(`key ${id} is not in the key list`);
  return row;
}

async function threadsOf(keyId: number): Promise<ThreadView[]> {
  const res = await ctx.admin.get(`/admin/thread/list?key_id=${keyId}&limit=200`);
  expect(res.status).toBe(200);
  return res.body.data.items;
}

async function refusal(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OpenAI.APIError) return e;
    throw e;
  }
  throw new Error('expected the call to be refused');
}

const chat = (c: OpenAI, opts: { max_tokens?: number; content?: string; model?: string; stream?: false } = {}) =>
  c.chat.completions.create({
    model: opts.model ?? CHAT,
    messages: [{ role: 'user', content: opts.content ?? 'x' }],
    max_tokens: opts.max_tokens,
  });

const sum = (xs: Money[]) => xs.reduce((a, b) => a + b, 0n);

describe('cost', () => {
  it('11 in / 7 out at 3 / 15 per 1M costs exactly 0.000138, on the thread, the key and the statistics', async () => {
    const k = await userKey('exact', { month_quota: 1 });
    ctx.gw.sim.enqueue(script.text('hi', { usage: { inputTokens: 11, outputTokens: 7 } }));
    const res = await chat(client(k.api_key));
    expect(res.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7 });
    const [t] = await threadsOf(k.id);
    expect(t).toMatchObject({
      tokens_in: 11,
      tokens_out: 7,
      price_in: 3,
      price_out: 15,
      fee: 0.000138,
      model: CHAT,
      model_id: chatModelId,
    });
    expect(await keyRow(k.id)).toMatchObject({ month_fee: 0.000138, total_fee: 0.000138, balance: 0, month_quota: 1 });
    const stats = await ctx.admin.get(`/admin/statistics/usage?key_id=${k.id}`);
    expect(stats.body.data.items).toEqual([
      {
        day: expect.any(String),
        key_id: k.id,
        model: CHAT,
        requests: 1,
        tokens_in: 11,
        tokens_out: 7,
        tokens_cache_read: 0,
        tokens_cache_write: 0,
        fee: 0.000138,
      },
    ]);
  });

  it('prices cache-read and cache-write tokens at their own (default) prices', async () => {
    const k = await userKey('cache', { month_quota: 1 });
    ctx.gw.sim.enqueue(
      script.text('cached', { usage: { inputTokens: 100, outputTokens: 10, cacheReadInputTokens: 1000, cacheWriteInputTokens: 200 } }),
    );
    await chat(client(k.api_key));
    const [t] = await threadsOf(k.id);
    // 100×3 + 10×15 + 1000×0.3 (10%) + 200×3.75 (125%) = 1500 per 1M
    expect(t).toMatchObject({ tokens_in: 100, tokens_out: 10, tokens_cache_read: 1000, tokens_cache_write: 200, fee: 0.0015 });
    expect((await keyRow(k.id)).total_fee).toBe(0.0015);
  });

  it('embeddings bill input tokens only', async () => {
    const k = await userKey('embed', { month_quota: 1 });
    const res = await client(k.api_key).embeddings.create({ model: EMBED, input: 'hello world!' }, { headers: { 'Session-Id': 'emb' } });
    expect(res.usage.prompt_tokens).toBe(3);
    const [t] = await threadsOf(k.id);
    expect(t).toMatchObject({
      kind: 'embeddings',
      model: EMBED,
      tokens_in: 3,
      tokens_out: 0,
      fee: 0.00000006,
      prompt: 'hello world!',
      status: 'ok',
    });
    expect((await keyRow(k.id)).total_fee).toBe(0.00000006);
  });
});

describe('quota and balance', () => {
  it('month_fee fills up to month_quota, the rest comes out of balance, total_fee accumulates', async () => {
    const k = await userKey('split', { month_quota: 0.0002, balance: 0.001 });
    const c = client(k.api_key);
    ctx.gw.sim.setDefault(script.text('ok', { usage: { inputTokens: 11, outputTokens: 7 } }));
    await chat(c);
    expect(await keyRow(k.id)).toMatchObject({ month_fee: 0.000138, balance: 0.001, total_fee: 0.000138 });
    await chat(c);
    expect(await keyRow(k.id)).toMatchObject({ month_fee: 0.0002, balance: 0.000924, total_fee: 0.000276 });
    await chat(c);
    expect(await keyRow(k.id)).toMatchObject({ month_fee: 0.0002, balance: 0.000786, total_fee: 0.000414 });
  });

  it('a model saved free: true answers a spent key (nothing to refuse it for), at a fee of 0', async () => {
    await saveModel({ name: 'free-chat', provider: 'bedrock-converse', config: { modelId: 'amazon.nova-micro-v1:0' }, free: true });
    const empty = await userKey('empty-free', { month_quota: 0, balance: 0 });
    ctx.gw.sim.enqueue(script.text('free answer', { usage: { inputTokens: 10, outputTokens: 5 } }));
    const res = await client(empty.api_key).chat.completions.create({ model: 'free-chat', messages: [{ role: 'user', content: 'x' }] });
    expect(res.choices[0].message.content).toBe('free answer');
    const [t] = await threadsOf(empty.id);
    expect(t).toMatchObject({ model: 'free-chat', tokens_in: 10, tokens_out: 5, fee: 0 });
    expect(await keyRow(empty.id)).toMatchObject({ month_fee: 0, balance: 0, total_fee: 0 });
    // a priced model is still refused to that key
    expect((await refusal(chat(client(empty.api_key)))).code).toBe('insufficient_quota');
  });

  it('refuses a spent key with 429 insufficient_quota and x-should-retry: false before any upstream call', async () => {
    const empty = await userKey('empty', { month_quota: 0, balance: 0 });
    const c = client(empty.api_key);
    const e = await refusal(chat(c));
    expect(e.status).toBe(429);
    expect(e.code).toBe('insufficient_quota');
    expect(e.type).toBe('insufficient_quota');
    expect(e.headers?.get('x-should-retry')).toBe('false');
    const s = await refusal(c.chat.completions.create({ model: CHAT, messages: [{ role: 'user', content: 'x' }], stream: true }));
    expect(s.status).toBe(429);
    const emb = await refusal(c.embeddings.create({ model: EMBED, input: 'x' }));
    expect(emb.status).toBe(429);
    expect(ctx.gw.sim.requests).toHaveLength(0); // refused before the upstream was called
    expect(await threadsOf(empty.id)).toHaveLength(0);

    // Used up exactly: quota 0.000138, one call of 0.000138, balance 0 → the next one is refused.
    const once = await userKey('once', { month_quota: 0.000138 });
    ctx.gw.sim.setDefault(script.text('ok', { usage: { inputTokens: 11, outputTokens: 7 } }));
    await chat(client(once.api_key), { max_tokens: 7 });
    expect(ctx.gw.sim.requests).toHaveLength(1);
    expect((await refusal(chat(client(once.api_key)))).status).toBe(429);
    expect(ctx.gw.sim.requests).toHaveLength(1);
  });

  it('admin keys are costed and recorded but never refused', async () => {
    const a = await userKey('admin-costed', { month_quota: 0, balance: 0 }, 'admin');
    ctx.gw.sim.setDefault(script.text('ok', { usage: { inputTokens: 11, outputTokens: 7 } }));
    await chat(client(a.api_key));
    await chat(client(a.api_key));
    expect(await keyRow(a.id)).toMatchObject({ total_fee: 0.000276, month_fee: 0, balance: -0.000276 });
    expect(await threadsOf(a.id)).toHaveLength(2);
  });

  it('recharge lifts a refusal; payments list the history newest first', async () => {
    const k = await userKey('recharge', { month_quota: 0, balance: 0 });
    const c = client(k.api_key);
    expect((await refusal(chat(c))).status).toBe(429);
    const p1 = await ctx.admin.post('/admin/api-key/recharge', { id: k.id, balance: 0.001 });
    expect(p1.status).toBe(200);
    expect(p1.body.data).toMatchObject({ key_id: k.id, amount: 0.001, balance_after: 0.001 });
    ctx.gw.sim.setDefault(script.text('ok', { usage: { inputTokens: 11, outputTokens: 7 } }));
    await chat(c);
    const p2 = await ctx.admin.post('/admin/api-key/recharge', { api_key: k.api_key, balance: '0.5' });
    expect(p2.body.data).toMatchObject({ key_id: k.id, amount: 0.5, balance_after: 0.500862 });
    expect(await keyRow(k.id)).toMatchObject({ balance: 0.500862, total_fee: 0.000138, month_fee: 0 });
    const payments = await ctx.admin.get(`/admin/payment/list?key_id=${k.id}`);
    expect(payments.body.data.total).toBe(2);
    expect(payments.body.data.items.map((p) => [p.id, p.amount, p.balance_after])).toEqual([
      [p2.body.data.id, 0.5, 0.500862],
      [p1.body.data.id, 0.001, 0.001],
    ]);
    expect((await ctx.admin.post('/admin/api-key/recharge', { id: 987654, balance: 1 })).status).toBe(404);
    expect((await ctx.admin.post('/admin/api-key/recharge', { id: k.id, balance: 0 })).status).toBe(400);
  });
});

describe('month rollover', () => {
  it('a key used up in month M works again on the first request of M+1; views show only the current month', async () => {
    const k = await userKey('rollover', { month_quota: 0.000138 });
    const user = api(ctx.gw.url, k.api_key);
    const c = client(k.api_key);
    ctx.gw.sim.setDefault(script.text('ok', { usage: { inputTokens: 11, outputTokens: 7 } }));
    await chat(c, { max_tokens: 7 });
    expect((await refusal(chat(c))).status).toBe(429);
    expect(ctx.gw.sim.requests).toHaveLength(1);
    const monthM = currentMonth();

    // Into the next UTC month (the 2nd, to stay clear of the boundary), no request yet: the views already show 0.
    const now = new Date();
    const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 2, 12);
    setClockOffsetForTests(next - now.getTime());
    expect(currentMonth()).not.toBe(monthM);
    expect(await keyRow(k.id)).toMatchObject({ month_fee: 0, total_fee: 0.000138 });
    expect((await user.get('/user/api-key/mine')).body.data).toMatchObject({ month_fee: 0, month_quota: 0.000138, balance: 0 });

    await chat(c, { max_tokens: 7 }); // the first request of M+1 starts from zero
    expect(ctx.gw.sim.requests).toHaveLength(2);
    expect(await keyRow(k.id)).toMatchObject({ month_fee: 0.000138, total_fee: 0.000276, balance: 0 });
    expect((await user.get('/user/api-key/mine')).body.data).toMatchObject({ month_fee: 0.000138, total_fee: 0.000276 });
    expect((await refusal(chat(c))).status).toBe(429); // and M+1's allowance is used up in turn
    expect(ctx.gw.sim.requests).toHaveLength(2);

    // The daily aggregate of the new month carries the new charge only.
    const nextMonth = currentMonth();
    const stats = await ctx.admin.get(`/admin/statistics/usage?key_id=${k.id}`);
    expect(stats.body.data.from).toBe(`${nextMonth}-01`);
    expect(stats.body.data.totals).toMatchObject({ requests: 1, fee: 0.000138 });
  });
});

describe('burst-safe admission', () => {
  // 1 prompt token (≤ 3 chars) and max_tokens 10 → estimate 1×3 + 10×15 = 153 per 1M, and the simulated call uses
  // exactly that: estimate = real cost = 0.000153.
  const COST = money('0.000153');

  async function burst(quota: Money, n = 50) {
    const k = await userKey(`burst-${formatMoney(quota)}`, { month_quota: formatMoney(quota) });
    ctx.gw.sim.reset();
    ctx.gw.sim.setDefault(script.text('ok', { usage: { inputTokens: 1, outputTokens: 10 }, firstEventDelayMs: 250 }));
    const c = client(k.api_key);
    const results = await Promise.allSettled(Array.from({ length: n }, () => chat(c, { max_tokens: 10 })));
    const accepted = results.filter((r) => r.status === 'fulfilled').length;
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
    for (const e of refused) {
      expect(e).toBeInstanceOf(OpenAI.APIError);
      expect(e.status).toBe(429);
      // While admitted calls hold the key's money it is "retry shortly", not "empty": their real cost may be less.
      // A refusal decided after they settled is "empty" for good.
      expect(['reserved_by_calls_in_flight', 'insufficient_quota']).toContain(e.code);
      expect(e.headers.get('x-should-retry')).toBe(e.code === 'insufficient_quota' ? 'false' : null);
    }
    // Once they have settled, the key is what it is: spent, and told so for good.
    const after = (await chat(c, { max_tokens: 10 }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(after).toBeInstanceOf(OpenAI.APIError);
    expect(after.code).toBe('insufficient_quota');
    expect(after.headers?.get('x-should-retry')).toBe('false');
    const row = await keyRow(k.id);
    const spent = money(row.total_fee);
    const inFlight = refused.filter((e: { code?: string }) => e.code === 'reserved_by_calls_in_flight').length;
    return { k, accepted, refused: refused.length, inFlight, spent, row, upstream: ctx.gw.sim.requests.length };
  }

  it('50 concurrent requests against room for exactly 3: 3 admitted, the rest 429, no overspend', async () => {
    const r = await burst(COST * 3n);
    expect(r.accepted).toBe(3);
    expect(r.refused).toBe(47);
    expect(r.inFlight).toBeGreaterThan(0); // refusals while the 3 ran said: retry shortly
    expect(r.upstream).toBe(3); // the simulator saw only the admitted ones
    expect(r.spent).toBe(COST * 3n);
    expect(r.row).toMatchObject({ month_fee: 0.000459, balance: 0 });
    expect(await threadsOf(r.k.id)).toHaveLength(3);
  });

  it('room for ~3.46 requests: a 4th is admitted, and the overspend stays under one request’s cost', async () => {
    const quota = COST * 3n + money('0.00007'); // 0.000529
    const r = await burst(quota);
    expect(r.accepted).toBe(4);
    expect(r.upstream).toBe(4);
    expect(r.spent).toBe(COST * 4n);
    expect(r.spent - quota).toBeLessThanOrEqual(COST); // measured overspend: 0.000083 (0.54 of a request)
    expect(formatMoney(r.spent - quota)).toBe('0.000083');
    expect(money(r.row.balance)).toBe(quota - COST * 4n);
    expect(money(r.row.month_fee)).toBe(quota);
  });
});

describe('exactly once', () => {
  it('Σ thread fees == Δ total_fee exactly after 200 concurrent calls (streamed and not)', async () => {
    const k = await userKey('sum', { month_quota: 0.05, balance: 10 });
    const before = await keyRow(k.id);
    let n = 0;
    ctx.gw.sim.setDefault(() => {
      n++;
      return script.text(`answer ${n}`, {
        usage: {
          inputTokens: 1000 + ((n * 7919) % 5000),
          outputTokens: 1 + ((n * 104729) % 3000),
          cacheReadInputTokens: n % 3 === 0 ? 777 : 0,
        },
        firstEventDelayMs: 20,
      });
    });
    const c = client(k.api_key);
    const calls = Array.from({ length: 200 }, async (_, i) => {
      if (i % 2 === 0) {
        await c.chat.completions.create(
          { model: ODD, messages: [{ role: 'user', content: `q${i}` }], max_tokens: 4000 },
          { headers: { 'Session-Id': `sum-${i % 5}` } },
        );
      } else {
        const stream = await c.chat.completions.create({
          model: ODD,
          messages: [{ role: 'user', content: `q${i}` }],
          max_tokens: 4000,
          stream: true,
        });
        for await (const _ of stream) void _;
      }
    });
    const settled = await Promise.allSettled(calls);
    expect(settled.filter((s) => s.status === 'rejected').map((s) => String(s.reason))).toEqual([]);

    // A stream's last frame ([DONE]) can reach the client a moment before the gateway has settled it.
    let threads: ThreadView[] = [];
    for (const until = Date.now() + 5000; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
      threads = await threadsOf(k.id);
      if (threads.length === 200) break;
    }
    expect(threads).toHaveLength(200);
    const after = await keyRow(k.id);
    const fees = sum(threads.map((t) => money(t.fee)));
    const delta = money(after.total_fee) - money(before.total_fee);
    expect(formatMoney(fees)).toBe(formatMoney(delta));
    // The split is exact too: what month_fee took plus what balance lost is the charge.
    expect(money(after.month_fee) - money(before.month_fee) + (money(before.balance) - money(after.balance))).toBe(delta);
    expect(money(after.month_fee)).toBe(money('0.05'));
    // Every fee is the exact cost of its recorded tokens.
    for (const t of threads) {
      const per1M = (tokens: number, price: Money) => (BigInt(tokens) * price) / 1_000_000n;
      const expected =
        per1M(t.tokens_in, money('0.123457')) + per1M(t.tokens_out, money('1.654321')) + per1M(t.tokens_cache_read, money('0.0123457'));
      expect(money(t.fee)).toBe(expected);
    }
    // Sessions and statistics add up to the same figure.
    const sessions = (await ctx.admin.get(`/admin/session/list?key_id=${k.id}`)).body.data;
    expect(sessions.total).toBe(5);
    expect(sum(sessions.items.map((s) => money(s.fee)))).toBe(sum(threads.filter((t) => t.session_id !== null).map((t) => money(t.fee))));
    const stats = (await ctx.admin.get(`/admin/statistics/usage?key_id=${k.id}`)).body.data;
    expect(stats.totals.requests).toBe(200);
    expect(money(stats.totals.fee)).toBe(delta);
    expect(money(after.balance) <= money(before.balance)).toBe(true);
  }, 60_000);
});
