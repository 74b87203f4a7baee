/**
 * Bounded input, table-driven: every client-supplied string that can become part of a table key or an index value —
 * model names, session headers, names, emails, search terms, path ids, bot ids — is refused at the edge with a 4xx
 * in the route's own envelope when it is 1 KB, 64 KB or 2 MB long, and nothing is written to the table. (Before,
 * a 2 MB `model` reached DynamoDB's key limit and answered 500.)
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway();
let userKey = '';
let modelId = 0;
let botId = 0;
const dynamo = new DynamoDBClient({});

beforeAll(async () => {
  const model = await ctx.admin.post('/admin/model/save', {
    name: 'bounded',
    provider: 'bedrock-converse',
    config: { modelId: 'amazon.nova-lite-v1:0' },
    price_in: 1,
    price_out: 1,
  });
  modelId = model.body.data.id;
  const key = await ctx.admin.post('/admin/api-key/apply', {
    name: 'bounded-user',
    role: 'user',
    email: '',
    month_quota: 1,
  });
  userKey = key.body.data.api_key;
  await ctx.admin.post('/admin/api-key/bind-model', { key_id: key.body.data.id, model_id: modelId });
  const bot = await ctx.admin.post('/admin/bot/feishu/save', {
    name: 'bounded-bot',
    config: {
      appId: 'cli_b',
      appSecret: 'secret-0123456789abcdef',
      apiKey: userKey,
      modelId: 'bounded',
      encryptKey: 'encrypt-key-0123456789abcdef',
    },
  });
  botId = bot.body.data.id;
});
afterAll(() => dynamo.destroy());

async function itemCount(): Promise<number> {
  let n = 0;
  let start: Record<string, never> | undefined;
  do {
    const page = await dynamo.send(new ScanCommand({ TableName: process.env.TABLE_NAME, Select: 'COUNT', ExclusiveStartKey: start }));
    n += page.Count ?? 0;
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return n;
}

type Shape = 'openai' | 'envelope' | 'any';
interface Case {
  route: string;
  shape: Shape;
  send: (v: string) => Promise<Response>;
  /** The smallest size that is out of bounds for this field, when it is more than 1 KB. */
  boundedFrom?: number;
}

