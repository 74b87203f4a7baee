import OpenAI from 'openai';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { script } from '../../local/bedrock-simulator/index.js';
import { currentMonth } from '../../lambdas/core/clock.js';
import { overrideConfig } from '../../lambdas/core/config.js';
import { money, type Money } from '../../lambdas/core/money.js';
import type { NewKeyView } from '../support/api.js';
import { api, type Envelope, useTestGateway } from '../support/gateway.js';

/**
 * Sessions and threads as recorded by real calls (official openai SDK through the local server), the admin and user
 * record routes, bounded q search, user isolation, and usage statistics.
 */
const ctx = useTestGateway();
let groupId: number;
let otherGroupId: number;
const CHAT = 'rec-sonnet';
const CHEAP = 'rec-cheap';

let alice: NewKeyView;
let bob: NewKeyView;
/** Undoes a test's config override (the q search budget). */
let undoConfig: (() => void) | undefined;

beforeAll(async () => {
  const { admin } = ctx;
  groupId = (await admin.post('/admin/group/save', { name: 'records' })).body.data.id;
  otherGroupId = (await admin.post('/admin/group/save', { name: 'records-other' })).body.data.id;
  for (const [name, pin, pout] of [
    [CHAT, 3, 15],
    [CHEAP, 0.25, 1.25],
  ] as const) {
    const m = await admin.post('/admin/model/save', {
      name,
      multiple: false,
      config: { modelId: 'anthropic.claude-3-haiku-20240307-v1:0' },
      provider: 'bedrock-converse',
      price_in: pin,
      price_out: pout,
      group_id: groupId,
    });
    expect(m.status).toBe(200);
    await admin.post('/admin/group/bind-model', { group_id: groupId, model_id: m.body.data.id });
  }
  alice = (await admin.post('/admin/api-key/apply', { name: 'alice', role: 'user', email: '', group_id: groupId, month_quota: 10 })).body
    .data;
  bob = (await admin.post('/admin/api-key/apply', { name: 'bob', role: 'user', email: '', group_id: otherGroupId, month_quota: 10 })).body
    .data;
  // bob may use CHEAP only, bound to the key itself
  const cheap = (await admin.get(`/admin/model/list?q=${CHEAP}`)).body.data.items[0];
  await admin.post('/admin/api-key/bind-model', { key_id: bob.id, model_id: cheap.id });
});
afterEach(() => {
  undoConfig?.();
  undoConfig = undefined;
  ctx.gw.sim.setDefault(null);
  ctx.gw.sim.reset();
});

const client = (key: string, sessionId?: string) =>
  new OpenAI({ apiKey: key, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0, defaultHeaders: sessionId ? { 'Session-Id': sessionId } : {} });

async function eventually<T>(check: () => Promise<T>, ms = 3000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

const sum = (xs: Money[]) => xs.reduce((a, b) => a + b, 0n);

async function ok<T>(p: Promise<Envelope<T>>): Promise<T> {
  const res = await p;
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.success).toBe(true);
  return res.body.data;
}

