/**
 * A user key's chat call skips its key read once this instance has seen the key: the admission's conditional write
 * on the key item confirms the remembered copy (same item, same terms revision) and reserves the call in one round
 * trip (store/key-cache.ts, auth/authenticate.ts servePresented). These tests pin both halves: the DynamoDB calls a
 * second call makes, and that every change an admin makes in between — disable, delete, reset, expiry, limits,
 * quota — gives exactly the answer a fresh read would, on every wire API, with no upstream call when refused.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { config, overrideConfig } from '../../lambdas/core/config.js';
import { getKeyById } from '../../lambdas/core/store/keys.js';
import { db } from '../../lambdas/core/store/table.js';
import type { NewKeyView } from '../support/api.js';
import { startInFreshRateWindow } from '../support/clock.js';
import { useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway();
const MODEL = 'recalled';
let modelId = 0;

/** Every DynamoDB call on an API key item while `recording`: the command and, for updates, its condition. */
const keyCalls: Array<{ command: string; condition?: string }> = [];
let recording = false;
/** Delays each key GetItem by this much (its answer), and records when the answer came. */
let keyReadDelayMs = 0;
const keyReadsDone: number[] = [];

beforeAll(async () => {
  const m = await ctx.admin.post('/admin/model/save', {
    name: MODEL,
    provider: 'bedrock-converse',
    config: { modelId: 'amazon.nova-lite-v1:0' },
    price_in: 1,
    price_out: 1,
  });
  modelId = m.body.data.id;
  db().middlewareStack.add(
    (next, context) => (args) => {
      const input = args.input as {
        Key?: { pk?: { S?: string } };
        ConditionExpression?: string;
        ExpressionAttributeNames?: Record<string, string>;
      };
      if (recording && input.Key?.pk?.S?.startsWith('APIKEY#')) {
        // The condition with its attribute names filled in.
        const condition = Object.entries(input.ExpressionAttributeNames ?? {}).reduce(
          (c, [placeholder, name]) => c.split(placeholder).join(name),
          input.ConditionExpression ?? '',
        );
        keyCalls.push({ command: String(context.commandName), condition });
      }
      if (keyReadDelayMs > 0 && context.commandName === 'GetItemCommand' && input.Key?.pk?.S?.startsWith('APIKEY#')) {
        const delay = keyReadDelayMs;
        return next(args).then(async (out) => {
          await new Promise((r) => setTimeout(r, delay));
          keyReadsDone.push(Date.now());
          return out;
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordKeyItemCalls' },
  );
});
afterEach(() => {
  recording = false;
  keyReadDelayMs = 0;
  keyReadsDone.length = 0;
  keyCalls.length = 0;
  ctx.gw.sim.reset();
});

async function newKey(extra: Record<string, unknown> = {}): Promise<NewKeyView> {
  const res = await ctx.admin.post('/admin/api-key/apply', { name: `k-${Math.random()}`, role: 'user', month_quota: 10, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  await ctx.admin.post('/admin/api-key/bind-model', { key_id: res.body.data.id, model_id: modelId });
  return res.body.data;
}

const post = (path: string, headers: Record<string, string>, body: unknown) =>
  fetch(`${ctx.gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** One call per wire API that admits through servePresented, each streamed or not. */
const WIRES: Array<[string, (key: string, body?: Record<string, unknown>) => Promise<Response>]> = [
  [
    '/v1/chat/completions',
    (key, body = {}) =>
      post(
        '/v1/chat/completions',
        { authorization: `Bearer ${key}` },
        { model: MODEL, messages: [{ role: 'user', content: 'hi' }], ...body },
      ),
  ],
  [
    '/v1/messages',
    (key, body = {}) =>
      post(
        '/v1/messages',
        { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
        { model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], ...body },
      ),
  ],
  [
    '/v1/responses',
    (key, body = {}) => post('/v1/responses', { authorization: `Bearer ${key}` }, { model: MODEL, input: 'hi', store: false, ...body }),
  ],
];

/** One call served (200), with the key item's DynamoDB calls recorded until its settlement is done. */
async function servedRecorded(send: () => Promise<Response>): Promise<void> {
  recording = true;
  try {
    await ok(await send());
    await ctx.gw.idle();
  } finally {
    recording = false;
  }
}

/** The recorded call read no key item and made one admission write, conditioned on the remembered terms. */
function expectConfirmedByAdmission(): void {
  expect(keyCalls.filter((c) => c.command === 'GetItemCommand')).toEqual([]);
  const admission = keyCalls.filter((c) => c.command === 'UpdateItemCommand');
  expect(admission).toHaveLength(1);
  expect(admission[0].condition).toMatch(/terms_rev = :terms/);
}

async function ok(res: Response): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
}

describe('a recalled user key', () => {
  it.each(WIRES)(
    '%s: the second call reads no key item; its admission write confirms the key (terms condition) and it is charged',
    async (_, call) => {
      const key = await newKey();
      await ok(await call(key.api_key)); // first call: read, remembered
      await ctx.gw.idle();
      const before = (await getKeyById(key.id))!;

      await servedRecorded(() => call(key.api_key));

      expectConfirmedByAdmission();
      const after = (await getKeyById(key.id))!;
      expect(after.totalFee).toBeGreaterThan(before.totalFee);
      expect(after.reserved).toBe(0n);
      expect(after.leases.size).toBe(0);
    },
  );

  it.each(WIRES)('%s: disabled since: 401 saying so, no upstream call; enabled again: served', async (_, call) => {
    const key = await newKey();
    await ok(await call(key.api_key));
    await ctx.admin.post('/admin/api-key/disable', { id: key.id });
    ctx.gw.sim.reset();
    const res = await call(key.api_key);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('disabled');
    expect(ctx.gw.sim.requests).toHaveLength(0);
    await ctx.admin.post('/admin/api-key/enable', { id: key.id });
    await ok(await call(key.api_key));
  });

  it.each(WIRES)('%s: deleted since: 401, no upstream call', async (_, call) => {
    const key = await newKey();
    await ok(await call(key.api_key));
    await ctx.gw.idle();
    expect((await ctx.admin.post('/admin/api-key/delete', { id: key.id })).status).toBe(200);
    ctx.gw.sim.reset();
    expect((await call(key.api_key)).status).toBe(401);
    expect(ctx.gw.sim.requests).toHaveLength(0);
    // Forgotten once refused: the next attempt is the plain read, no conditional write on the hot item.
    recording = true;
    expect((await call(key.api_key)).status).toBe(401);
    recording = false;
    expect(keyCalls.map((c) => c.command)).toEqual(['GetItemCommand']);
  });

  it.each(WIRES)('%s: reset since: the old secret is refused (401), the new one is served', async (_, call) => {
    const key = await newKey();
    await ok(await call(key.api_key));
    await ctx.gw.idle();
    const reset = await ctx.admin.post('/admin/api-key/reset', { id: key.id });
    ctx.gw.sim.reset();
    expect((await call(key.api_key)).status).toBe(401);
    expect(ctx.gw.sim.requests).toHaveLength(0);
    await ok(await call(reset.body.data.api_key));
  });

  it('expired since (expires_at moved into the past): 401 saying so', async () => {
    const key = await newKey();
    const [, call] = WIRES[0];
    await ok(await call(key.api_key));
    await ctx.admin.post('/admin/api-key/update', { id: key.id, expires_at: new Date(Date.now() - 1000).toISOString() });
    const res = await call(key.api_key);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('expired');
  });

  it('every change of terms counts in termsRev — update, disable, reset, and a group deleted under the key', async () => {
    const group = (await ctx.admin.post('/admin/group/save', { name: `g-${Math.random()}` })).body.data;
    const key = await newKey({ group_id: group.id });
    const revs = [(await getKeyById(key.id))!.termsRev];
    await ctx.admin.post('/admin/api-key/update', { id: key.id, name: 'renamed' });
    revs.push((await getKeyById(key.id))!.termsRev);
    await ctx.admin.post('/admin/api-key/disable', { id: key.id });
    revs.push((await getKeyById(key.id))!.termsRev);
    await ctx.admin.post('/admin/api-key/reset', { id: key.id });
    revs.push((await getKeyById(key.id))!.termsRev);
    expect((await ctx.admin.post('/admin/group/delete', { id: group.id })).status).toBe(200);
    const detached = (await getKeyById(key.id))!;
    expect(detached.groupId).toBeNull();
    revs.push(detached.termsRev);
    expect(revs).toEqual([0, 1, 2, 3, 4]);
  });

  it('a limit set since applies to the very next call (429 with retry-after)', async () => {
    startInFreshRateWindow();
    const key = await newKey();
    const [, call] = WIRES[0];
    await ok(await call(key.api_key));
    await ctx.admin.post('/admin/api-key/update', { id: key.id, rpm_limit: 1 });
    await ok(await call(key.api_key)); // the first request of the window under the new limit
    const res = await call(key.api_key);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBeTruthy();
  });

  it('a refusal decided on the remembered copy is decided again on a fresh read: quota raised since → served', async () => {
    const key = await newKey({ month_quota: 0 });
    const [, call] = WIRES[0];
    const refused = await call(key.api_key); // remembered with no quota
    expect(refused.status).toBe(429);
    expect(await refused.text()).toContain('insufficient_quota');
    await ctx.admin.post('/admin/api-key/update', { id: key.id, month_quota: 10 });
    await ok(await call(key.api_key));
  });

  it('recharged since (money only, terms unchanged): served on the recalled key without a read', async () => {
    const key = await newKey({ month_quota: 0, balance: 1 });
    const [, call] = WIRES[0];
    await ok(await call(key.api_key));
    await ctx.gw.idle();
    await ctx.admin.post('/admin/api-key/recharge', { id: key.id, balance: 5 });
    await servedRecorded(() => call(key.api_key));
    expect(keyCalls.filter((c) => c.command === 'GetItemCommand')).toEqual([]);
  });

  it('a bad body with a key deleted since: 401 wins, as with a fresh read', async () => {
    const key = await newKey();
    const [, call] = WIRES[0];
    await ok(await call(key.api_key));
    await ctx.gw.idle();
    await ctx.admin.post('/admin/api-key/delete', { id: key.id });
    expect((await call(key.api_key, { messages: 'not a list' })).status).toBe(401);
  });

  it('20 concurrent calls on one recalled key: all served, each charged once, nothing left reserved', async () => {
    const key = await newKey();
    const [, call] = WIRES[0];
    await ok(await call(key.api_key));
    await ctx.gw.idle();
    const before = (await getKeyById(key.id))!;
    const results = await Promise.all(Array.from({ length: 20 }, () => call(key.api_key)));
    for (const r of results) await ok(r);
    await ctx.gw.idle();
    const after = (await getKeyById(key.id))!;
    const one = before.totalFee; // the first call's fee: every call here is the same
    expect(after.totalFee).toBe(before.totalFee + 20n * one);
    expect(after.reserved).toBe(0n);
    expect(after.parallel).toBe(0);
  });
});

describe('a recalled admin key', () => {
  async function adminKey(): Promise<NewKeyView> {
    const res = await ctx.admin.post('/admin/api-key/apply', { name: `a-${Math.random()}`, role: 'admin' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data;
  }

  it.each(WIRES)('%s: confirmed by one key read, and the Bedrock request leaves only once that read has answered', async (_, call) => {
    const key = await adminKey();
    await ok(await call(key.api_key));
    await ctx.gw.idle();
    ctx.gw.sim.reset();
    keyReadDelayMs = 150;
    await servedRecorded(() => call(key.api_key));
    expect(keyCalls.filter((c) => c.command === 'GetItemCommand')).toHaveLength(1);
    expect(keyReadsDone).toHaveLength(1);
    expect(ctx.gw.sim.requests).toHaveLength(1);
    expect(ctx.gw.sim.requests[0].time).toBeGreaterThanOrEqual(keyReadsDone[0]);
  });

  it.each(WIRES)('%s: disabled since: 401 saying so, no upstream call, nothing recorded', async (_, call) => {
    const key = await adminKey();
    await ok(await call(key.api_key));
    await ctx.gw.idle();
    const threads = async () => (await ctx.admin.get(`/admin/thread/list?key_id=${key.id}`)).body.data.total;
    const before = await threads();
    await ctx.admin.post('/admin/api-key/disable', { id: key.id });
    ctx.gw.sim.reset();
    keyReadDelayMs = 50; // the call's own work runs ahead of the read: the gate must hold it
    const res = await call(key.api_key);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('disabled');
    await ctx.gw.idle();
    expect(ctx.gw.sim.requests).toHaveLength(0);
    expect(await threads()).toBe(before);
  });

  it('deleted since: 401, no upstream call; reset since: the old secret 401, the new one served', async () => {
    const [, call] = WIRES[0];
    const gone = await adminKey();
    await ok(await call(gone.api_key));
    await ctx.gw.idle();
    await ctx.admin.post('/admin/api-key/delete', { id: gone.id });
    const moved = await adminKey();
    await ok(await call(moved.api_key));
    await ctx.gw.idle();
    const reset = await ctx.admin.post('/admin/api-key/reset', { id: moved.id });
    ctx.gw.sim.reset();
    expect((await call(gone.api_key)).status).toBe(401);
    expect((await call(moved.api_key)).status).toBe(401);
    expect(ctx.gw.sim.requests).toHaveLength(0);
    await ok(await call(reset.body.data.api_key));
  });

  it('with limits of its own: confirmed by its admission write (which counts them), no read', async () => {
    const [, call] = WIRES[0];
    const res = await ctx.admin.post('/admin/api-key/apply', { name: `al-${Math.random()}`, role: 'admin', rpm_limit: 1000 });
    const key = res.body.data;
    await ok(await call(key.api_key));
    await ctx.gw.idle();
    await servedRecorded(() => call(key.api_key));
    expectConfirmedByAdmission();
  });

  it('an image URL waits for the confirming read too: a key refused meanwhile fetches nothing', async () => {
    const [, call] = WIRES[0];
    const key = await adminKey();
    await ok(await call(key.api_key));
    await ctx.gw.idle();
    await ctx.admin.post('/admin/api-key/disable', { id: key.id });
    let fetched = 0;
    const server = (await import('node:http')).createServer((_req, res) => {
      fetched++;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const undo = overrideConfig({ imageFetch: { ...config().imageFetch, allowHosts: [`127.0.0.1:${port}`] } });
    try {
      const withImage = {
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `http://127.0.0.1:${port}/cat.png` } }] }],
      };
      const other = await adminKey(); // the control: a key that stays active does fetch
      await ok(await call(other.api_key));
      await ctx.gw.idle();
      keyReadDelayMs = 50;
      await (await call(other.api_key, withImage)).text();
      expect(fetched).toBe(1);
      const res = await call(key.api_key, withImage);
      expect(res.status).toBe(401);
      expect(fetched).toBe(1);
    } finally {
      undo();
      server.close();
    }
  });
});
