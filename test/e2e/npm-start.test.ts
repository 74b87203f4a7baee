/**
 * Black-box acceptance test of `npm start` (see the contract): the product runs as a child process exactly as a
 * user starts it — `node --import tsx local/start.ts` with PORT, DATA_DIR and ADMIN_API_KEY, without AWS
 * credentials, so that it starts its own DynamoDB Local and its own Bedrock simulator — and is driven only over
 * HTTP on 127.0.0.1 with plain fetch and the official `openai` SDK. Nothing of the product is imported.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  type ApiClient,
  type ApiError,
  type Envelope,
  type KeyView,
  type NewKeyView,
  type Page,
  type PaymentView,
  type RawResponse,
  request,
  type SessionView,
  type ThreadView,
} from '../support/api.js';
import {
  alive,
  descendants,
  EXIT_TIMEOUT_MS,
  type Instance,
  processesMentioning,
  sleep,
  startInstance,
  stopAllInstances,
} from '../support/npm-start.js';

/** SIGTERM to the product's own pid only (not its group): it must end its DynamoDB Local itself. */
async function sigtermAndCheck(inst: Instance) {
  const kids = descendants(inst.child.pid!);
  const java = kids.filter((p) => /DynamoDBLocal/i.test(p.cmd));
  expect(java.length, `${inst.name} runs its own DynamoDB Local as a child`).toBeGreaterThan(0);
  const t0 = Date.now();
  process.kill(inst.child.pid!, 'SIGTERM');
  const res = await Promise.race([inst.exited, sleep(EXIT_TIMEOUT_MS).then(() => 'timeout' as const)]);
  const took = Date.now() - t0;
  expect(res, `${inst.name} exits within ${EXIT_TIMEOUT_MS} ms of SIGTERM`).not.toBe('timeout');
  // give a just-killed child a moment to be reaped
  for (let i = 0; i < 20 && kids.some((p) => alive(p.pid)); i++) await sleep(100);
  expect(
    kids.filter((p) => alive(p.pid)).map((p) => `${p.pid} ${p.cmd}`),
    'no child process survives',
  ).toEqual([]);
  expect(
    processesMentioning(inst.dataDir).map((p) => `${p.pid} ${p.cmd}`),
    'nothing still uses DATA_DIR',
  ).toEqual([]);
  return took;
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP helpers (typed by the gateway's own view types; only types come from the product)

const client = api;

/** `{success:true, data}` with status 200; returns data. */
function ok<T>(r: Envelope<T>): T {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body.success).toBe(true);
  expect(r.body).toHaveProperty('data');
  return r.body.data;
}

/** The model ids of a /v1/models answer. */
const modelIds = (r: RawResponse) => (r.body as OpenAI.PageResponse<OpenAI.Model>).data.map((m) => m.id);

/** A list envelope: `data = {items, total, limit, offset}`. */
function okList<T>(r: Envelope<Page<T>>, limit = 20, offset = 0): T[] {
  const data = ok(r);
  expect(Object.keys(data).sort()).toEqual(expect.arrayContaining(['items', 'limit', 'offset', 'total']));
  expect(Array.isArray(data.items)).toBe(true);
  expect(typeof data.total).toBe('number');
  expect(data.limit).toBe(limit);
  expect(data.offset).toBe(offset);
  return data.items;
}

/** The items of a list envelope, without judging limit/offset (checked separately, so one flaw does not hide others). */
function listItems<T>(r: Envelope<Page<T>>): T[] {
  const data = ok(r);
  expect(Array.isArray(data.items), JSON.stringify(data)).toBe(true);
  return data.items;
}

/** `{success:false, error:{code, message}}` with the given status. */
function fail(r: Envelope<unknown>, status: number): ApiError {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body.success).toBe(false);
  expect(typeof r.body.error?.code).toBe('string');
  expect(typeof r.body.error?.message).toBe('string');
  return r.body.error!;
}

/** OpenAI's `{error:{message, type, param, code}}`. */
function openAiError(r: RawResponse, status: number, code: string | undefined, type?: string): OpenAI.ErrorObject {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toHaveProperty('error');
  const { error } = r.body as { error: OpenAI.ErrorObject };
  expect(Object.keys(error)).toEqual(expect.arrayContaining(['message', 'type', 'param', 'code']));
  expect(typeof error.message).toBe('string');
  expect(typeof error.type).toBe('string');
  if (code !== undefined) expect(error.code).toBe(code);
  if (type) expect(error.type).toBe(type);
  return error;
}

/** A raw call (the /v1 routes answer in OpenAI's shapes, not the envelope). */
const call = (base: string, method: string, path: string, key?: string, body?: unknown, headers?: Record<string, string>) =>
  request(base, method, path, { key, body, headers });

async function eventually<T>(fn: () => Promise<T>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(150);
    }
  }
}

