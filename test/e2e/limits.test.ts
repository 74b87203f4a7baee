/**
 * Per-key limits and the key lifecycle (CONTRACT "Limits and key lifecycle"): rpm, tpm and max_parallel on keys and
 * groups (a key's own value wins), exact under concurrency, refused before any upstream call with 429 and
 * retry-after, the x-ratelimit-* headers on every response of a limited key; disabled and expired keys refused with
 * 401 saying why.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { admit, LEASE_SECONDS } from '../../lambdas/core/billing/admission.js';
import { setClockOffsetForTests } from '../../lambdas/core/clock.js';
import { startInFreshRateWindow } from '../support/clock.js';
import { getKeyById } from '../../lambdas/core/store/keys.js';
import { script } from '../../local/bedrock-simulator/index.js';
import type { NewKeyView } from '../support/api.js';
import { api, useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway();
const MODEL = 'limited';
let modelId = 0;

beforeAll(async () => {
  const m = await ctx.admin.post('/admin/model/save', {
    name: MODEL,
    provider: 'bedrock-converse',
    config: { modelId: 'amazon.nova-lite-v1:0' },
    price_in: 1,
    price_out: 1,
  });
  modelId = m.body.data.id;
});
afterEach(() => {
  setClockOffsetForTests(0);
  ctx.gw.sim.reset();
});

async function newKey(extra: Record<string, unknown> = {}): Promise<NewKeyView> {
  const res = await ctx.admin.post('/admin/api-key/apply', {
    name: `k-${Math.random()}`,
    role: 'user',
    email: '',
    month_quota: 10,
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const key = res.body.data;
  await ctx.admin.post('/admin/api-key/bind-model', { key_id: key.id, model_id: modelId });
  return key;
}

const chat = (key: string, body: Record<string, unknown> = {}) =>
  fetch(`${ctx.gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 10, ...body }),
  });

/** One call per wire API (chat completions, embeddings-free: chat models only, messages, responses), raw. */
const WIRE_CALLS: Array<[string, (key: string) => Promise<Response>]> = [
  ['/v1/chat/completions', (key) => chat(key)],
  [
    '/v1/messages',
    (key) =>
      fetch(`${ctx.gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
      }),
  ],
  [
    '/v1/responses',
    (key) =>
      fetch(`${ctx.gw.url}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, input: 'hi', store: false }),
      }),
  ],
];