describe('what a session and its threads record', () => {
  let sessionId: number;
  // A PNG signature and 34 KB of payload: the gateway checks that image bytes are an image.
  const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(34 * 1024 - 8, 7)]).toString(
    'base64',
  );

  it('records prompt, completion, reasoning, tool calls, tokens, prices, fee and latencies per call', async () => {
    const c = client(alice.api_key, 'conv-1');
    ctx.gw.sim.enqueue(script.reasoning('The user asks about France.', 'Paris', { usage: { inputTokens: 20, outputTokens: 5 } }));
    await c.chat.completions.create({
      model: CHAT,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'What is the capital of France?' },
      ],
    });
    ctx.gw.sim.enqueue(
      script.toolCalls([{ name: 'lookup', input: { country: 'DE' }, id: 'tooluse_1' }], {
        usage: { inputTokens: 40, outputTokens: 12, cacheReadInputTokens: 100 },
      }),
    );
    await c.chat.completions.create({
      model: CHAT,
      messages: [
        { role: 'user', content: 'What is the capital of France?' },
        { role: 'assistant', content: 'Paris' },
        { role: 'user', content: 'And of Germany? Use the tool.' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'lookup',
            description: 'Looks a capital up',
            parameters: { type: 'object', properties: { country: { type: 'string' } } },
          },
        },
      ],
    });
    ctx.gw.sim.enqueue(script.text('A small grey square.', { usage: { inputTokens: 1600, outputTokens: 6 }, chunkSize: 4 }));
    const stream = await c.chat.completions.create({
      model: CHAT,
      stream: true,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe this image' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
          ],
        },
      ],
    });
    for await (const _ of stream) void _;

    const sessions = await ok(ctx.admin.get(`/admin/session/list?key_id=${alice.id}`));
    expect(sessions.total).toBe(1);
    const s = sessions.items[0];
    sessionId = s.id;
    const threads = await ok(ctx.admin.get(`/admin/thread/list?session_id=${s.id}`));
    expect(threads.total).toBe(3);
    const [t1, t2, t3] = threads.items;
    expect(t1.id < t2.id && t2.id < t3.id).toBe(true); // ascending within a session

    const t1d = await ok(ctx.admin.get(`/admin/thread/detail/${t1.id}`));
    expect(t1d).toMatchObject({
      key_id: alice.id,
      session_id: s.id,
      model: CHAT,
      prompt: 'What is the capital of France?',
      completion: 'Paris',
      reasoning: 'The user asks about France.',
      tool_calls: [],
      finish_reason: 'stop',
      tokens_in: 20,
      tokens_out: 5,
      tokens_cache_read: 0,
      tokens_cache_write: 0,
      price_in: 3,
      price_out: 15,
      fee: 0.000135,
      status: 'ok',
      error: null,
    });
    expect(t1d.model_id).toEqual(expect.any(Number));
    expect(t1d.total_latency).toBeGreaterThanOrEqual(0);
    expect(Date.parse(t1d.created_at)).not.toBeNaN();

    expect(await ok(ctx.admin.get(`/admin/thread/detail/${t2.id}`))).toMatchObject({
      prompt: 'And of Germany? Use the tool.',
      finish_reason: 'tool_calls',
      tool_calls: [{ id: 'tooluse_1', type: 'function', function: { name: 'lookup', arguments: '{"country":"DE"}' } }],
      tokens_in: 40,
      tokens_out: 12,
      tokens_cache_read: 100,
      fee: 0.00033, // 40×3 + 12×15 + 100×0.3 (cache read at 10%) = 330 per 1M
    });
  });

  it('keeps the session title from the first prompt and running totals', async () => {
    const s = await ok(ctx.admin.get(`/admin/session/detail/${sessionId}`));
    const threads = (await ok(ctx.admin.get(`/admin/thread/list?session_id=${sessionId}`))).items;
    expect(s).toMatchObject({
      id: sessionId,
      key_id: alice.id,
      session_key: 'conv-1',
      title: 'What is the capital of France?',
      thread_count: 3,
    });
    expect(s.tokens_in).toBe(threads.reduce((n, t) => n + t.tokens_in + t.tokens_cache_read + t.tokens_cache_write, 0));
    expect(s.tokens_out).toBe(threads.reduce((n, t) => n + t.tokens_out, 0));
    expect(money(s.fee)).toBe(sum(threads.map((t) => money(t.fee))));
    expect(Date.parse(s.updated_at)).toBeGreaterThanOrEqual(Date.parse(s.created_at));
  });

  it('a session of one call is created at that call: created_at is its thread’s and never after updated_at', async () => {
    await client(alice.api_key, 'one-call-session').chat.completions.create({
      model: CHAT,
      messages: [{ role: 'user', content: 'just once' }],
    });
    const [s] = (await ok(ctx.admin.get(`/admin/session/list?q=one-call-session`))).items;
    const [t] = (await ok(ctx.admin.get(`/admin/thread/list?session_id=${s.id}`))).items;
    expect(s.created_at).toBe(s.updated_at);
    expect(s.created_at).toBe(t.created_at);
  });

  it('stores binary parts as short descriptors, never bytes; the streamed call has a first-byte latency', async () => {
    const [, , t3] = (await ok(ctx.admin.get(`/admin/thread/list?session_id=${sessionId}`))).items;
    const d = await ok(ctx.admin.get(`/admin/thread/detail/${t3.id}`));
    expect(d.prompt).toBe('Describe this image\n[image/png, 34 KB]');
    expect(JSON.stringify(d)).not.toContain(PNG.slice(0, 64));
    expect(d.completion).toBe('A small grey square.');
    expect(d.first_byte_latency).toEqual(expect.any(Number));
    expect(d.total_latency).toBeGreaterThanOrEqual(d.first_byte_latency!);
  });

  it('caps long texts with a truncation marker; list items carry a preview, details the capped text', async () => {
    const long = 'word '.repeat(30_000); // 150 KB
    ctx.gw.sim.enqueue(script.text(long, { usage: { inputTokens: 5, outputTokens: 40_000 }, chunkSize: 5000 }));
    await client(alice.api_key, 'long').chat.completions.create({ model: CHAT, messages: [{ role: 'user', content: 'write a lot' }] });
    const [t] = (await ok(ctx.admin.get(`/admin/thread/list?key_id=${alice.id}&limit=1`))).items;
    expect(t.completion.length).toBeLessThan(3000);
    expect(t.completion).toContain('more characters in the detail view');
    const d = await ok(ctx.admin.get(`/admin/thread/detail/${t.id}`));
    expect(Buffer.byteLength(d.completion)).toBeLessThanOrEqual(64 * 1024);
    expect(d.completion).toMatch(/…\[truncated \d+ bytes\]$/);
    expect(d.fee).toBe(0.600015); // charged in full: 5×3 + 40000×15 per 1M
  });

  it('records a failed call with its error and what was charged (nothing)', async () => {
    const before = (await ok(ctx.admin.get(`/admin/api-key/list?name=alice`))).items[0];
    ctx.gw.sim.enqueue(script.error('ValidationException', 'The model rejected the input.'));
    await expect(
      client(alice.api_key, 'fail').chat.completions.create({ model: CHAT, messages: [{ role: 'user', content: 'break please' }] }),
    ).rejects.toMatchObject({ status: 400 });
    const [t] = (await ok(ctx.admin.get(`/admin/thread/list?key_id=${alice.id}&limit=1`))).items;
    expect(t).toMatchObject({ prompt: 'break please', status: 'error', fee: 0, tokens_in: 0, tokens_out: 0, completion: '' });
    expect(t.error).toContain('rejected the input');
    const after = (await ok(ctx.admin.get(`/admin/api-key/list?name=alice`))).items[0];
    expect(after.total_fee).toBe(before.total_fee);
  });

  it('records a stream that breaks mid-way, charged exactly what the thread says', async () => {
    const before = money((await ok(ctx.admin.get(`/admin/api-key/list?name=alice`))).items[0].total_fee);
    ctx.gw.sim.enqueue(
      script.text('partial answer that never finishes', {
        chunkSize: 5,
        failAfterEvents: { count: 4, exception: 'modelStreamErrorException', message: 'boom' },
      }),
    );
    const stream = await client(alice.api_key, 'broken').chat.completions.create({
      model: CHAT,
      stream: true,
      messages: [{ role: 'user', content: 'stream and break' }],
    });
    await expect(
      (async () => {
        for await (const _ of stream) void _;
      })(),
    ).rejects.toThrow();
    // The SDK throws on the in-band error frame; the gateway settles right after, before it closes the stream.
    const t = await eventually(async () => {
      const [latest] = (await ok(ctx.admin.get(`/admin/thread/list?key_id=${alice.id}&limit=1`))).items;
      expect(latest).toMatchObject({ prompt: 'stream and break', status: 'error' });
      return latest;
    });
    expect(t.error).toBeTruthy();
    expect(t.completion.length).toBeGreaterThan(0);
    const after = money((await ok(ctx.admin.get(`/admin/api-key/list?name=alice`))).items[0].total_fee);
    expect(after - before).toBe(money(t.fee));
  });
});

