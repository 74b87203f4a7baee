/**
 * DynamoDB faults, injected by a proxy between the gateway and DynamoDB Local (local/dynamodb-proxy.ts), and what
 * the gateway promises about them (CONTRACT "Failure semantics"):
 * - before the upstream call (key lookup, admission): fail closed — 503 with retry-after in the route's shape,
 *   no upstream call, nothing free;
 * - after an answer was delivered: the settlement is retried, deferred if the store stays down, and applied exactly
 *   once when it is back (even when a write landed but its answer was lost);
 * - a reservation of a call that died stops counting once its lease expires;
 * - GET /health says 503 while the store is unreachable.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, onTestFinished } from 'vitest';
import { admit, LEASE_SECONDS } from '../../lambdas/core/billing/admission.js';
import { localRetrier } from '../../lambdas/core/billing/deferred.js';
import { setClockOffsetForTests } from '../../lambdas/core/clock.js';
import { overrideConfig } from '../../lambdas/core/config.js';
import { getKeyById, leaseOf } from '../../lambdas/core/store/keys.js';
import { resetStoreClient } from '../../lambdas/core/store/table.js';
import { script } from '../../local/bedrock-simulator/index.js';
import { type DynamoDbProxy, startDynamoDbProxy } from '../../local/dynamodb-proxy.js';
import type { KeyView, NewKeyView, ThreadView } from '../support/api.js';
import { api, type ApiClient, startTestGateway, type TestGateway, userKeyOnConverseModel } from '../support/gateway.js';

let proxy: DynamoDbProxy;
let gw: TestGateway;
let admin: ApiClient;
let user: NewKeyView;
let undo: () => void;
const MODEL = 'faulty';

beforeAll(async () => {
  proxy = await startDynamoDbProxy(inject('dynamoEndpoint'));
  // The gateway reaches DynamoDB only through the proxy, one attempt per call, and gives up on a hung call fast.
  undo = overrideConfig({ store: { endpoint: proxy.url, maxAttempts: 1, requestTimeoutMs: 400, connectTimeoutMs: 400 } });
  resetStoreClient();
  gw = await startTestGateway();
  admin = api(gw.url, gw.adminKey);
  user = await userKeyOnConverseModel(admin, MODEL, 'faults');
});

afterAll(async () => {
  proxy.clear();
  await localRetrier.flush();
  await gw?.close();
  await proxy?.close();
  undo?.();
  resetStoreClient();
  setClockOffsetForTests(0);
});

beforeEach(() => {
  proxy.clear();
  gw.sim.reset();
});

const chat = (key: string, body: Record<string, unknown> = {}) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hello' }], ...body }),
  });

async function threadsOf(keyId: number): Promise<ThreadView[]> {
  return (await admin.get(`/admin/thread/list?key_id=${keyId}&limit=200`)).body.data.items;
}

async function keyRow(keyId: number): Promise<KeyView> {
  return (await admin.get(`/admin/api-key/list?limit=1000`)).body.data.items.find((k) => k.id === keyId)!;
}

async function eventually<T>(fn: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe('before the upstream call: fail closed', () => {
  it.each([
    ['throttled', 'throttle'],
    ['failing (500)', 'server-error'],
    ['resetting connections', 'reset'],
    ['hanging (timeout)', 'hang'],
  ] as const)('a key lookup against a %s store is 503 with retry-after, and Bedrock is never called', async (_label, kind) => {
    proxy.inject({ ops: ['GetItem'], kind });
    const res = await chat(user.api_key);
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await res.json()).toMatchObject({ error: { type: 'api_error', code: 'service_unavailable' } });
    expect(gw.sim.requests).toHaveLength(0);
  });

  it('an admission that cannot be written is 503, stream or not, and nothing is charged', async () => {
    const before = await keyRow(user.id);
    proxy.inject({ ops: ['UpdateItem'], kind: 'server-error' });
    for (const stream of [false, true]) {
      const res = await chat(user.api_key, { stream });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/json');
    }
    proxy.clear();
    expect(gw.sim.requests).toHaveLength(0);
    expect((await keyRow(user.id)).total_fee).toBe(before.total_fee);
  });

  it('the admin and user APIs answer 503 in their envelope, never 500', async () => {
    proxy.inject({ kind: 'server-error' });
    const a = await admin.get('/admin/api-key/list');
    const u = await api(gw.url, user.api_key).get('/user/api-key/mine');
    for (const r of [a, u]) {
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ success: false, error: { code: 'service_unavailable' } });
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });

  it('GET /health is 503 while the store is unreachable, 200 again after', async () => {
    proxy.inject({ kind: 'reset' });
    expect((await fetch(`${gw.url}/health`)).status).toBe(503);
    proxy.clear();
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
  });
});

describe('after the answer: never lost, never twice', () => {
  it('a settlement the store refuses is deferred, then applied exactly once when the store is back', async () => {
    const before = await keyRow(user.id);
    const threadsBefore = (await threadsOf(user.id)).length;
    gw.sim.enqueue(script.text('delivered anyway', { usage: { inputTokens: 11, outputTokens: 7 } }));
    proxy.inject({ ops: ['TransactWriteItems'], kind: 'server-error' });
    const client = new OpenAI({ apiKey: user.api_key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const res = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0].message.content).toBe('delivered anyway');
    expect(localRetrier.size).toBe(1);
    // The thread is a write of its own beside the charging transaction (settle.ts): the call is on record at once,
    // its charge waits for the store.
    expect(await threadsOf(user.id)).toHaveLength(threadsBefore + 1);
    expect((await keyRow(user.id)).total_fee).toBe(before.total_fee);

    proxy.clear();
    await localRetrier.flush();
    expect(localRetrier.size).toBe(0);
    const after = await eventually(async () => {
      const threads = await threadsOf(user.id);
      expect(threads).toHaveLength(threadsBefore + 1);
      return threads;
    });
    const fee = (11 * 3 + 7 * 15) / 1e6;
    expect(after[0].fee).toBeCloseTo(fee, 12);
    expect((await keyRow(user.id)).total_fee).toBeCloseTo(before.total_fee + fee, 12);
    // A second run of the same job changes nothing.
    await localRetrier.flush();
    expect(await threadsOf(user.id)).toHaveLength(threadsBefore + 1);
  });

  it('a settlement whose write landed but whose answer was lost is not charged twice', async () => {
    const before = await keyRow(user.id);
    const threadsBefore = (await threadsOf(user.id)).length;
    gw.sim.enqueue(script.text('once', { usage: { inputTokens: 10, outputTokens: 10 } }));
    proxy.inject({ ops: ['TransactWriteItems'], kind: 'reset-after-write', times: 1, match: (body) => body.includes('CHARGE#') });
    const res = await chat(user.api_key);
    expect(res.status).toBe(200);
    await localRetrier.flush();
    const threads = await eventually(async () => {
      const t = await threadsOf(user.id);
      expect(t).toHaveLength(threadsBefore + 1);
      return t;
    });
    const fee = (10 * 3 + 10 * 15) / 1e6;
    expect(threads[0].fee).toBeCloseTo(fee, 12);
    expect((await keyRow(user.id)).total_fee).toBeCloseTo(before.total_fee + fee, 12);
    const key = await getKeyById(user.id);
    expect(key!.leases.size).toBe(0);
    expect(key!.reserved).toBe(0n);
  });
});

describe('when the books are written', () => {
  // Below the store's request timeout here (400 ms), so the slow write is not retried.
  const SLOW = 350;
  const slowSettlement = () =>
    proxy.inject({ ops: ['TransactWriteItems'], kind: 'latency', ms: SLOW, times: 1, match: (body) => body.includes('CHARGE#') });
  const timed = async <T>(fn: () => Promise<T>) => {
    const t0 = Date.now();
    const value = await fn();
    return { value, ms: Date.now() - t0 };
  };

  it("by default a stream's last frame follows its books", async () => {
    const threadsBefore = (await threadsOf(user.id)).length;
    gw.sim.enqueue(script.text('books first'));
    slowSettlement();
    const { value: raw, ms } = await timed(async () => (await chat(user.api_key, { stream: true })).text());
    expect(raw).toContain('[DONE]');
    expect(ms).toBeGreaterThanOrEqual(SLOW);
    expect(await threadsOf(user.id)).toHaveLength(threadsBefore + 1);
  });

  it('SETTLE_AFTER_LAST_BYTE: a stream ends without waiting for its books; the invocation waits, and the call is charged once', async () => {
    onTestFinished(overrideConfig({ settleAfterLastByte: true }));
    const before = await keyRow(user.id);
    const threadsBefore = (await threadsOf(user.id)).length;
    gw.sim.enqueue(script.text('fast end', { usage: { inputTokens: 10, outputTokens: 4 } }));
    slowSettlement();
    const { value: raw, ms } = await timed(async () => (await chat(user.api_key, { stream: true })).text());
    expect(raw).toContain('[DONE]');
    expect(ms).toBeLessThan(SLOW - 50);
    // The invocation is still open: it returns only once the settlement is written.
    const { ms: wait } = await timed(() => gw.idle());
    expect(wait).toBeGreaterThan(100);
    const threads = await threadsOf(user.id);
    expect(threads).toHaveLength(threadsBefore + 1);
    const fee = (10 * 3 + 4 * 15) / 1e6;
    expect(threads[0]).toMatchObject({ status: 'ok', completion: 'fast end' });
    expect((await keyRow(user.id)).total_fee).toBeCloseTo(before.total_fee + fee, 12);
  });

  it('a whole JSON answer follows its books (a client that checks its balance next sees the call)', async () => {
    const threadsBefore = (await threadsOf(user.id)).length;
    gw.sim.enqueue(script.text('json end'));
    slowSettlement();
    const { value: res, ms } = await timed(() => chat(user.api_key));
    expect(res.status).toBe(200);
    expect(ms).toBeGreaterThanOrEqual(SLOW);
    expect(await threadsOf(user.id)).toHaveLength(threadsBefore + 1);
  });

  it('SETTLE_AFTER_LAST_BYTE still gives a max_parallel key its slot back before its last byte: its next call is admitted at once', async () => {
    onTestFinished(overrideConfig({ settleAfterLastByte: true }));
    const limited = (
      await admin.post('/admin/api-key/apply', { name: 'one-at-a-time', role: 'user', email: '', month_quota: 5, max_parallel: 1 })
    ).body.data;
    const model = (await admin.get('/admin/model/list?limit=100')).body.data.items.find((m: { name: string }) => m.name === MODEL)!;
    await admin.post('/admin/api-key/bind-model', { key_id: limited.id, model_id: model.id });
    slowSettlement();
    const { value: raw, ms } = await timed(async () => (await chat(limited.api_key, { stream: true })).text());
    expect(raw).toContain('[DONE]');
    expect(ms).toBeGreaterThanOrEqual(SLOW);
    const next = await chat(limited.api_key, { stream: true });
    expect(next.status).toBe(200);
    await next.text();
  });
});

describe('what a call costs the store', () => {
  it('a user-key call is one admission write (which confirms the key: no key read), one settlement transaction of small items and the thread, none refused', async () => {
    // Warm: the model and grant lookups are cached per instance, thread ids come in blocks, and the key is remembered.
    gw.sim.enqueue(script.text('warm'));
    expect((await chat(user.api_key)).status).toBe(200);
    await gw.idle();
    // What the writes carry: a rule that hits nothing sees every body.
    const bodies: string[] = [];
    proxy.inject({ ops: ['TransactWriteItems', 'PutItem'], kind: 'latency', ms: 0, match: (b) => (bodies.push(b), false) });
    onTestFinished(() => proxy.clear());
    type Wire = Record<string, { S?: string }>;
    const pkPrefix = (item: Wire) => /^[A-Z]+#?/.exec(item.pk?.S ?? '')?.[0];
    const indexed = (item: Wire) => Object.keys(item).filter((a) => a.startsWith('gsi'));
    for (const stream of [false, true]) {
      bodies.length = 0;
      proxy.calls.length = 0;
      proxy.recording = true;
      gw.sim.enqueue(script.text('counted'));
      const res = await chat(user.api_key, { stream });
      await res.text();
      await gw.idle();
      proxy.recording = false;
      const ops = proxy.calls.map((c) => `${c.op} ${c.status}`);
      const updates = ops.filter((o) => o.startsWith('UpdateItem')).length;
      expect(
        ops.filter((o) => o.startsWith('TransactWriteItems')),
        `stream ${stream}: ${ops.join(', ')}`,
      ).toEqual(['TransactWriteItems 200']);
      expect(ops.filter((o) => o.startsWith('GetItem'))).toEqual([]);
      expect(ops.filter((o) => o.startsWith('PutItem'))).toEqual(['PutItem 200']);
      // The admission, and at most one thread-id block every 16 calls.
      expect(updates).toBeGreaterThanOrEqual(1);
      expect(updates).toBeLessThanOrEqual(2);
      expect(ops.every((o) => o.endsWith(' 200'))).toBe(true);

      // The transaction: the charge marker, the day's statistics, the thread count and the key; no item of it is
      // in an index. The thread (most of the bytes, billed twice inside a transaction) is the PutItem beside it,
      // keyed into the all-threads shard, in the key's index only.
      const parsed = bodies.map(
        (b) => JSON.parse(b) as { TransactItems?: Array<Record<string, { Item?: Wire; Key?: Wire }>>; Item?: Wire },
      );
      const txn = parsed.find((b) => b.TransactItems)!.TransactItems!.map((t) => Object.values(t)[0]);
      expect(txn.map((t) => pkPrefix(t.Item ?? t.Key!)).sort()).toEqual(['APIKEY#', 'CHARGE#', 'STATS#', 'THREADCOUNTS#']);
      expect(txn.flatMap((t) => indexed(t.Item ?? {}))).toEqual([]);
      expect(JSON.stringify(txn)).not.toContain('gsi');
      const thread = parsed.find((b) => b.Item)!.Item!;
      expect(pkPrefix(thread)).toBe('THREADS#');
      expect(indexed(thread).sort()).toEqual(['gsi2pk', 'gsi2sk']);
    }
  });
});

describe('a call that died', () => {
  it('holds its reservation only until its lease expires: then the key is admitted again', async () => {
    const poor = (await admin.post('/admin/api-key/apply', { name: 'poor', role: 'user', email: '', month_quota: 0, balance: 0.01 })).body
      .data;
    const model = (await admin.get(`/admin/model/list?q=${MODEL}`)).body.data.items[0];
    await admin.post('/admin/api-key/bind-model', { key_id: poor.id, model_id: model.id });
    // A call admitted for all the key can spend ($0.01), which then never settles (its Lambda was killed).
    await admit((await getKeyById(poor.id))!, 10_000_000_000n, 'crashed-call');
    expect((await chat(poor.api_key, { max_tokens: 16 })).status).toBe(429);

    setClockOffsetForTests((LEASE_SECONDS + 5) * 1000);
    try {
      const res = await chat(poor.api_key, { max_tokens: 16 });
      expect(res.status).toBe(200);
      const key = await getKeyById(poor.id);
      expect(leaseOf(key!, 'crashed-call')).toBeUndefined();
      expect(key!.reserved).toBe(0n);
    } finally {
      setClockOffsetForTests(0);
    }
  });
});