const json = (path: string, key: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${ctx.gw.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const get = (path: string, key: string) => fetch(`${ctx.gw.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
const chatBody = (model = 'bounded') => ({ model, messages: [{ role: 'user', content: 'hi' }] });
const q = (v: string) => encodeURIComponent(v);

const cases = (): Case[] => {
  const admin = ctx.gw.adminKey;
  return [
    { route: 'chat: model', shape: 'openai', send: (v) => json('/v1/chat/completions', userKey, chatBody(v)) },
    {
      route: 'chat: model (stream)',
      shape: 'openai',
      send: (v) => json('/v1/chat/completions', userKey, { ...chatBody(v), stream: true }),
    },
    { route: 'chat: Session-Id', shape: 'openai', send: (v) => json('/v1/chat/completions', userKey, chatBody(), { 'session-id': v }) },
    { route: 'embeddings: model', shape: 'openai', send: (v) => json('/v1/embeddings', userKey, { model: v, input: 'x' }) },
    {
      route: 'embeddings: Session-Id',
      shape: 'openai',
      send: (v) => json('/v1/embeddings', userKey, { model: 'bounded', input: 'x' }, { 'session-id': v }),
    },
    { route: 'models: id', shape: 'any', send: (v) => get(`/v1/models/${q(v)}`, userKey) },
    { route: 'key apply: name', shape: 'envelope', send: (v) => json('/admin/api-key/apply', admin, { name: v, role: 'user' }) },
    {
      route: 'key apply: email',
      shape: 'envelope',
      send: (v) => json('/admin/api-key/apply', admin, { name: 'n', role: 'user', email: v }),
    },
    { route: 'key update: name', shape: 'envelope', send: (v) => json('/admin/api-key/update', admin, { id: 1, name: v }) },
    { route: 'key recharge: api_key', shape: 'envelope', send: (v) => json('/admin/api-key/recharge', admin, { api_key: v, balance: 1 }) },
    { route: 'key list: q', shape: 'envelope', send: (v) => get(`/admin/api-key/list?q=${q(v)}`, admin) },
    { route: 'key list: name', shape: 'envelope', send: (v) => get(`/admin/api-key/list?name=${q(v)}`, admin) },
    { route: 'model save: name', shape: 'envelope', send: (v) => json('/admin/model/save', admin, { name: v, config: { modelId: 'x' } }) },
    {
      route: 'model save: provider',
      shape: 'envelope',
      send: (v) => json('/admin/model/save', admin, { name: 'p', provider: v, config: { modelId: 'x' } }),
    },
    // A model id may be a long ARN (Bedrock allows 2048 characters); the whole config is capped at 32 KB.
    {
      route: 'model save: config',
      shape: 'envelope',
      send: (v) => json('/admin/model/save', admin, { name: 'c', config: { modelId: v } }),
      boundedFrom: 4096,
    },
    { route: 'model list: q', shape: 'envelope', send: (v) => get(`/admin/model/list?q=${q(v)}`, admin) },
    { route: 'group save: name', shape: 'envelope', send: (v) => json('/admin/group/save', admin, { name: v }) },
    { route: 'group list: q', shape: 'envelope', send: (v) => get(`/admin/group/list?q=${q(v)}`, admin) },
    { route: 'session list: q', shape: 'envelope', send: (v) => get(`/admin/session/list?q=${q(v)}`, admin) },
    { route: 'thread list: q', shape: 'envelope', send: (v) => get(`/admin/thread/list?q=${q(v)}`, admin) },
    { route: 'session detail: id', shape: 'any', send: (v) => get(`/admin/session/detail/${q(v)}`, admin) },
    { route: 'statistics: model', shape: 'envelope', send: (v) => get(`/admin/statistics/usage?model=${q(v)}`, admin) },
    { route: 'bot save: name', shape: 'envelope', send: (v) => json('/admin/bot/feishu/save', admin, { id: botId, name: v }) },
    {
      route: 'bot save: modelId',
      shape: 'envelope',
      send: (v) => json('/admin/bot/feishu/save', admin, { id: botId, config: { modelId: v } }),
    },
    {
      route: 'bot save: appId',
      shape: 'envelope',
      send: (v) => json('/admin/bot/feishu/save', admin, { id: botId, config: { appId: v } }),
    },
    { route: 'user thread list: q', shape: 'envelope', send: (v) => get(`/user/thread/list?q=${q(v)}`, userKey) },
    { route: 'user thread detail: id', shape: 'any', send: (v) => get(`/user/thread/detail/${q(v)}`, userKey) },
    {
      route: 'feishu webhook: bot id',
      shape: 'any',
      send: (v) => json(`/bot/feishu/${q(v)}/webhook`, '', { type: 'url_verification', challenge: 'c' }),
    },
  ];
};

const SIZES = { '1 KB': 1024, '64 KB': 64 * 1024, '2 MB': 2 * 1024 * 1024 };

describe('every key-bound string is bounded at the edge', () => {
  it.each(Object.entries(SIZES))(
    '%s values: a 4xx in the route’s envelope for every field, and no write',
    async (_label, size) => {
      const value = 'x'.repeat(size);
      // Warm up once (the first request of a process may provision the bootstrap admin key).
      await get('/admin/group/list', ctx.gw.adminKey);
      const before = await itemCount();
      const failures: string[] = [];
      for (const c of cases().filter((c) => size >= (c.boundedFrom ?? 0))) {
        const res = await c.send(value);
        const text = await res.text();
        if (res.status < 400 || res.status >= 500) {
          failures.push(`${c.route}: ${res.status} ${text.slice(0, 120)}`);
          continue;
        }
        // Node's own limits (431/414 for a 64 KB+ header or URL) answer before any handler; handler answers are shaped.
        if (res.status === 431 || res.status === 414) continue;
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          failures.push(`${c.route}: ${res.status} with a non-JSON body`);
          continue;
        }
        const shaped =
          c.shape === 'openai'
            ? typeof (body as { error?: { message?: unknown } }).error?.message === 'string'
            : c.shape === 'envelope'
              ? (body as { success?: unknown }).success === false
              : true;
        if (!shaped) failures.push(`${c.route}: ${res.status} not in the route's envelope: ${text.slice(0, 120)}`);
      }
      expect(failures).toEqual([]);
      expect(await itemCount()).toBe(before);
    },
    120_000,
  );
});