describe('admin lists', () => {
  beforeAll(async () => {
    ctx.gw.sim.setDefault(script.text('The answer is BLUE whale.', { usage: { inputTokens: 3, outputTokens: 4 } }));
    for (const [i, title] of ['Plan a trip to Kyoto', 'Fix my TypeScript build', 'kyoto food list', 'Unrelated chat'].entries()) {
      await client(bob.api_key, `bob-s${i}`).chat.completions.create({ model: CHEAP, messages: [{ role: 'user', content: title }] });
    }
    ctx.gw.sim.setDefault(null);
  });

  it('session/list: newest first, key_id filter, q on title (case-insensitive) or session id, limit/offset with totals', async () => {
    const all = await ok(ctx.admin.get(`/admin/session/list?key_id=${bob.id}`));
    expect(all.total).toBe(4);
    expect(all.items.map((s) => s.title)).toEqual(['Unrelated chat', 'kyoto food list', 'Fix my TypeScript build', 'Plan a trip to Kyoto']);
    const page = await ok(ctx.admin.get(`/admin/session/list?key_id=${bob.id}&limit=2&offset=1`));
    expect(page).toMatchObject({ total: 4, limit: 2, offset: 1 });
    expect(page.items.map((s) => s.title)).toEqual(['kyoto food list', 'Fix my TypeScript build']);
    const q = await ok(ctx.admin.get(`/admin/session/list?q=KYOTO`));
    expect(q.total).toBe(2);
    expect(q.items.map((s) => s.title)).toEqual(['kyoto food list', 'Plan a trip to Kyoto']);
    expect(q.search).toMatchObject({ complete: true, next_cursor: null });
    // q also finds a session by the id its client named (the Session-Id header), as sent.
    const byKey = await ok(ctx.admin.get(`/admin/session/list?q=bob-s2`));
    expect(byKey.items.map((s) => s.title)).toEqual(['kyoto food list']);
    const everyone = await ok(ctx.admin.get('/admin/session/list?limit=100'));
    expect(everyone.total).toBe(everyone.items.length);
    expect(everyone.items.map((s) => s.id)).toEqual([...everyone.items.map((s) => s.id)].sort((a, b) => b - a));
    expect(everyone.items.some((s) => s.key_id === alice.id) && everyone.items.some((s) => s.key_id === bob.id)).toBe(true);
  });

  it('thread/list: newest first, q on prompt or completion, key_id and session_id filters', async () => {
    const bobs = await ok(ctx.admin.get(`/admin/thread/list?key_id=${bob.id}`));
    expect(bobs.total).toBe(4);
    expect(bobs.items.map((t) => t.prompt)).toEqual([
      'Unrelated chat',
      'kyoto food list',
      'Fix my TypeScript build',
      'Plan a trip to Kyoto',
    ]);
    const byPrompt = await ok(ctx.admin.get(`/admin/thread/list?q=typescript`));
    expect(byPrompt.items.map((t) => t.prompt)).toEqual(['Fix my TypeScript build']);
    expect(byPrompt.total).toBe(1);
    const byCompletion = await ok(ctx.admin.get(`/admin/thread/list?q=blue%20WHALE&key_id=${bob.id}&limit=3&offset=1`));
    expect(byCompletion).toMatchObject({ total: 4, limit: 3, offset: 1 });
    expect(byCompletion.items).toHaveLength(3);
    const s0 = (await ok(ctx.admin.get(`/admin/session/list?key_id=${bob.id}&q=trip`))).items[0];
    const inSession = await ok(ctx.admin.get(`/admin/thread/list?session_id=${s0.id}`));
    expect(inSession.items.map((t) => t.prompt)).toEqual(['Plan a trip to Kyoto']);
    expect(inSession.total).toBe(1);
    // session and key filters that contradict each other: nothing
    expect(await ok(ctx.admin.get(`/admin/thread/list?session_id=${s0.id}&key_id=${alice.id}`))).toMatchObject({ items: [], total: 0 });
    const all = await ok(ctx.admin.get('/admin/thread/list?limit=1000'));
    expect(all.limit).toBe(200); // thread pages are capped
    expect(all.total).toBe(all.items.length);
  });

  it('q search reads a bounded window and can be continued with the cursor', async () => {
    undoConfig = overrideConfig({ searchScanBudget: 3 });
    const first = await ok(ctx.admin.get(`/admin/thread/list?key_id=${bob.id}&q=kyoto`));
    // The 3 newest of bob's 4 threads are examined: one match ('kyoto food list').
    expect(first.search).toMatchObject({ scanned: 3, complete: false });
    expect(first.items.map((t) => t.prompt)).toEqual(['kyoto food list']);
    const more = await ok(ctx.admin.get(`/admin/thread/list?key_id=${bob.id}&q=kyoto&cursor=${first.search!.next_cursor}`));
    expect(more.items.map((t) => t.prompt)).toEqual(['Plan a trip to Kyoto']);
    expect(more.search).toMatchObject({ scanned: 1, complete: true, next_cursor: null });
  });

  it('details: 404 for unknown ids, 400 for malformed ones and bad queries', async () => {
    expect((await ctx.admin.get('/admin/session/detail/999999')).status).toBe(404);
    expect((await ctx.admin.get('/admin/thread/detail/999999')).status).toBe(404);
    expect((await ctx.admin.get('/admin/thread/detail/abc')).status).toBe(400);
    expect((await ctx.admin.get('/admin/thread/list?limit=0')).status).toBe(400);
    expect((await ctx.admin.get('/admin/session/list?key_id=x')).status).toBe(400);
    // records are admin-only under /admin
    expect((await api(ctx.gw.url, bob.api_key).get('/admin/thread/list')).status).toBe(403);
  });
});