const KEY_RE = /^br-[A-Za-z0-9]{32,}$/;
const KEY_FIELDS: Array<keyof KeyView> = [
  'id',
  'name',
  'email',
  'role',
  'group_id',
  'month_quota',
  'month_fee',
  'balance',
  'total_fee',
  'key_hint',
  'created_at',
  'updated_at',
];
const SESSION_FIELDS: Array<keyof SessionView> = [
  'id',
  'key_id',
  'session_key',
  'title',
  'tokens_in',
  'tokens_out',
  'fee',
  'created_at',
  'updated_at',
];
const THREAD_FIELDS: Array<keyof ThreadView> = [
  'id',
  'key_id',
  'session_id',
  'model',
  'prompt',
  'completion',
  'reasoning',
  'tool_calls',
  'finish_reason',
  'tokens_in',
  'tokens_out',
  'tokens_cache_read',
  'tokens_cache_write',
  'fee',
  'first_byte_latency',
  'total_latency',
  'status',
  'error',
  'created_at',
];
const PAYMENT_FIELDS: Array<keyof PaymentView> = ['id', 'key_id', 'amount', 'balance_after', 'created_at'];

function hasFields(obj: unknown, fields: readonly string[]) {
  for (const f of fields) expect(obj, `field ${f}`).toHaveProperty(f);
}

/** A key record never carries the plaintext or its hash. */
function noSecret(record: unknown, plaintexts: string[]) {
  const json = JSON.stringify(record);
  for (const p of plaintexts) {
    expect(json).not.toContain(p);
    expect(json).not.toContain(createHash('sha256').update(p).digest('hex'));
    expect(json).not.toContain(createHash('sha256').update(p).digest('base64'));
  }
}

// ---------------------------------------------------------------------------------------------------------------

const BOOT_KEY = `br-local-admin-${randomBytes(12).toString('hex')}`;
let A: Instance; // with ADMIN_API_KEY
let B: Instance; // without: generates its own admin key
let bKey = '';
let bKeyFile = '';

beforeAll(async () => {
  [A, B] = await Promise.all([startInstance('with-admin-key', { adminKey: BOOT_KEY }), startInstance('generated-admin-key')]);
}, 150_000);

afterAll(stopAllInstances, 60_000);

