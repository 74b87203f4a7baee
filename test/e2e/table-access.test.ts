/**
 * The IAM key prefixes of each function (core/store/table-access.ts → the stack's `dynamodb:LeadingKeys` conditions)
 * cover every item its code touches. The local server runs each request in its function's context
 * (local/server.ts `servingFunction`); every DynamoDB call is recorded with the function that made it while the
 * gateway serves the real flows: admin setup, user reads, chat completions with sessions, stored responses, and a
 * Feishu message answered by the worker.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idle } from '../../lambdas/core/feishu/handoff.js';
import { leadingKeyPatterns, PK_PREFIX, TABLE_ACCESS } from '../../lambdas/core/store/table-access.js';
import { db } from '../../lambdas/core/store/table.js';
import type { FunctionName } from '../../lambdas/core/topology.js';
import { script } from '../../local/bedrock-simulator/index.js';
import { servingFunction, tagServingFunctions } from '../../local/server.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/feishu-open-platform.js';
import { postEncryptedEvent } from '../support/feishu.js';
import { api, useTestGateway } from '../support/gateway.js';

type Access = { fn: FunctionName | undefined; op: 'read' | 'write' | 'query'; pk: string; command: string };
const accesses: Access[] = [];
let recording = false;

const APP = { appId: 'cli_access_test', appSecret: 'app-secret-access-0123456789' };
const ENCRYPT_KEY = 'encrypt-key-access-0123456789abcdef';

let fake: FakeFeishu;
beforeAll(async () => {
  fake = await startFakeFeishu({ apps: { [APP.appId]: APP.appSecret }, botInfo: { openId: 'ou_bot', name: 'Bot' } });
});
afterAll(async () => {
  await fake?.close();
});
const ctx = useTestGateway({ config: () => ({ larkDomain: fake.url }) });

type Item = { pk?: unknown };
/** The document client's input, or the marshalled one (`{S: …}`) the base client's commands carry. */
const pkOf = (i: Item | undefined) => {
  const pk = i?.pk as { S?: string } | string | undefined;
  return typeof pk === 'object' && pk !== null ? String(pk.S) : String(pk);
};
const COMMANDS: Record<string, string> = {
  GetItemCommand: 'GetCommand',
  PutItemCommand: 'PutCommand',
  UpdateItemCommand: 'UpdateCommand',
  DeleteItemCommand: 'DeleteCommand',
  BatchGetItemCommand: 'BatchGetCommand',
  BatchWriteItemCommand: 'BatchWriteCommand',
  TransactWriteItemsCommand: 'TransactWriteCommand',
};

function record(name: string, input: Record<string, unknown>): void {
  if (!recording) return;
  const command = COMMANDS[name] ?? name;
  const fn = servingFunction.getStore();
  const add = (op: Access['op'], pk: string): void => void accesses.push({ fn, op, pk, command });
  switch (command) {
    case 'GetCommand':
      return add('read', pkOf(input.Key as Item));
    case 'PutCommand':
      return add('write', pkOf(input.Item as Item));
    case 'UpdateCommand':
    case 'DeleteCommand':
      return add('write', pkOf(input.Key as Item));
    case 'QueryCommand':
      return add('query', typeof input.IndexName === 'string' ? input.IndexName : 'table');
    case 'BatchGetCommand':
      for (const t of Object.values(input.RequestItems as Record<string, { Keys: Item[] }>)) for (const k of t.Keys) add('read', pkOf(k));
      return;
    case 'BatchWriteCommand':
      for (const t of Object.values(
        input.RequestItems as Record<string, Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>>,
      )) {
        for (const r of t) add('write', pkOf(r.PutRequest?.Item ?? r.DeleteRequest?.Key));
      }
      return;
    case 'TransactWriteCommand':
      for (const t of input.TransactItems as Array<Record<string, { Item?: Item; Key?: Item }>>) {
        if (t.ConditionCheck) add('read', pkOf(t.ConditionCheck.Key));
        else for (const w of Object.values(t)) add('write', pkOf(w.Item ?? w.Key));
      }
      return;
    default:
      add('read', `?${command}`);
  }
}

beforeAll(() => {
  tagServingFunctions();
  db().middlewareStack.add(
    (next, context) => async (args) => {
      record(String(context.commandName), args.input);
      return next(args);
    },
    { step: 'initialize', name: 'recordTableAccess' },
  );
});

const matches = (pk: string, patterns: string[]) => patterns.some((p) => (p.endsWith('*') ? pk.startsWith(p.slice(0, -1)) : pk === p));