describe('ids and counts are whole numbers, not anything Number() reads', () => {
  // Before, ids went through Number(): `{"id": true}` named record 1, and `[5]`, `"0x5"`, `"5 "`, `"1e0"` named 5.
  const notIds = (id: number): unknown[] => [true, [id], `0x${id.toString(16)}`, `${id} `, ` ${id}`, '1e0', 1.5, {}, '-1', ''];

  it('a body id that is not a whole number or a string of digits is a 400, and nothing is deleted', async () => {
    const admin = ctx.gw.adminKey;
    const made = await json('/admin/api-key/apply', admin, { name: 'id-shape', role: 'user', email: '', month_quota: 1 });
    const id = ((await made.json()) as { data: { id: number } }).data.id;
    const before = await itemCount();
    const failures: string[] = [];
    for (const bad of [...notIds(id), ...notIds(1)]) {
      const res = await json('/admin/api-key/delete', admin, { id: bad });
      const body = (await res.json()) as { success?: boolean };
      if (res.status !== 400 || body.success !== false) failures.push(`${JSON.stringify(bad)} → ${res.status}`);
    }
    expect(failures).toEqual([]);
    expect(await itemCount()).toBe(before);
    // A digit string is still an id (console forms send strings).
    const ok = await json('/admin/api-key/delete', admin, { id: String(id) });
    expect(ok.status).toBe(200);
  });

  it('query ids and page counts are digits only', async () => {
    const admin = ctx.gw.adminKey;
    for (const path of [
      '/admin/api-key/list-model?key_id=0x1',
      '/admin/api-key/list-model?key_id=1e0',
      '/admin/payment/list?key_id=0x1',
      '/admin/session/list?key_id=%201',
      '/admin/group/list?limit=0x10',
      '/admin/group/list?offset=1e1',
    ]) {
      const res = await get(path, admin);
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as { success?: boolean }).success, path).toBe(false);
    }
    expect((await get('/admin/api-key/list-model?key_id=1', admin)).status).toBe(200);
    expect((await get('/admin/group/list?limit=5&offset=0', admin)).status).toBe(200);
  });
});

describe('a search term may be as long as what it names', () => {
  it('a session named by a Session-Id of 256 characters is found by that whole id; 257 is a 400', async () => {
    const sessionKey = `s${'x'.repeat(255)}`;
    expect((await json('/v1/chat/completions', userKey, chatBody(), { 'session-id': sessionKey })).status).toBe(200);
    for (const [path, key] of [
      ['/admin/session/list', ctx.gw.adminKey],
      ['/user/session/list', userKey],
    ] as const) {
      const res = await get(`${path}?q=${q(sessionKey)}`, key);
      const body = (await res.json()) as { data: { items: Array<{ session_key: string }> } };
      expect(res.status, path).toBe(200);
      expect(body.data.items.map((s) => s.session_key)).toEqual([sessionKey]);
      expect((await get(`${path}?q=${q(`${sessionKey}x`)}`, key)).status, path).toBe(400);
    }
  });

  it('statistics filter by a model name of 256 characters', async () => {
    const res = await get(`/admin/statistics/usage?model=${q('m'.repeat(256))}`, ctx.gw.adminKey);
    expect(res.status).toBe(200);
    expect((await get(`/admin/statistics/usage?model=${q('m'.repeat(257))}`, ctx.gw.adminKey)).status).toBe(400);
  });
});