describe('npm start (black box)', () => {
  // shared state, built up in order
  let admin: ApiClient;
  const ids: Record<string, number> = {};
  const keys: Record<string, NewKeyView> = {};

  it('serves /health and accepts the ADMIN_API_KEY as an admin key (Bearer and x-api-key)', async () => {
    expect((await fetch(`${A.url}/health`)).status).toBe(200);
    admin = client(A.url, BOOT_KEY);
    const items = okList(await admin.get('/admin/api-key/list'));
    const adminRows = items.filter((k) => k.role === 'admin');
    expect(adminRows.length).toBeGreaterThanOrEqual(1);
    for (const row of items) hasFields(row, KEY_FIELDS);
    noSecret(items, [BOOT_KEY]);
    okList(await client(A.url).get('/admin/group/list', { 'x-api-key': BOOT_KEY }));
    // role filter
    const admins = okList(await admin.get('/admin/api-key/list?role=admin'));
    expect(admins.length).toBeGreaterThanOrEqual(1);
    expect(admins.every((k) => k.role === 'admin')).toBe(true);
  });

  it('refuses /admin without or with an unknown key (401 envelope)', async () => {
    fail(await client(A.url).get('/admin/group/list'), 401);
    fail(await client(A.url, `br-${'x'.repeat(40)}`).get('/admin/group/list'), 401);
    fail(await client(A.url, `br-${'x'.repeat(40)}`).get('/user/api-key/mine'), 401);
  });

  it('groups: save, update, list (default limit 20 / offset 0, q), delete, unknown id 404', async () => {
    const g = ok(await admin.post('/admin/group/save', { name: 'team-a' }));
    expect(g).toMatchObject({ name: 'team-a' });
    expect(typeof g.id).toBe('number');
    ids.group = g.id;
    const tmp = ok(await admin.post('/admin/group/save', { name: 'temp-group' }));
    ok(await admin.post('/admin/group/save', { id: tmp.id, name: 'temp-group-renamed' }));
    let items = okList(await admin.get('/admin/group/list'));
    expect(items.map((x) => x.name)).toEqual(expect.arrayContaining(['team-a', 'temp-group-renamed']));
    items = okList(await admin.get('/admin/group/list?q=team-a'));
    expect(items.map((x) => x.name)).toContain('team-a');
    expect(items.map((x) => x.name)).not.toContain('temp-group-renamed');
    ok(await admin.post('/admin/group/delete', { id: tmp.id }));
    items = okList(await admin.get('/admin/group/list'));
    expect(items.map((x) => x.id)).not.toContain(tmp.id);
    fail(await admin.post('/admin/group/delete', { id: 987654 }), 404);
  });

  it('models: save (config as a JSON string, seed shape), update by id, list, 409 on a duplicate name, delete', async () => {
    const save = (name: string, extra: Record<string, unknown> = {}) =>
      admin.post('/admin/model/save', {
        name,
        multiple: false,
        config: '{"modelId": "us.anthropic.claude-3-5-haiku-20241022-v1:0"}',
        provider: 'bedrock-converse',
        price_in: 1,
        price_out: 3,
        ...extra,
      });
    const a = ok(await save('chat-a'));
    expect(a).toMatchObject({ name: 'chat-a', provider: 'bedrock-converse' });
    expect(typeof a.id).toBe('number');
    ids.chatA = a.id;
    ids.chatB = ok(await save('chat-b')).id; // bound to one key only
    ids.chatC = ok(await save('chat-c')).id; // bound to nothing
    ids.embed = ok(
      await admin.post('/admin/model/save', {
        name: 'titan-embed',
        multiple: false,
        config: '{"modelId": "amazon.titan-embed-text-v2:0"}',
        provider: 'bedrock-embeddings',
        price_in: 0.02,
        price_out: 0,
      }),
    ).id;
    // update: prices of chat-a become 3 / 15 per 1M tokens
    const upd = ok(await save('chat-a', { id: ids.chatA, price_in: 3, price_out: 15 }));
    expect(upd).toMatchObject({ id: ids.chatA, price_in: 3, price_out: 15 });

    const dup = fail(await save('chat-a'), 409);
    expect(dup.code).toBeTruthy();

    const items = okList(await admin.get('/admin/model/list'));
    const byName = Object.fromEntries(items.map((m) => [m.name, m]));
    expect(Object.keys(byName)).toEqual(expect.arrayContaining(['chat-a', 'chat-b', 'chat-c', 'titan-embed']));
    expect(byName['chat-a']).toMatchObject({ id: ids.chatA, price_in: 3, price_out: 15, provider: 'bedrock-converse' });
    expect(byName['titan-embed']).toMatchObject({ provider: 'bedrock-embeddings' });
    // config was sent as a JSON string; it may come back as that string or as the object
    const shown: unknown = byName['chat-a'].config;
    const cfg = (typeof shown === 'string' ? JSON.parse(shown) : shown) as Record<string, unknown>;
    expect(cfg.modelId).toBe('us.anthropic.claude-3-5-haiku-20241022-v1:0');
    expect(okList(await admin.get('/admin/model/list?q=titan')).map((m) => m.name)).toEqual(['titan-embed']);

    const tmp = ok(await save('temp-model'));
    ok(await admin.post('/admin/model/delete', { id: tmp.id }));
    expect(okList(await admin.get('/admin/model/list')).map((m) => m.name)).not.toContain('temp-model');
    fail(await admin.post('/admin/model/delete', { id: 987654 }), 404);
  });

  it('api keys: apply (plaintext once), list without plaintext, filters, limit/offset, update', async () => {
    const apply = (body: Record<string, unknown>) => admin.post('/admin/api-key/apply', body);
    keys.u1 = ok(await apply({ name: 'jack', group_id: ids.group, role: 'user', email: 'jack@example.com', month_quota: 1.0 }));
    expect(keys.u1).toMatchObject({ name: 'jack', role: 'user', group_id: ids.group, month_quota: 1, balance: 0 });
    expect(typeof keys.u1.id).toBe('number');
    expect(keys.u1.api_key).toMatch(KEY_RE);
    keys.u2 = ok(await apply({ name: 'jill', group_id: ids.group, role: 'user', email: '', month_quota: 1 }));
    keys.broke = ok(await apply({ name: 'broke', group_id: ids.group, role: 'user', email: '', month_quota: 0 }));
    keys.temp = ok(await apply({ name: 'temp-key', group_id: ids.group, role: 'user', email: '', month_quota: 1 }));
    keys.admin0 = ok(await apply({ name: 'rob', group_id: ids.group, role: 'admin', email: '', month_quota: 0 }));
    const plaintexts = [BOOT_KEY, ...Object.values(keys).map((k) => k.api_key)];
    expect(new Set(plaintexts).size).toBe(plaintexts.length);
    for (const k of Object.values(keys)) expect(k.api_key).toMatch(KEY_RE);

    const all = await admin.get('/admin/api-key/list');
    const items = okList(all);
    noSecret(all.body, plaintexts);
    for (const row of items) {
      hasFields(row, KEY_FIELDS);
      expect(row).not.toHaveProperty('api_key');
      expect(typeof row.key_hint).toBe('string');
      expect(row.key_hint.length).toBeLessThan(20);
      expect(typeof row.balance).toBe('number');
      expect(typeof row.month_fee).toBe('number');
    }
    expect(items.map((k) => k.id)).toEqual(expect.arrayContaining([keys.u1.id, keys.u2.id, keys.broke.id, keys.temp.id, keys.admin0.id]));

    const byName = okList(await admin.get('/admin/api-key/list?name=jack'));
    expect(byName.map((k) => k.id)).toEqual([keys.u1.id]);
    const byGroup = okList(await admin.get(`/admin/api-key/list?group_id=${ids.group}&role=user`));
    expect(byGroup.map((k) => k.id).sort()).toEqual([keys.u1.id, keys.u2.id, keys.broke.id, keys.temp.id].sort());
    const paged = await admin.get('/admin/api-key/list?limit=2&offset=1');
    const page = okList(paged, 2, 1);
    expect(page.length).toBe(2);
    expect(paged.body.data.total).toBeGreaterThanOrEqual(6);

    ok(await admin.post('/admin/api-key/update', { id: keys.u1.id, name: 'jack2', month_quota: 10 }));
    const after = okList(await admin.get('/admin/api-key/list?name=jack2'));
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: keys.u1.id, name: 'jack2', month_quota: 10, email: 'jack@example.com', role: 'user' });
    fail(await admin.post('/admin/api-key/update', { id: 987654, name: 'nobody' }), 404);

    // a user key is no admin
    fail(await client(A.url, keys.u1.api_key).get('/admin/group/list'), 403);
  });

  it('recharge writes payment rows (by api_key and by id); payment list; bad amount 400; unknown id 404', async () => {
    const p1 = ok(await admin.post('/admin/api-key/recharge', { api_key: keys.u1.api_key, balance: 0.5 }));
    hasFields(p1, PAYMENT_FIELDS);
    expect(p1).toMatchObject({ key_id: keys.u1.id, amount: 0.5, balance_after: 0.5 });
    const p2 = ok(await admin.post('/admin/api-key/recharge', { id: keys.u1.id, balance: 0.25 }));
    expect(p2).toMatchObject({ key_id: keys.u1.id, amount: 0.25, balance_after: 0.75 });
    fail(await admin.post('/admin/api-key/recharge', { id: keys.u1.id, balance: 0 }), 400);
    fail(await admin.post('/admin/api-key/recharge', { id: keys.u1.id, balance: -1 }), 400);
    fail(await admin.post('/admin/api-key/recharge', { id: 987654, balance: 1 }), 404);

    const res = await admin.get(`/admin/payment/list?key_id=${keys.u1.id}`);
    const pays = okList(res);
    expect(res.body.data.total).toBe(2);
    for (const p of pays) hasFields(p, PAYMENT_FIELDS);
    expect(pays.map((p) => p.amount).sort()).toEqual([0.25, 0.5]);
    okList(await admin.get('/admin/payment/list'));
    const mine = ok(await client(A.url, keys.u1.api_key).get('/user/api-key/mine'));
    expect(mine.balance).toBe(0.75);
  });

  it('reset: new plaintext, the old key is refused at once; delete: key refused, second delete 404', async () => {
    const old = keys.temp.api_key;
    expect(ok(await client(A.url, old).get('/user/api-key/mine')).id).toBe(keys.temp.id);
    const r = ok(await admin.post('/admin/api-key/reset', { id: keys.temp.id }));
    expect(r.api_key).toMatch(KEY_RE);
    expect(r.api_key).not.toBe(old);
    fail(await client(A.url, old).get('/user/api-key/mine'), 401);
    openAiError(await call(A.url, 'GET', '/v1/models', old), 401, 'invalid_api_key');
    expect(ok(await client(A.url, r.api_key).get('/user/api-key/mine')).id).toBe(keys.temp.id);
    fail(await admin.post('/admin/api-key/reset', { id: 987654 }), 404);

    ok(await admin.post('/admin/api-key/delete', { id: keys.temp.id }));
    fail(await client(A.url, r.api_key).get('/user/api-key/mine'), 401);
    expect(okList(await admin.get('/admin/api-key/list')).map((k) => k.id)).not.toContain(keys.temp.id);
    fail(await admin.post('/admin/api-key/delete', { id: keys.temp.id }), 404);
  });

  it('the six model-authorization routes (group and key bind / list / unbind)', async () => {
    ok(await admin.post('/admin/group/bind-model', { group_id: ids.group, model_id: ids.chatA }));
    ok(await admin.post('/admin/group/bind-model', { group_id: ids.group, model_id: ids.embed }));
    ok(await admin.post('/admin/api-key/bind-model', { key_id: keys.u1.id, model_id: ids.chatB }));
    ok(await admin.post('/admin/api-key/bind-model', { key_id: keys.u1.id, model_id: ids.chatC }));

    const groupModels = listItems(await admin.get(`/admin/group/list-model?group_id=${ids.group}`));
    expect(groupModels.map((m) => m.id).sort()).toEqual([ids.chatA, ids.embed].sort());
    let keyModels = listItems(await admin.get(`/admin/api-key/list-model?key_id=${keys.u1.id}`));
    expect(keyModels.map((m) => m.id).sort()).toEqual([ids.chatB, ids.chatC].sort());

    ok(await admin.post('/admin/api-key/unbind-model', { key_id: keys.u1.id, model_id: ids.chatC }));
    keyModels = listItems(await admin.get(`/admin/api-key/list-model?key_id=${keys.u1.id}`));
    expect(keyModels.map((m) => m.id)).toEqual([ids.chatB]);

    // group unbind round trip on a throw-away binding
    ok(await admin.post('/admin/group/bind-model', { group_id: ids.group, model_id: ids.chatC }));
    expect(listItems(await admin.get(`/admin/group/list-model?group_id=${ids.group}`)).map((m) => m.id)).toContain(ids.chatC);
    ok(await admin.post('/admin/group/unbind-model', { group_id: ids.group, model_id: ids.chatC }));
    expect(listItems(await admin.get(`/admin/group/list-model?group_id=${ids.group}`)).map((m) => m.id)).not.toContain(ids.chatC);

    // the list envelope of both list-model routes: limit defaults to 20, offset to 0, like every list
    okList(await admin.get(`/admin/group/list-model?group_id=${ids.group}`));
    okList(await admin.get(`/admin/api-key/list-model?key_id=${keys.u1.id}`));
  });

  it('user views: api-key/mine and model/list are scoped to the caller; /v1/models lists only allowed models', async () => {
    const u1 = client(A.url, keys.u1.api_key);
    const mine = ok(await u1.get('/user/api-key/mine'));
    hasFields(mine, KEY_FIELDS);
    expect(mine).toMatchObject({ id: keys.u1.id, name: 'jack2', role: 'user', month_quota: 10, balance: 0.75 });
    noSecret(mine, [keys.u1.api_key]);
    expect(mine).not.toHaveProperty('api_key');

    const um = listItems(await u1.get('/user/model/list'));
    expect(um.map((m) => m.name).sort()).toEqual(['chat-a', 'chat-b', 'titan-embed']);
    noSecret(um, [keys.u1.api_key]);

    const sdk = new OpenAI({ baseURL: `${A.url}/v1`, apiKey: keys.u1.api_key, maxRetries: 0 });
    const models = [];
    for await (const m of sdk.models.list()) models.push(m.id);
    expect(models.sort()).toEqual(['chat-a', 'chat-b', 'titan-embed']);
    // u2 (same group, no key binding) sees the group's models only
    const u2models = await call(A.url, 'GET', '/v1/models', undefined, undefined, { 'x-api-key': keys.u2.api_key });
    expect(u2models.status).toBe(200);
    expect(modelIds(u2models).sort()).toEqual(['chat-a', 'titan-embed']);
    // admin keys see every model
    const adm = await call(A.url, 'GET', '/v1/models', BOOT_KEY);
    expect(modelIds(adm)).toEqual(expect.arrayContaining(['chat-a', 'chat-b', 'chat-c', 'titan-embed']));
    // list envelope: limit defaults to 20, offset to 0
    okList(await u1.get('/user/model/list'));
  });

  it('chat completions via the SDK (non-stream and stream) with Session-Id: a session and threads with model, tokens and fee', async () => {
    const sdk = new OpenAI({ baseURL: `${A.url}/v1`, apiKey: keys.u1.api_key, maxRetries: 0 });
    const headers = { 'Session-Id': 'e2e-session-1' };
    const r1 = await sdk.chat.completions.create(
      { model: 'chat-a', messages: [{ role: 'user', content: 'ping one' }], max_tokens: 256 },
      { headers },
    );
    expect(r1.model).toBe('chat-a');
    expect(r1.object).toBe('chat.completion');
    const text1 = r1.choices[0].message.content ?? '';
    expect(text1).toMatch(/simulated/i);
    expect(r1.choices[0].message.role).toBe('assistant');
    expect(r1.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(r1.usage?.completion_tokens).toBeGreaterThan(0);

    const stream = await sdk.chat.completions.create(
      {
        model: 'chat-a',
        messages: [{ role: 'user', content: 'ping two' }],
        max_tokens: 256,
        stream: true,
        stream_options: { include_usage: true },
      },
      { headers },
    );
    let text2 = '';
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null = null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.model).toBe('chat-a');
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        text2 += c.delta?.content ?? '';
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    expect(chunks).toBeGreaterThan(1);
    expect(text2).toMatch(/simulated/i);
    expect(finish).toBeTruthy();
    expect(usage?.prompt_tokens).toBeGreaterThan(0);

    const u1 = client(A.url, keys.u1.api_key);
    const sessions = await eventually(async () => {
      const s = okList(await u1.get('/user/session/list'));
      expect(s).toHaveLength(1);
      return s;
    });
    const session = sessions[0];
    hasFields(session, SESSION_FIELDS);
    expect(typeof session.id).toBe('number');
    expect(session).toMatchObject({ key_id: keys.u1.id, session_key: 'e2e-session-1' });

    const threads = await eventually(async () => {
      const t = okList(await u1.get(`/user/thread/list?session_id=${session.id}`));
      expect(t).toHaveLength(2);
      return t;
    });
    let sumIn = 0;
    let sumOut = 0;
    let sumFee = 0;
    for (const t of threads) {
      hasFields(t, THREAD_FIELDS);
      expect(t).toMatchObject({ key_id: keys.u1.id, session_id: session.id, model: 'chat-a' });
      expect(t.tokens_in).toBeGreaterThan(0);
      expect(t.tokens_out).toBeGreaterThan(0);
      expect(t.fee).toBeCloseTo((t.tokens_in * 3 + t.tokens_out * 15) / 1e6, 12);
      expect(t.fee).toBeGreaterThan(0);
      sumIn += t.tokens_in;
      sumOut += t.tokens_out;
      sumFee += t.fee;
    }
    expect(threads.map((t) => t.prompt).join('\n')).toContain('ping one');
    expect(threads.map((t) => t.prompt).join('\n')).toContain('ping two');
    expect(threads.map((t) => t.completion)).toEqual(expect.arrayContaining([text1, text2]));
    const nonStream = threads.find((t) => t.completion === text1)!;
    expect(nonStream.tokens_in).toBe(r1.usage!.prompt_tokens);
    expect(nonStream.tokens_out).toBe(r1.usage!.completion_tokens);

    const sd = ok(await u1.get(`/user/session/detail/${session.id}`));
    expect(sd).toMatchObject({ id: session.id, session_key: 'e2e-session-1', tokens_in: sumIn, tokens_out: sumOut });
    expect(sd.fee).toBeCloseTo(sumFee, 12);
    const td = ok(await u1.get(`/user/thread/detail/${threads[0].id}`));
    hasFields(td, THREAD_FIELDS);
    expect(td).toMatchObject({ id: threads[0].id, model: 'chat-a', session_id: session.id });

    const mine = ok(await u1.get('/user/api-key/mine'));
    expect(mine.month_fee).toBeCloseTo(sumFee, 12);
    expect(mine.total_fee).toBeCloseTo(sumFee, 12);
    expect(mine.balance).toBe(0.75);

    // admin views
    const aSessions = okList(await admin.get(`/admin/session/list?key_id=${keys.u1.id}`));
    expect(aSessions.map((s) => s.id)).toEqual([session.id]);
    okList(await admin.get('/admin/session/list'));
    const aThreads = okList(await admin.get(`/admin/thread/list?key_id=${keys.u1.id}&session_id=${session.id}`));
    expect(aThreads.map((t) => t.id).sort()).toEqual(threads.map((t) => t.id).sort());
    okList(await admin.get('/admin/thread/list'));
    okList(await admin.get('/admin/thread/list?limit=1'), 1, 0);

    // another key sees none of it
    const u2 = client(A.url, keys.u2.api_key);
    fail(await u2.get(`/user/session/detail/${session.id}`), 404);
    fail(await u2.get(`/user/thread/detail/${threads[0].id}`), 404);
    expect(okList(await u2.get('/user/session/list'))).toEqual([]);
    expect(okList(await u2.get('/user/thread/list'))).toEqual([]);
    fail(await u1.get('/user/session/detail/987654'), 404);
    ids.session = session.id;
    ids.thread = threads[0].id;
  });

  it('embeddings with a bedrock-embeddings model (titan v2), SDK and float format', async () => {
    const sdk = new OpenAI({ baseURL: `${A.url}/v1`, apiKey: keys.u1.api_key, maxRetries: 0 });
    const res = await sdk.embeddings.create({ model: 'titan-embed', input: ['Hello world.', 'Bonjour'] });
    expect(res.model).toBe('titan-embed');
    expect(res.data).toHaveLength(2);
    expect(res.data.map((d) => d.index)).toEqual([0, 1]);
    for (const d of res.data) {
      expect(d.embedding.length).toBeGreaterThan(0);
      expect(d.embedding.every((x) => typeof x === 'number' && Number.isFinite(x))).toBe(true);
    }
    expect(res.usage.prompt_tokens).toBeGreaterThan(0);
    const raw = await call(A.url, 'POST', '/v1/embeddings', keys.u1.api_key, {
      model: 'titan-embed',
      input: 'Hello world.',
      encoding_format: 'float',
    });
    expect(raw.status).toBe(200);
    const rawBody = raw.body as OpenAI.CreateEmbeddingResponse;
    expect(rawBody.object).toBe('list');
    expect(rawBody.data[0].object).toBe('embedding');
    expect(rawBody.data[0].embedding).toEqual(res.data[0].embedding.map((x) => Math.fround(x)));
  });

  it('/v1 errors in OpenAI shape: 401, 404 (also for a model the key may not use), 429 (x-should-retry: false), 400', async () => {
    const body: OpenAI.ChatCompletionCreateParamsNonStreaming = { model: 'chat-a', messages: [{ role: 'user', content: 'hi' }] };
    // 401
    openAiError(await call(A.url, 'POST', '/v1/chat/completions', `br-${'Z'.repeat(40)}`, body), 401, 'invalid_api_key');
    openAiError(await call(A.url, 'POST', '/v1/chat/completions', undefined, body), 401, 'invalid_api_key');
    const badSdk = new OpenAI({ baseURL: `${A.url}/v1`, apiKey: `br-${'Z'.repeat(40)}`, maxRetries: 0 });
    await expect(badSdk.chat.completions.create(body)).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    // 404: chat-c exists but is bound to nothing this key has — indistinguishable from a missing model
    const hidden = openAiError(
      await call(A.url, 'POST', '/v1/chat/completions', keys.u1.api_key, { ...body, model: 'chat-c' }),
      404,
      'model_not_found',
    );
    expect(hidden.message).toBe("The model 'chat-c' does not exist.");
    const sdk = new OpenAI({ baseURL: `${A.url}/v1`, apiKey: keys.u1.api_key, maxRetries: 0 });
    await expect(sdk.chat.completions.create({ ...body, model: 'chat-c' })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    // 404
    openAiError(
      await call(A.url, 'POST', '/v1/chat/completions', keys.u1.api_key, { ...body, model: 'no-such-model' }),
      404,
      'model_not_found',
    );
    await expect(sdk.chat.completions.create({ ...body, model: 'no-such-model' })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    // 429: month_quota 0 and no balance, on a permitted model
    const r429 = await call(A.url, 'POST', '/v1/chat/completions', keys.broke.api_key, body);
    openAiError(r429, 429, 'insufficient_quota');
    expect(r429.headers.get('x-should-retry')).toBe('false');
    const r429s = await call(A.url, 'POST', '/v1/chat/completions', keys.broke.api_key, { ...body, stream: true });
    openAiError(r429s, 429, 'insufficient_quota');
    expect(r429s.headers.get('x-should-retry')).toBe('false');
    const brokeSdk = new OpenAI({ baseURL: `${A.url}/v1`, apiKey: keys.broke.api_key, maxRetries: 2 });
    await expect(brokeSdk.chat.completions.create(body)).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    // 400 on bad bodies
    openAiError(await call(A.url, 'POST', '/v1/chat/completions', keys.u1.api_key, '{not json'), 400, undefined, 'invalid_request_error');
    openAiError(
      await call(A.url, 'POST', '/v1/chat/completions', keys.u1.api_key, { model: 'chat-a' }),
      400,
      undefined,
      'invalid_request_error',
    );
    openAiError(
      await call(A.url, 'POST', '/v1/chat/completions', keys.u1.api_key, { model: 'chat-a', messages: 'hello' }),
      400,
      undefined,
      'invalid_request_error',
    );
    openAiError(
      await call(A.url, 'POST', '/v1/embeddings', keys.u1.api_key, { model: 'titan-embed' }),
      400,
      undefined,
      'invalid_request_error',
    );
    await expect(sdk.embeddings.create({ model: 'titan-embed', input: '' })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    // nothing of the refused calls became the broke key's spending
    expect(ok(await client(A.url, keys.broke.api_key).get('/user/api-key/mine'))).toMatchObject({ month_fee: 0, balance: 0 });
  });

  it('an admin key with month_quota 0 is costed but never refused', async () => {
    const sdk = new OpenAI({ baseURL: `${A.url}/v1`, apiKey: keys.admin0.api_key, maxRetries: 0 });
    const r = await sdk.chat.completions.create({ model: 'chat-c', messages: [{ role: 'user', content: 'admin ping' }], max_tokens: 64 });
    expect(r.choices[0].message.content).toBeTruthy();
    const mine = await eventually(async () => {
      const m = ok(await client(A.url, keys.admin0.api_key).get('/user/api-key/mine'));
      expect(m.total_fee).toBeGreaterThan(0);
      return m;
    });
    expect(mine.role).toBe('admin');
  });

  it('Feishu bots: save (seed shape), update, list, delete', async () => {
    const cfg = {
      appId: 'cli_e2e',
      apiKey: keys.u1.api_key,
      modelId: 'chat-a',
      appSecret: 'secret-e2e',
      verificationToken: 'vt-e2e',
      encryptKey: 'ek-e2e',
    };
    const bot = ok(
      await admin.post('/admin/bot/feishu/save', { name: 'e2e-bot', config: JSON.stringify(cfg), provider: 'bedrock-converse' }),
    );
    expect(bot).toMatchObject({ name: 'e2e-bot' });
    expect(bot.id).toBeDefined();
    ok(
      await admin.post('/admin/bot/feishu/save', {
        id: bot.id,
        name: 'e2e-bot-2',
        config: JSON.stringify(cfg),
        provider: 'bedrock-converse',
      }),
    );
    let bots = okList(await admin.get('/admin/bot/feishu/list'));
    const found = bots.find((b) => b.id === bot.id);
    expect(found).toMatchObject({ name: 'e2e-bot-2' });
    ok(await admin.post('/admin/bot/feishu/delete', { id: bot.id }));
    bots = okList(await admin.get('/admin/bot/feishu/list'));
    expect(bots.map((b) => b.id)).not.toContain(bot.id);
    fail(await admin.post('/admin/bot/feishu/delete', { id: bot.id }), 404);
    fail(await client(A.url, keys.u1.api_key).get('/admin/bot/feishu/list'), 403);
  });

  it('without ADMIN_API_KEY: a key is generated, printed once, persisted under DATA_DIR, and works', async () => {
    const out = B.output();
    const printed = [...new Set(out.match(/br-[A-Za-z0-9]{32,}/g) ?? [])];
    expect(printed, `one generated key in the output:\n${out}`).toHaveLength(1);
    bKey = printed[0];
    expect(out.split(bKey).length - 1, 'printed once').toBe(1);
    // the file the output names, under DATA_DIR
    const escaped = B.dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const mentioned = [...new Set(out.match(new RegExp(`${escaped}/[^\\s)'"]+`, 'g')) ?? [])].map((p) => p.replace(/[.,:;]+$/, ''));
    const files = mentioned.filter((p) => existsSync(p) && statSync(p).isFile() && readFileSync(p, 'utf8').trim() === bKey);
    expect(files, `a file under DATA_DIR named in the output holds the key; mentioned: ${mentioned.join(', ')}`).toHaveLength(1);
    bKeyFile = files[0];

    const b = client(B.url, bKey);
    const items = okList(await b.get('/admin/api-key/list?role=admin'));
    expect(items.length).toBeGreaterThanOrEqual(1);
    noSecret(items, [bKey]);
    ok(await b.post('/admin/group/save', { name: 'only-on-b' }));
  });

  it('two instances run side by side with separate data', async () => {
    const [ha, hb] = await Promise.all([fetch(`${A.url}/health`), fetch(`${B.url}/health`)]);
    expect([ha.status, hb.status]).toEqual([200, 200]);
    expect(A.port).not.toBe(B.port);
    // each has its own DynamoDB Local
    const javaA = descendants(A.child.pid!)
      .filter((p) => /DynamoDBLocal/i.test(p.cmd))
      .map((p) => p.pid);
    const javaB = descendants(B.child.pid!)
      .filter((p) => /DynamoDBLocal/i.test(p.cmd))
      .map((p) => p.pid);
    expect(javaA.length).toBeGreaterThan(0);
    expect(javaB.length).toBeGreaterThan(0);
    expect(javaA.filter((p) => javaB.includes(p))).toEqual([]);
    // keys and data do not cross
    fail(await client(B.url, BOOT_KEY).get('/admin/group/list'), 401);
    fail(await client(A.url, bKey).get('/admin/group/list'), 401);
    expect(okList(await client(A.url, BOOT_KEY).get('/admin/group/list')).map((g) => g.name)).not.toContain('only-on-b');
    expect(okList(await client(B.url, bKey).get('/admin/group/list')).map((g) => g.name)).toEqual(['only-on-b']);
    // both serve chat at the same time
    const mk = (inst: Instance, key: string) =>
      client(inst.url, key).post('/admin/model/save', {
        name: 'side',
        config: '{"modelId":"amazon.nova-lite-v1:0"}',
        provider: 'bedrock-converse',
        price_in: 1,
        price_out: 1,
      });
    ok(await mk(B, bKey));
    ok(await mk(A, BOOT_KEY));
    const [ca, cb] = await Promise.all([
      new OpenAI({ baseURL: `${A.url}/v1`, apiKey: BOOT_KEY, maxRetries: 0 }).chat.completions.create({
        model: 'side',
        messages: [{ role: 'user', content: 'a' }],
        max_tokens: 32,
      }),
      new OpenAI({ baseURL: `${B.url}/v1`, apiKey: bKey, maxRetries: 0 }).chat.completions.create({
        model: 'side',
        messages: [{ role: 'user', content: 'b' }],
        max_tokens: 32,
      }),
    ]);
    expect(ca.model).toBe('side');
    expect(cb.model).toBe('side');
  });

  it('SIGTERM: the generated-key instance exits within 10 s and leaves no DynamoDB Local behind; a restart on the same DATA_DIR keeps key and data, and moves records of an older layout', async () => {
    // A thread as an older version kept it (its own partition, a gsi1 entry), written into B's DynamoDB Local.
    const endpoint = /DynamoDB Local (http:\/\/127\.0\.0\.1:\d+)/.exec(B.output())![1];
    const old = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    );
    const oldThread = 777_001;
    await old.send(
      new PutCommand({
        TableName: 'bedrock-gateway',
        Item: {
          pk: `THREAD#${oldThread}`,
          sk: 'THREAD',
          type: 'thread',
          id: oldThread,
          key_id: 1,
          kind: 'chat',
          model: 'old',
          prompt: 'kept by an older version',
          completion: '',
          status: 'ok',
          created_at: '2026-11-01T00:00:00.000Z',
          gsi1pk: `THREADS#${oldThread % 8}`,
          gsi1sk: String(oldThread).padStart(12, '0'),
        },
      }),
    );
    old.destroy();
    await sigtermAndCheck(B);
    const B2 = await startInstance('generated-admin-key-restart', { dataDir: B.dataDir });
    expect(readFileSync(bKeyFile, 'utf8').trim()).toBe(bKey);
    const b = client(B2.url, bKey);
    expect(okList(await b.get('/admin/group/list')).map((g) => g.name)).toEqual(['only-on-b']);
    expect(B2.output()).toMatch(/Moved 1 record\(s\) kept by an older version/);
    const threads = okList<{ id: number; prompt: string }>(await b.get('/admin/thread/list?limit=200'), 200);
    expect(threads.find((t) => t.id === oldThread)).toMatchObject({ prompt: 'kept by an older version' });
    await sigtermAndCheck(B2);
    // The key file deleted (a rotation): the next start on the same table generates a key, and that key works.
    rmSync(bKeyFile);
    const B3 = await startInstance('generated-admin-key-rotated', { dataDir: B.dataDir });
    const rotated = readFileSync(bKeyFile, 'utf8').trim();
    expect(rotated).not.toBe(bKey);
    expect(B3.output()).toContain(rotated);
    expect(okList(await client(B3.url, rotated).get('/admin/group/list')).map((g) => g.name)).toEqual(['only-on-b']);
    await sigtermAndCheck(B3);
  }, 120_000);

  it('SIGTERM: the ADMIN_API_KEY instance exits within 10 s and leaves no DynamoDB Local behind', async () => {
    await sigtermAndCheck(A);
    // and it no longer answers
    await expect(fetch(`${A.url}/health`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
  }, 30_000);
});

describe('npm start with DYNAMODB_IN_MEMORY=1', () => {
  afterAll(() => stopAllInstances());

  it('keeps the table in memory: it says so, writes no DynamoDB files, serves calls, and a restart starts empty', async () => {
    const key = `br-${randomBytes(20).toString('hex')}`;
    const first = await startInstance('in-memory', { adminKey: key, env: { DYNAMODB_IN_MEMORY: '1' } });
    expect(first.output()).toMatch(/DynamoDB Local http:\/\/127\.0\.0\.1:\d+ \(IN MEMORY/);
    const admin = client(first.url, key);
    expect((await admin.post('/admin/group/save', { name: 'kept-in-memory' })).status).toBe(200);
    expect(okList(await admin.get('/admin/group/list')).map((g) => g.name)).toEqual(['kept-in-memory']);
    expect(existsSync(`${first.dataDir}/dynamodb`)).toBe(false);
    await sigtermAndCheck(first);
    const again = await startInstance('in-memory-again', { adminKey: key, dataDir: first.dataDir, env: { DYNAMODB_IN_MEMORY: '1' } });
    expect(okList(await client(again.url, key).get('/admin/group/list'))).toEqual([]);
    await sigtermAndCheck(again);
  }, 90_000);
});