async function exercise(): Promise<void> {
  const { admin } = ctx;
  const group = (await admin.post('/admin/group/save', { name: 'access-group' })).body.data;
  const model = (
    await admin.post('/admin/model/save', {
      name: 'access-model',
      group_id: group.id,
      config: { modelId: 'anthropic.claude-3-haiku-20240307-v1:0' },
      provider: 'bedrock-converse',
      price_in: 3,
      price_out: 15,
    })
  ).body.data;
  const key = (
    await admin.post('/admin/api-key/apply', { name: 'access-user', group_id: group.id, role: 'user', email: '', month_quota: 5 })
  ).body.data;
  await admin.post('/admin/api-key/recharge', { id: key.id, balance: 1 });
  await admin.post('/admin/api-key/bind-model', { key_id: key.id, model_id: model.id });
  const bot = (
    await admin.post('/admin/bot/feishu/save', {
      name: 'access-bot',
      config: { ...APP, apiKey: key.api_key, modelId: 'access-model', encryptKey: ENCRYPT_KEY },
    })
  ).body.data;
  for (const path of ['/admin/api-key/list', '/admin/model/list', '/admin/bot/feishu/list', '/admin/thread/list', '/admin/session/list']) {
    expect((await admin.get(path)).status, path).toBe(200);
  }

  // chat: a completion in a session, a stored response and its continuation
  const user = api(ctx.gw.url, key.api_key);
  const chat = (body: Record<string, unknown>, path = '/v1/chat/completions') =>
    fetch(`${ctx.gw.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.api_key}`, 'content-type': 'application/json', 'session-id': 'access-session' },
      body: JSON.stringify(body),
    });
  ctx.gw.sim.enqueue(script.text('hello'));
  expect((await chat({ model: 'access-model', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200);
  ctx.gw.sim.enqueue(script.text('stored'));
  const stored = await chat({ model: 'access-model', input: 'remember me' }, '/v1/responses');
  expect(stored.status).toBe(200);
  const { id: responseId } = (await stored.json()) as { id: string };
  ctx.gw.sim.enqueue(script.text('continued'));
  expect((await chat({ model: 'access-model', input: 'and then?', previous_response_id: responseId }, '/v1/responses')).status).toBe(200);

  // user routes
  for (const path of ['/user/api-key/mine', '/user/model/list', '/user/session/list', '/user/thread/list']) {
    expect((await user.get(path)).status, path).toBe(200);
  }

  // Feishu: a signed, encrypted message, answered by the worker
  ctx.gw.sim.enqueue(script.text('answer from the bot'));
  const created = String(Date.now());
  const payload = {
    schema: '2.0',
    header: {
      event_id: `ev_${randomBytes(6).toString('hex')}`,
      event_type: 'im.message.receive_v1',
      create_time: created,
      app_id: APP.appId,
    },
    event: {
      sender: { sender_id: { open_id: 'ou_alice' }, sender_type: 'user' },
      message: {
        message_id: `om_${randomBytes(6).toString('hex')}`,
        create_time: created,
        chat_id: 'oc_access',
        chat_type: 'p2p',
        message_type: 'text',
        content: JSON.stringify({ text: 'hello bot' }),
      },
    },
  };
  const res = await postEncryptedEvent(ctx.gw.url, bot.id, payload, ENCRYPT_KEY);
  expect(res.status).toBe(200);
  await idle();
  expect(fake.calls.some((c) => c.path.includes('/im/v1/messages'))).toBe(true);
}

describe('table access by function', () => {
  beforeAll(async () => {
    recording = true;
    try {
      await exercise();
    } finally {
      recording = false;
    }
  }, 120_000);

  it('every function the flows reach was seen', () => {
    const seen = new Set(accesses.map((a) => a.fn));
    for (const fn of ['admin', 'chat', 'user', 'feishuWebhook', 'feishuWorker'] as const) expect(seen, fn).toContain(fn);
    const written = (fn: FunctionName) =>
      [...new Set(accesses.filter((a) => a.fn === fn && a.op === 'write').map((a) => a.pk.replace(/#.*/, '#')))].sort();
    // the flows did reach the writes that matter
    expect(written('feishuWebhook')).toEqual(['FEISHUEVENT#']);
    expect(written('feishuWorker')).toEqual(expect.arrayContaining(['FEISHUEVENT#', 'FEISHUCHAT#', 'THREADS#', 'CHARGE#']));
    expect(written('chat')).toEqual(expect.arrayContaining(['APIKEY#', 'RESPONSE#', 'THREADS#', 'SESSIONS#', 'CHARGE#']));
  });

  it.each(['admin', 'chat', 'user', 'feishuWebhook', 'feishuWorker'] as const)(
    '%s writes and reads only the key prefixes its IAM policy names',
    (fn) => {
      const access = TABLE_ACCESS[fn];
      const mine = accesses.filter((a) => a.fn === fn);
      const outside = (op: Access['op'], allowed: typeof access.reads) =>
        allowed === 'all'
          ? []
          : mine.filter((a) => a.op === op && !matches(a.pk, leadingKeyPatterns(allowed))).map((a) => `${a.command} ${a.pk}`);
      expect(outside('write', access.writes)).toEqual([]);
      expect(outside('read', access.reads)).toEqual([]);
      if (!access.queries) expect(mine.filter((a) => a.op === 'query').map((a) => a.pk)).toEqual([]);
      expect(mine.filter((a) => a.pk.startsWith('?')).map((a) => a.pk)).toEqual([]);
    },
  );

  it('the settle function may write everything a settlement writes (the same transaction the chat function applies in-line)', () => {
    const settlementKeys = accesses.filter((a) => a.fn === 'chat' && a.command === 'TransactWriteCommand' && a.op === 'write');
    const charged = settlementKeys.filter((a) => a.pk.startsWith(PK_PREFIX.charge));
    expect(charged.length).toBeGreaterThan(0);
    const patterns = leadingKeyPatterns(TABLE_ACCESS.settle.writes as Exclude<typeof TABLE_ACCESS.settle.writes, 'all'>);
    // every item of a transaction that writes a charge marker is a settlement
    const outside = settlementKeys.filter((a) => !matches(a.pk, patterns) && !a.pk.startsWith(PK_PREFIX.response));
    expect(outside.map((a) => a.pk)).toEqual([]);
  });

  it('the prefixes are the real ones of the key builders, and the webhook is confined to its bot and event items', () => {
    expect(leadingKeyPatterns(['bot', 'feishuEvent'])).toEqual(['BOT#*', 'FEISHUEVENT#*']);
    expect(leadingKeyPatterns(['bootstrap'])).toEqual(['BOOTSTRAP']);
    expect(TABLE_ACCESS.feishuWebhook).toEqual({ reads: ['bot', 'feishuEvent'], queries: false, writes: ['feishuEvent'] });
  });
});