describe('user routes are scoped to the caller', () => {
  it('each key sees only its own sessions and threads; the other key’s ids are 404', async () => {
    const a = api(ctx.gw.url, alice.api_key);
    const b = api(ctx.gw.url, bob.api_key);
    const aSessions = await ok(a.get('/user/session/list?limit=100'));
    const bSessions = await ok(b.get('/user/session/list?limit=100'));
    expect(aSessions.items.length).toBeGreaterThan(0);
    expect(bSessions.total).toBe(4);
    expect(aSessions.items.every((s) => s.key_id === alice.id)).toBe(true);
    expect(bSessions.items.every((s) => s.key_id === bob.id)).toBe(true);
    // a key_id in the query is ignored, not obeyed
    expect((await ok(b.get(`/user/session/list?key_id=${alice.id}`))).items.every((s) => s.key_id === bob.id)).toBe(true);

    const aThreads = await ok(a.get('/user/thread/list?limit=100'));
    const bThreads = await ok(b.get(`/user/thread/list?key_id=${alice.id}`));
    expect(aThreads.items.every((t) => t.key_id === alice.id)).toBe(true);
    expect(bThreads.total).toBe(4);
    expect(bThreads.items.every((t) => t.key_id === bob.id)).toBe(true);
    expect((await ok(b.get('/user/thread/list?q=kyoto'))).total).toBe(2);

    const aS = aSessions.items[0];
    const bS = bSessions.items[0];
    const aT = aThreads.items[0];
    const bT = bThreads.items[0];
    expect(await ok(a.get(`/user/session/detail/${aS.id}`))).toMatchObject({ id: aS.id, key_id: alice.id });
    expect(await ok(a.get(`/user/thread/detail/${aT.id}`))).toMatchObject({ id: aT.id, key_id: alice.id });
    expect((await ok(b.get(`/user/thread/list?session_id=${bS.id}`))).items.every((t) => t.session_id === bS.id)).toBe(true);

    for (const [who, path] of [
      [a, `/user/session/detail/${bS.id}`],
      [a, `/user/thread/detail/${bT.id}`],
      [a, `/user/thread/list?session_id=${bS.id}`],
      [b, `/user/session/detail/${aS.id}`],
      [b, `/user/thread/detail/${aT.id}`],
      [b, `/user/thread/list?session_id=${aS.id}`],
      [b, '/user/session/detail/999999'],
    ] as const) {
      const res = await who.get(path);
      expect(res.status, path).toBe(404);
      expect(res.body.success).toBe(false);
      expect(JSON.stringify(res.body)).not.toContain('"items"');
    }
    expect((await api(ctx.gw.url, 'br-not-a-key-00000000000000000000000').get('/user/session/list')).status).toBe(401);
  });

  it('api-key/mine shows the own key without its secret; model/list only what it may call', async () => {
    const mine = await ok(api(ctx.gw.url, bob.api_key).get('/user/api-key/mine'));
    expect(mine).toMatchObject({ id: bob.id, name: 'bob', role: 'user', month_quota: 10, balance: 0 });
    expect(mine.month_fee).toBeGreaterThan(0);
    expect(mine).not.toHaveProperty('api_key');
    expect(mine).not.toHaveProperty('hash');
    expect(JSON.stringify(mine)).not.toContain(bob.api_key);
    const models = await ok(api(ctx.gw.url, bob.api_key).get('/user/model/list'));
    expect(models.items.map((m) => m.name)).toEqual([CHEAP]);
    expect(models.items[0]).not.toHaveProperty('config');
    const aliceModels = await ok(api(ctx.gw.url, alice.api_key).get('/user/model/list'));
    expect(aliceModels.items.map((m) => m.name).sort()).toEqual([CHAT, CHEAP].sort());
  });
});