describe('every wire API', () => {
  it.each(WIRE_CALLS)(
    '%s: a key over its rpm gets 429 in the route’s shape with retry-after and x-ratelimit-* headers',
    async (_route, call) => {
      startInFreshRateWindow();
      const key = await newKey({ rpm_limit: 1 });
      const ok = await call(key.api_key);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-ratelimit-limit-requests')).toBe('1');
      expect(ok.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      const refused = await call(key.api_key);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      const body = (await refused.json()) as { error: { type: string; code?: string } };
      expect(body.error.type).toBe('rate_limit_error');
      if (_route !== '/v1/messages') expect(body.error.code).toBe('rate_limit_exceeded');
      expect(ctx.gw.sim.requests).toHaveLength(1);
    },
  );

  it('count_tokens is not billed but counts against rpm_limit (no way around the limit)', async () => {
    startInFreshRateWindow();
    const key = await newKey({ rpm_limit: 2 });
    const count = () =>
      fetch(`${ctx.gw.url}/v1/messages/count_tokens`, {
        method: 'POST',
        headers: { 'x-api-key': key.api_key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
      });
    const first = await count();
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect((await count()).status).toBe(200);
    const refused = await count();
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { type: string } }).error.type).toBe('rate_limit_error');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // the window the counts filled refuses the billed routes too
    const billed = await chat(key.api_key);
    expect(billed.status).toBe(429);
    expect(((await billed.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    expect(ctx.gw.sim.requests).toHaveLength(0);
  });

  it.each(WIRE_CALLS)('%s: a disabled key is a 401 saying so, in the route’s shape', async (route, call) => {
    const key = await newKey();
    await ctx.admin.post('/admin/api-key/disable', { id: key.id });
    const res = await call(key.api_key);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { type?: string; error: { type: string; message: string; code?: string } };
    expect(body.error.message).toMatch(/disabled/);
    expect(body.error.type).toBe(route === '/v1/messages' ? 'authentication_error' : 'invalid_request_error');
    // Refused like an unknown key (CONTRACT), the message saying why.
    if (route !== '/v1/messages') expect(body.error.code).toBe('invalid_api_key');
    expect(ctx.gw.sim.requests).toHaveLength(0);
  });
});

describe('requests per minute', () => {
  // Each test starts one second into a fresh minute window, so no wall-clock minute ends between its calls.
  let atWindowStart = 0;
  beforeEach(() => {
    atWindowStart = startInFreshRateWindow();
  });

  it('N concurrent requests against rpm_limit k admit exactly k; the rest get 429 with retry-after', async () => {
    const key = await newKey({ rpm_limit: 3 });
    const results = await Promise.all(Array.from({ length: 10 }, () => chat(key.api_key)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    const refused = results.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' } });
    expect(refused.headers.get('x-ratelimit-limit-requests')).toBe('3');
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    // Only the admitted calls reached Bedrock.
    expect(ctx.gw.sim.requests).toHaveLength(3);
  });

  it('every response of a limited key carries true x-ratelimit-* headers, stream and not', async () => {
    const key = await newKey({ rpm_limit: 5, tpm_limit: 1_000_000 });
    const a = await chat(key.api_key);
    expect(a.headers.get('x-ratelimit-limit-requests')).toBe('5');
    expect(a.headers.get('x-ratelimit-remaining-requests')).toBe('4');
    expect(a.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+s$/);
    expect(a.headers.get('x-ratelimit-limit-tokens')).toBe('1000000');
    const b = await chat(key.api_key, { stream: true });
    await b.text();
    expect(b.headers.get('x-ratelimit-remaining-requests')).toBe('3');
    // A key without limits gets none of them.
    const free = await newKey();
    expect((await chat(free.api_key)).headers.get('x-ratelimit-limit-requests')).toBeNull();
  });

  it('a new minute is a new window', async () => {
    const key = await newKey({ rpm_limit: 1 });
    expect((await chat(key.api_key)).status).toBe(200);
    expect((await chat(key.api_key)).status).toBe(429);
    setClockOffsetForTests(atWindowStart + 60_000);
    expect((await chat(key.api_key)).status).toBe(200);
  });
});

describe('tokens per minute', () => {
  it('admits on the estimate, then corrects the window by the real usage at settlement', async () => {
    startInFreshRateWindow();
    const key = await newKey({ tpm_limit: 100_000 });
    ctx.gw.sim.enqueue(script.text('ok', { usage: { inputTokens: 7, outputTokens: 3 } }));
    const res = await chat(key.api_key, { max_tokens: 5000 });
    expect(res.status).toBe(200);
    // Counted as estimated at admission (≈ 5000 output allowance), then corrected to the 10 tokens really used.
    expect(Number(res.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(100_000 - 5000);
    expect((await getKeyById(key.id))!.rate.tokens).toBe(10);
  });

  it('refuses once the window holds the limit', async () => {
    startInFreshRateWindow();
    const key = await newKey({ tpm_limit: 1000 });
    expect((await chat(key.api_key, { max_tokens: 2000 })).status).toBe(200); // admitted while below the limit
    ctx.gw.sim.enqueue(script.text('x', { usage: { inputTokens: 900, outputTokens: 900 } }));
    await chat(key.api_key, { max_tokens: 10 });
    const refused = await chat(key.api_key);
    expect(refused.status).toBe(429);
    expect(await refused.text()).toContain('tokens per minute');
  });
});

describe('calls in flight', () => {
  it('max_parallel k: k slow streams in flight, the next is refused, and a finished call frees its slot', async () => {
    const key = await newKey({ max_parallel: 2 });
    ctx.gw.sim.setDefault(() => script.text('slow answer here', { chunkSize: 2, delayMs: 120 }));
    const first = await Promise.all([chat(key.api_key, { stream: true }), chat(key.api_key, { stream: true })]);
    expect(first.map((r) => r.status)).toEqual([200, 200]);
    const third = await chat(key.api_key, { stream: true });
    expect(third.status).toBe(429);
    expect(await third.text()).toContain('2 calls in flight');
    await Promise.all(first.map((r) => r.text()));
    const after = await chat(key.api_key, { stream: true });
    expect(after.status).toBe(200);
    await after.text();
  });

  it('a slot held by a call that died is freed when its lease expires', async () => {
    const key = await newKey({ max_parallel: 1 });
    await admit((await getKeyById(key.id))!, 1n, 'dead-call', { limits: { rpm: null, tpm: null, maxParallel: 1 }, tokens: 0 });
    expect((await chat(key.api_key)).status).toBe(429);
    setClockOffsetForTests((LEASE_SECONDS + 5) * 1000);
    expect((await chat(key.api_key)).status).toBe(200);
  });
});

describe('group defaults', () => {
  it("a group's limits apply to its keys; a key's own value wins", async () => {
    startInFreshRateWindow();
    const group = (await ctx.admin.post('/admin/group/save', { name: `limited-${Math.random()}`, rpm_limit: 1 })).body.data;
    expect(group.rpm_limit).toBe(1);
    const inherits = await newKey({ group_id: group.id });
    const own = await newKey({ group_id: group.id, rpm_limit: 3 });
    expect((await chat(inherits.api_key)).status).toBe(200);
    expect((await chat(inherits.api_key)).status).toBe(429);
    const owned = await Promise.all([chat(own.api_key), chat(own.api_key), chat(own.api_key)]);
    expect(owned.map((r) => r.status)).toEqual([200, 200, 200]);
    const mine = await api(ctx.gw.url, inherits.api_key).get('/user/api-key/mine');
    expect(mine.body.data).toMatchObject({ rpm_limit: null, effective_limits: { rpm_limit: 1, tpm_limit: null, max_parallel: null } });
    // The admin sees the same, in the list and in what apply and update answer.
    expect(inherits).toMatchObject({ rpm_limit: null, effective_limits: { rpm_limit: 1 } });
    const listed = (await ctx.admin.get(`/admin/api-key/list?group_id=${group.id}`)).body.data.items;
    expect(Object.fromEntries(listed.map((k) => [k.id, k.effective_limits]))).toEqual({
      [inherits.id]: { rpm_limit: 1, tpm_limit: null, max_parallel: null },
      [own.id]: { rpm_limit: 3, tpm_limit: null, max_parallel: null },
    });
    const updated = (await ctx.admin.post('/admin/api-key/update', { id: own.id, rpm_limit: null })).body.data;
    expect(updated.effective_limits).toEqual({ rpm_limit: 1, tpm_limit: null, max_parallel: null });
  });
});

describe('lifecycle', () => {
  it('a disabled key is refused everywhere with 401 saying so; enabled again it works', async () => {
    const key = await newKey();
    const disabled = await ctx.admin.post('/admin/api-key/disable', { id: key.id });
    expect(disabled.body.data).toMatchObject({ status: 'disabled' });
    const v1 = await chat(key.api_key);
    expect(v1.status).toBe(401);
    expect(((await v1.json()) as { error: { message: string } }).error.message).toMatch(/disabled/);
    const user = await api(ctx.gw.url, key.api_key).get('/user/api-key/mine');
    expect(user.status).toBe(401);
    expect(JSON.stringify(user.body)).toMatch(/disabled/);
    expect(ctx.gw.sim.requests).toHaveLength(0);
    await ctx.admin.post('/admin/api-key/enable', { id: key.id });
    expect((await chat(key.api_key)).status).toBe(200);
  });

  it('an expired key is refused with 401 naming the expiry', async () => {
    const soon = new Date(Date.now() + 60_000).toISOString();
    const key = await newKey({ expires_at: soon });
    expect((await chat(key.api_key)).status).toBe(200);
    setClockOffsetForTests(120_000);
    const res = await chat(key.api_key);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('expired');
    const listed = await ctx.admin.get(`/admin/api-key/list?name=`);
    expect(listed.status).toBe(200);
  });

  it('validates limits and expiry on apply and update', async () => {
    for (const bad of [{ rpm_limit: 0 }, { tpm_limit: -1 }, { max_parallel: 1.5 }, { expires_at: 'tomorrow' }, { status: 'paused' }]) {
      expect((await ctx.admin.post('/admin/api-key/apply', { name: 'bad', role: 'user', ...bad })).status, JSON.stringify(bad)).toBe(400);
    }
    const key = await newKey({ rpm_limit: 5 });
    const cleared = await ctx.admin.post('/admin/api-key/update', { id: key.id, rpm_limit: null });
    expect(cleared.body.data).toMatchObject({ rpm_limit: null });
  });
});