describe('usage statistics', () => {
  it('per day, key and model from the daily aggregates, filtered by key, group and model, with totals', async () => {
    const threads = (await ok(ctx.admin.get('/admin/thread/list?limit=200'))).items;
    const all = await ok(ctx.admin.get('/admin/statistics/usage'));
    const month = currentMonth();
    expect(all.from).toBe(`${month}-01`);
    expect(all.to.slice(0, 7)).toBe(month);
    expect(all.totals.requests).toBe(threads.length);
    expect(money(all.totals.fee)).toBe(sum(threads.map((t) => money(t.fee))));
    expect(all.totals.tokens_in).toBe(threads.reduce((n, t) => n + t.tokens_in, 0));
    expect(all.totals.tokens_cache_read).toBe(threads.reduce((n, t) => n + t.tokens_cache_read, 0));
    for (const item of all.items)
      expect(Object.keys(item).sort()).toEqual([
        'day',
        'fee',
        'key_id',
        'model',
        'requests',
        'tokens_cache_read',
        'tokens_cache_write',
        'tokens_in',
        'tokens_out',
      ]);

    const byKey = await ok(ctx.admin.get(`/admin/statistics/usage?key_id=${bob.id}`));
    expect(byKey.items.map((i) => [i.key_id, i.model, i.requests, i.fee])).toEqual([[bob.id, CHEAP, 4, 0.000023]]); // 4 × (3×0.25 + 4×1.25) per 1M
    const byGroup = await ok(ctx.admin.get(`/admin/statistics/usage?group_id=${groupId}`));
    expect(byGroup.items.every((i) => i.key_id === alice.id)).toBe(true);
    expect(byGroup.totals.requests).toBe(threads.filter((t) => t.key_id === alice.id).length);
    const byModel = await ok(ctx.admin.get(`/admin/statistics/usage?model=${CHEAP}`));
    expect(byModel.items.every((i) => i.model === CHEAP)).toBe(true);
    const today = all.items[0].day;
    expect((await ok(ctx.admin.get(`/admin/statistics/usage?from=${today}&to=${today}`))).totals).toEqual(all.totals);
    expect((await ok(ctx.admin.get(`/admin/statistics/usage?from=2000-01-01&to=2000-01-31`))).items).toEqual([]);
  });

  it('validates the range', async () => {
    expect((await ctx.admin.get('/admin/statistics/usage?from=2026-02-30')).status).toBe(400);
    expect((await ctx.admin.get('/admin/statistics/usage?from=20260101')).status).toBe(400);
    expect((await ctx.admin.get('/admin/statistics/usage?from=2026-03-01&to=2026-02-01')).status).toBe(400);
    expect((await ctx.admin.get('/admin/statistics/usage?from=2025-01-01&to=2026-01-02')).status).toBe(400); // 367 days
    expect((await ctx.admin.get('/admin/statistics/usage?from=2025-01-01&to=2026-01-01')).status).toBe(200); // 366 days
    expect((await ctx.admin.get('/admin/statistics/usage?group_id=999999')).status).toBe(404);
  });
});
