/**
 * The Feishu bot end to end: the local server (same webhook handler and worker code the stack deploys), DynamoDB
 * Local, the Bedrock simulator, and a fake Feishu open platform that records every call the bot makes.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { overrideConfig } from '../../lambdas/core/config.js';
import { encryptEvent, signBody } from '../../lambdas/core/feishu/crypto.js';
import { answerCard, type Card, type CardElement, helpCard, thinkingCard } from '../../lambdas/core/feishu/cards.js';
import { idle } from '../../lambdas/core/feishu/handoff.js';
import { db, tableName } from '../../lambdas/core/store/table.js';
import { indexKeys, itemKeys } from '../../lambdas/core/store/table-keys.js';
import { script } from '../../local/bedrock-simulator/index.js';
import { type FakeFeishu, type FakeFeishuCall, startFakeFeishu } from '../fakes/feishu-open-platform.js';
import type { NewKeyView } from '../support/api.js';
import { type ConverseBody, converseBody } from '../support/converse-wire.js';
import { api, useTestGateway } from '../support/gateway.js';

const APP = { appId: 'cli_gateway_test', appSecret: 'app-secret-0123456789abcdef' };
const BOT_OPEN_ID = 'ou_gateway_bot';
const ENCRYPT_KEY = 'encrypt-key-0123456789abcdefghij';
const TOKEN = 'verification-token-0123456789ab';
const MODEL = 'haiku';

let fake: FakeFeishu;
let userKey: NewKeyView;
let brokeKey: NewKeyView;
/** encryptKey + verificationToken */
let encBot: number;
/** verificationToken only */
let tokenBot: number;
/** billed to a key with no quota and no balance */
let brokeBot: number;

// The fake platform first (closed last), then the gateway talking to it: hooks run in this order, after-hooks reversed.
beforeAll(async () => {
  fake = await startFakeFeishu({ apps: { [APP.appId]: APP.appSecret }, botInfo: { openId: BOT_OPEN_ID, name: 'Gateway Bot' } });
});
afterAll(async () => {
  await fake?.close();
});
// One upstream attempt: an upstream failure must reach the bot, not be retried away.
const ctx = useTestGateway({ config: () => ({ larkDomain: fake.url, upstream: { maxAttempts: 1 } }) });

beforeAll(async () => {
  const { admin } = ctx;

  const model = await admin.post('/admin/model/save', {
    name: MODEL,
    config: { modelId: 'anthropic.claude-3-haiku-20240307-v1:0' },
    provider: 'bedrock-converse',
    price_in: 3,
    price_out: 15,
  });
  expect(model.status).toBe(200);
  const apply = async (name: string, quota: number) => {
    const k = (await admin.post('/admin/api-key/apply', { name, role: 'user', email: '', month_quota: quota })).body.data;
    expect((await admin.post('/admin/api-key/bind-model', { key_id: k.id, model_id: model.body.data.id })).status).toBe(200);
    return k;
  };
  userKey = await apply('feishu-bot-key', 100);
  brokeKey = await apply('feishu-broke-key', 0);

  const save = async (name: string, config: Record<string, unknown>) => {
    const res = await admin.post('/admin/bot/feishu/save', { name, provider: 'bedrock-converse', config: JSON.stringify(config) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data.id;
  };
  const base = { ...APP, apiKey: userKey.api_key, modelId: MODEL };
  encBot = await save('enc', { ...base, verificationToken: TOKEN, encryptKey: ENCRYPT_KEY });
  tokenBot = await save('token', { ...base, verificationToken: TOKEN, allowUnsigned: true });
  brokeBot = await save('broke', { ...base, apiKey: brokeKey.api_key, verificationToken: TOKEN, allowUnsigned: true });
});

afterAll(async () => {
  await idle();
});

beforeEach(async () => {
  await idle();
  fake.reset();
  ctx.gw.sim.reset();
});

// ---------------------------------------------------------------------------------------------------------------
// Event builders and senders
// ---------------------------------------------------------------------------------------------------------------

const rid = (prefix: string) => `${prefix}${randomBytes(12).toString('hex')}`;

interface MessageOpts {
  eventId?: string;
  messageId?: string;
  chatId?: string;
  chatType?: 'p2p' | 'group';
  text?: string;
  messageType?: string;
  content?: unknown;
  mentions?: Array<{ key: string; id: { open_id: string }; name: string }>;
  senderType?: string;
  createTime?: number;
  token?: string;
}

function messageEvent(o: MessageOpts = {}) {
  const created = String(o.createTime ?? Date.now());
  return {
    schema: '2.0',
    header: {
      event_id: o.eventId ?? rid('ev_'),
      event_type: 'im.message.receive_v1',
      create_time: created,
      token: o.token ?? TOKEN,
      app_id: APP.appId,
      tenant_key: 'tenant_1',
    },
    event: {
      sender: { sender_id: { open_id: 'ou_alice' }, sender_type: o.senderType ?? 'user', tenant_key: 'tenant_1' },
      message: {
        message_id: o.messageId ?? rid('om_'),
        create_time: created,
        chat_id: o.chatId ?? rid('oc_'),
        chat_type: o.chatType ?? 'p2p',
        message_type: o.messageType ?? 'text',
        content: JSON.stringify(o.content ?? { text: o.text ?? 'hello' }),
        ...(o.mentions ? { mentions: o.mentions } : {}),
      },
    },
  };
}

const webhookUrl = (botId: number) => `${ctx.gw.url}/bot/feishu/${botId}/webhook`;

async function post(botId: number, rawBody: string, headers: Record<string, string> = {}) {
  const res = await fetch(webhookUrl(botId), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: rawBody,
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

function signedHeaders(rawBody: string, key = ENCRYPT_KEY, timestamp = String(Math.floor(Date.now() / 1000))) {
  const nonce = randomBytes(8).toString('hex');
  return {
    'x-lark-request-timestamp': timestamp,
    'x-lark-request-nonce': nonce,
    'x-lark-signature': signBody({ timestamp, nonce, encryptKey: key, rawBody }),
  };
}

/** What Feishu sends to a bot with an encryptKey: an encrypted, signed body. */
function encrypted(payload: unknown, key = ENCRYPT_KEY) {
  const rawBody = JSON.stringify({ encrypt: encryptEvent(payload, key) });
  return { rawBody, headers: signedHeaders(rawBody, key) };
}

const sendEncrypted = (payload: unknown) => {
  const { rawBody, headers } = encrypted(payload);
  return post(encBot, rawBody, headers);
};
const sendPlain = (botId: number, payload: unknown) => post(botId, JSON.stringify(payload));

// ---------------------------------------------------------------------------------------------------------------
// What the fake saw
// ---------------------------------------------------------------------------------------------------------------

/** Calls that change or read chat content (token and bot-info calls are plumbing). */
const chatCalls = () => fake.calls.filter((c) => c.path.startsWith('/open-apis/im/'));
const replies = () => fake.calls.filter((c) => c.method === 'POST' && /\/reply$/.test(c.path));
const patches = () => fake.calls.filter((c) => c.method === 'PATCH');
/** A card as the bot sent it: the content string of a message or patch. */
const parseCard = (content: string) => JSON.parse(content) as Card;
const cardOf = (c: FakeFeishuCall) => parseCard((c.body as { content: string }).content);
const markdownOf = (card: Card): string =>
  card.elements
    .filter((e): e is Extract<CardElement, { tag: 'markdown' }> => e.tag === 'markdown')
    .map((e) => e.content)
    .join('\n');
/** The text of the card's last element, its footer note. */
const footerOf = (card: Card): string => {
  const last = card.elements.at(-1);
  if (last?.tag !== 'note') throw new Error(`the card ends with ${last?.tag ?? 'nothing'}, not a note`);
  return last.elements[0].content;
};
const lastUserText = (body: ConverseBody): string => {
  const user = [...body.messages].reverse().find((m) => m.role === 'user')!;
  return user.content
    .filter((b) => typeof b.text === 'string')
    .map((b) => b.text)
    .join(' ');
};

/** Exactly one answer card: one reply to the user's message, and every patch goes to that card. */
function expectOneCard(userMessageId: string) {
  const r = replies();
  expect(r.map((c) => c.path)).toEqual([`/open-apis/im/v1/messages/${userMessageId}/reply`]);
  const cardId = [...fake.messages.values()].find((m) => m.parentId === userMessageId)!.messageId;
  for (const p of patches()) expect(p.path).toBe(`/open-apis/im/v1/messages/${cardId}`);
  expect(chatCalls().filter((c) => c.method === 'POST' && c.path === '/open-apis/im/v1/messages')).toEqual([]);
  return { reply: r[0], cardId, final: fake.messages.get(cardId)! };
}

// ---------------------------------------------------------------------------------------------------------------

describe('admin routes /admin/bot/feishu/*', () => {
  it('save validates the key and the model, list masks every secret, update keeps secrets, delete removes', async () => {
    const cfg = { ...APP, apiKey: userKey.api_key, modelId: MODEL, verificationToken: TOKEN, encryptKey: ENCRYPT_KEY };
    const created = await ctx.admin.post('/admin/bot/feishu/save', { name: 'crud bot', provider: 'bedrock-converse', config: cfg });
    expect(created.status).toBe(200);
    const id = created.body.data.id;
    expect(created.body.data).toMatchObject({
      name: 'crud bot',
      provider: 'bedrock-converse',
      api_key_id: userKey.id,
      webhook_path: `/bot/feishu/${id}/webhook`,
      config: { appId: APP.appId, modelId: MODEL, apiKey: `${userKey.api_key.slice(0, 6)}…${userKey.api_key.slice(-4)}` },
    });

    const list = await ctx.admin.get('/admin/bot/feishu/list?q=crud');
    expect(list.status).toBe(200);
    expect(list.body.data).toMatchObject({ total: 1, limit: 20, offset: 0 });
    const raw = JSON.stringify(list.body) + JSON.stringify(created.body);
    for (const secret of [APP.appSecret, userKey.api_key, TOKEN, ENCRYPT_KEY]) expect(raw).not.toContain(secret);
    const shown = list.body.data.items[0];
    expect(shown.config.appSecret).toBe(`••••${APP.appSecret.slice(-4)}`);
    expect(shown.config.encryptKey).toBe(`••••${ENCRYPT_KEY.slice(-4)}`);

    // Update with the masked values as list shows them: name changes, secrets stay (the webhook still verifies).
    const updated = await ctx.admin.post('/admin/bot/feishu/save', { id, name: 'crud bot 2', config: shown.config });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body.data.name).toBe('crud bot 2');
    const challenge = encrypted({ type: 'url_verification', challenge: 'still-works', token: TOKEN });
    expect((await post(id, challenge.rawBody, challenge.headers)).body).toEqual({ challenge: 'still-works' });

    // A new domain does not take the stored app secret along: it must be typed again (else an edit sends it anywhere).
    const moved = await ctx.admin.post('/admin/bot/feishu/save', { id, config: { ...shown.config, domain: 'https://elsewhere.example' } });
    expect(moved.status).toBe(400);
    expect(JSON.stringify(moved.body)).toContain('config.appSecret');
    const omitted = await ctx.admin.post('/admin/bot/feishu/save', { id, config: { domain: 'lark' } });
    expect(omitted.status).toBe(400);
    const retyped = await ctx.admin.post('/admin/bot/feishu/save', { id, config: { domain: 'lark', appSecret: APP.appSecret } });
    expect(retyped.status, JSON.stringify(retyped.body)).toBe(200);

    // Paging
    const paged = await ctx.admin.get('/admin/bot/feishu/list?limit=2&offset=1');
    expect(paged.body.data).toMatchObject({ limit: 2, offset: 1 });
    expect(paged.body.data.items.map((b) => b.id)).toEqual([tokenBot, brokeBot]);

    expect((await ctx.admin.post('/admin/bot/feishu/delete', { id })).status).toBe(200);
    expect((await ctx.admin.post('/admin/bot/feishu/delete', { id })).status).toBe(404);
    expect((await post(id, challenge.rawBody, challenge.headers)).status).toBe(404);
  });

  it('refuses an unknown key, a model the key may not use, missing fields; 404 on unknown id', async () => {
    const other = (
      await ctx.admin.post('/admin/model/save', {
        name: 'not-granted',
        config: { modelId: 'x.y-v1:0' },
        provider: 'bedrock-converse',
        free: true,
      })
    ).body.data;
    const base = { ...APP, apiKey: userKey.api_key, modelId: MODEL, verificationToken: TOKEN, allowUnsigned: true };
    const bad = async (config: Record<string, unknown>, param: string) => {
      const res = await ctx.admin.post('/admin/bot/feishu/save', { name: 'x', config });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error?.message).toContain(param);
    };
    await bad({ ...base, apiKey: 'br-does-not-exist-0123456789abcdefghijklmnop' }, 'config.apiKey');
    await bad({ ...base, modelId: other.name }, 'config.modelId');
    await bad({ ...base, modelId: 'no-such-model' }, 'config.modelId');
    await bad({ ...base, appSecret: undefined }, 'config.appSecret');
    await bad({ ...base, domain: 'ftp://x' }, 'config.domain');
    // the app secret goes to this host: no cleartext http except to loopback (the fake platform runs there)
    await bad({ ...base, domain: 'http://open.feishu.cn' }, 'config.domain');
    await bad({ ...base, domain: 'http://10.0.0.5:8080' }, 'config.domain');
    await bad({ ...base, domain: 'http://localhost.example.com' }, 'config.domain');
    expect((await ctx.admin.post('/admin/bot/feishu/save', { name: 'x', config: '{not json' })).status).toBe(400);
    expect((await ctx.admin.post('/admin/bot/feishu/save', { id: 987654, config: base })).status).toBe(404);
    // The seed API's update shape: config fields at the top level.
    const res = await ctx.admin.post('/admin/bot/feishu/save', { id: tokenBot, ...base, modelId: other.name });
    expect(res.status).toBe(400);
    // a user key is not an admin
    expect((await api(ctx.gw.url, userKey.api_key).get('/admin/bot/feishu/list')).status).toBe(403);
  });
});

describe('bots without an encrypt key (no signatures)', () => {
  const base = () => ({ ...APP, apiKey: userKey.api_key, modelId: MODEL, verificationToken: TOKEN });

  it('are saved only with allowUnsigned: true, which list shows; clearing the encrypt key of a signed bot needs it too', async () => {
    const refused = await ctx.admin.post('/admin/bot/feishu/save', { name: 'unsigned?', config: base() });
    expect(refused.status, JSON.stringify(refused.body)).toBe(400);
    expect(refused.body.error?.message).toContain('config.encryptKey');
    expect(refused.body.error?.message).toContain('allowUnsigned');
    expect((await ctx.admin.get('/admin/bot/feishu/list?q=unsigned%3F')).body.data.total).toBe(0);
    // allowUnsigned without a token would accept nothing at all
    const noToken = await ctx.admin.post('/admin/bot/feishu/save', {
      name: 'no token',
      config: { ...base(), verificationToken: undefined, allowUnsigned: true },
    });
    expect(noToken.status).toBe(400);
    expect(noToken.body.error?.message).toContain('config.verificationToken');

    const signed = await ctx.admin.post('/admin/bot/feishu/save', { name: 'signed', config: { ...base(), encryptKey: ENCRYPT_KEY } });
    expect(signed.status).toBe(200);
    expect(signed.body.data.config.allowUnsigned).toBe(false);
    const id = signed.body.data.id;
    const cleared = await ctx.admin.post('/admin/bot/feishu/save', { id, config: { encryptKey: null } });
    expect(cleared.status).toBe(400);
    expect(cleared.body.error?.message).toContain('allowUnsigned');
    const allowed = await ctx.admin.post('/admin/bot/feishu/save', { id, config: { encryptKey: null, allowUnsigned: true } });
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(200);
    expect(allowed.body.data.config).toMatchObject({ encryptKey: null, allowUnsigned: true });
    const listed = (await ctx.admin.get('/admin/bot/feishu/list')).body.data.items.find((b) => b.id === id)!;
    expect(listed.config.allowUnsigned).toBe(true);
    // now token-only: a plain event with the token is accepted
    expect((await sendPlain(id, { type: 'url_verification', challenge: 'now-unsigned', token: TOKEN })).body).toEqual({
      challenge: 'now-unsigned',
    });
    // switching the flag off again needs an encrypt key back
    expect((await ctx.admin.post('/admin/bot/feishu/save', { id, config: { allowUnsigned: false } })).status).toBe(400);
    await ctx.admin.post('/admin/bot/feishu/delete', { id });
  });

  it('a signed bot never accepts a token-only request, whatever its token', async () => {
    const res = await sendPlain(encBot, { type: 'url_verification', challenge: 'x', token: TOKEN });
    expect(res.status).toBe(401);
    const event = await sendPlain(encBot, messageEvent({ text: 'token only' }));
    expect(event.status).toBe(401);
    await idle();
    expect(fake.calls).toEqual([]);
    expect(ctx.gw.sim.requests).toEqual([]);
  });
});

describe('secrets at rest', () => {
  const rawItem = async (id: number) =>
    (await db().send(new GetCommand({ TableName: tableName(), Key: itemKeys.bot(id), ConsistentRead: true }))).Item!;
  const SECRETS = [APP.appSecret, ENCRYPT_KEY, TOKEN];

  it('the stored bot item holds the app secret, encrypt key and token only sealed; the admin sees them masked', async () => {
    const item = await rawItem(encBot);
    const text = JSON.stringify(item);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    for (const attribute of ['app_secret', 'encrypt_key', 'verification_token']) {
      expect(String(item[attribute])).toMatch(/^env1:local:/);
    }
    expect(item).toMatchObject({ app_secret_hint: 'cdef', encrypt_key_hint: 'ghij', verification_token_hint: '89ab' });
    const listed = (await ctx.admin.get('/admin/bot/feishu/list')).body.data.items.find((b) => b.id === encBot)!;
    expect(listed.config).toMatchObject({ appSecret: '••••cdef', encryptKey: '••••ghij', verificationToken: '••••89ab' });
    // an update that sends the masked values back keeps the sealed ones untouched
    await ctx.admin.post('/admin/bot/feishu/save', {
      id: encBot,
      config: { ...listed.config, apiKey: undefined, systemPrompt: 'be brief' },
    });
    const after = await rawItem(encBot);
    expect(after.app_secret).toBe(item.app_secret);
    expect(after.encrypt_key).toBe(item.encrypt_key);
    await ctx.admin.post('/admin/bot/feishu/save', { id: encBot, config: { systemPrompt: null } });
  });

  it('a bot saved in clear by an older version keeps working, and is sealed by the next admin list', async () => {
    const id = 900_001;
    const legacy: Record<string, unknown> = {
      ...(await rawItem(encBot)),
      ...itemKeys.bot(id),
      ...indexKeys.bot(id),
      id,
      name: 'legacy-bot',
    };
    for (const attribute of ['app_secret', 'encrypt_key', 'verification_token']) delete legacy[`${attribute}_hint`];
    Object.assign(legacy, { app_secret: APP.appSecret, encrypt_key: ENCRYPT_KEY, verification_token: TOKEN });
    delete legacy.allow_unsigned;
    await db().send(new PutCommand({ TableName: tableName(), Item: legacy }));
    const challenge = (c: string) =>
      JSON.stringify({ encrypt: encryptEvent({ type: 'url_verification', challenge: c, token: TOKEN }, ENCRYPT_KEY) });
    expect(await post(id, challenge('legacy-plain'))).toEqual({ status: 200, body: { challenge: 'legacy-plain' } });

    const listed = (await ctx.admin.get('/admin/bot/feishu/list')).body.data.items.find((b) => b.id === id)!;
    expect(listed.config).toMatchObject({ appSecret: '••••cdef', encryptKey: '••••ghij', allowUnsigned: false });
    const text = JSON.stringify(await rawItem(id));
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(await post(id, challenge('legacy-sealed'))).toEqual({ status: 200, body: { challenge: 'legacy-sealed' } });
    await ctx.admin.post('/admin/bot/feishu/delete', { id });
  });
});

describe('webhook verification', () => {
  it('answers the url_verification challenge, plain (token) and encrypted', async () => {
    const plain = await sendPlain(tokenBot, { type: 'url_verification', challenge: 'c-plain', token: TOKEN });
    expect(plain).toEqual({ status: 200, body: { challenge: 'c-plain' } });
    // Feishu does not sign the challenge; the encryption proves the sender holds the key.
    const rawBody = JSON.stringify({ encrypt: encryptEvent({ type: 'url_verification', challenge: 'c-enc', token: TOKEN }, ENCRYPT_KEY) });
    expect(await post(encBot, rawBody)).toEqual({ status: 200, body: { challenge: 'c-enc' } });
    expect((await sendPlain(tokenBot, { type: 'url_verification', challenge: 'x', token: 'wrong' })).status).toBe(401);
    const otherKey = JSON.stringify({ encrypt: encryptEvent({ type: 'url_verification', challenge: 'x', token: TOKEN }, 'another-key') });
    expect((await post(encBot, otherKey)).status).toBe(401);
    expect((await post(999_999, rawBody)).status).toBe(404);
    // a malformed escape in the bot id names no bot (it was a 500 with a logged stack)
    const malformed = await fetch(`${ctx.gw.url}/bot/feishu/%ZZ/webhook`, { method: 'POST', body: rawBody });
    expect(malformed.status).toBe(404);
  });

  it('a forged event gets 401 and nothing else happens; the genuine one is still answered afterwards', async () => {
    const payload = messageEvent({ text: 'forged?' });
    const good = encrypted(payload);
    const forged = [
      post(encBot, good.rawBody, { ...good.headers, 'x-lark-signature': 'f'.repeat(64) }), // bad signature
      post(encBot, good.rawBody), // unsigned
      post(encBot, good.rawBody, signedHeaders(good.rawBody, 'not-the-key')), // signed with another key
      post(encBot, good.rawBody.replace('"}', 'A"}'), good.headers), // body changed after signing
      post(encBot, good.rawBody, signedHeaders(good.rawBody, ENCRYPT_KEY, String(Math.floor(Date.now() / 1000) - 9 * 3600))), // too old
      sendPlain(tokenBot, messageEvent({ token: 'wrong-token' })), // token bot, wrong token
      sendPlain(tokenBot, { ...messageEvent(), header: { ...messageEvent().header, token: undefined } }), // no token
    ];
    for (const res of await Promise.all(forged)) expect(res.status).toBe(401);
    await idle();
    expect(fake.calls).toEqual([]);
    expect(ctx.gw.sim.requests).toEqual([]);

    ctx.gw.sim.enqueue(script.text('genuine'));
    expect((await post(encBot, good.rawBody, good.headers)).status).toBe(200);
    await idle();
    const { final } = expectOneCard(payload.event.message.message_id);
    expect(markdownOf(parseCard(final.content))).toBe('genuine');
  });
});

describe('answering', () => {
  it('p2p: replies with a thinking card, patches it at most every 400 ms, ends with the full answer; billed and recorded', async () => {
    const answer = 'Bedrock is a fully managed service that offers a choice of foundation models. '.repeat(3).trim();
    ctx.gw.sim.enqueue(
      script.reasoning('Let me think about Bedrock.', answer, { delayMs: 40, chunkSize: 8, usage: { inputTokens: 20, outputTokens: 50 } }),
    );
    const payload = messageEvent({ text: 'What is Bedrock?' });
    const started = Date.now();
    const res = await sendEncrypted(payload);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1500); // acknowledged before the answer is written
    await idle();

    const { reply, final } = expectOneCard(payload.event.message.message_id);
    expect(reply.body).toMatchObject({ msg_type: 'interactive', uuid: expect.stringMatching(/^ans-[0-9a-f]{40}$/) });
    expect(cardOf(reply)).toEqual(thinkingCard(MODEL));

    const ps = patches();
    expect(ps.length).toBeGreaterThanOrEqual(3); // several updates while streaming, then the final one
    for (let i = 1; i < ps.length - 1; i++) expect(ps[i].at - ps[i - 1].at).toBeGreaterThanOrEqual(370);
    const last = cardOf(ps.at(-1)!);
    expect(last).toEqual(
      answerCard({
        text: answer,
        reasoning: 'Let me think about Bedrock.',
        model: MODEL,
        done: true,
        usage: { promptTokens: 20, completionTokens: 50 },
      }),
    );
    expect(JSON.stringify(last)).toContain('Reasoning');
    for (const p of ps.slice(0, -1)) expect(footerOf(cardOf(p))).toContain('generating…');
    expect(final.content).toBe(JSON.stringify(last));

    // one model call, with the user's text; billed to the bot's key under the chat's session
    expect(ctx.gw.sim.requests).toHaveLength(1);
    expect(lastUserText(converseBody(ctx.gw.sim.requests[0]))).toBe('What is Bedrock?');
    const sessions = (await ctx.admin.get(`/admin/session/list?key_id=${userKey.id}`)).body.data.items;
    const session = sessions.find((s) => s.session_key === payload.event.message.chat_id);
    expect(session).toBeDefined();
    const threads = (await ctx.admin.get(`/admin/thread/list?session_id=${session!.id}`)).body.data.items;
    expect(threads).toHaveLength(1);
    expect(threads[0]).toMatchObject({ key_id: userKey.id, model: MODEL, completion: answer, tokens_in: 20, tokens_out: 50, status: 'ok' });
    expect(threads[0].fee).toBeCloseTo((20 * 3 + 50 * 15) / 1e6, 12);
  });

  it('Feishu retries and replays of one event produce no second answer (sequential, concurrent, re-signed)', async () => {
    ctx.gw.sim.setDefault(script.text('only once', { firstEventDelayMs: 300 }));
    try {
      const payload = messageEvent({ text: 'once please' });
      const first = encrypted(payload);
      // concurrent deliveries (a slow answer makes Feishu retry while the first is still running)
      const all = await Promise.all([post(encBot, first.rawBody, first.headers), sendEncrypted(payload), sendEncrypted(payload)]);
      for (const r of all) expect(r.status).toBe(200);
      await idle();
      // later: the same request replayed byte for byte, and the same event freshly encrypted and signed
      expect((await post(encBot, first.rawBody, first.headers)).status).toBe(200);
      expect((await sendEncrypted(payload)).status).toBe(200);
      await idle();

      expect(ctx.gw.sim.requests).toHaveLength(1);
      const { final } = expectOneCard(payload.event.message.message_id);
      expect(markdownOf(parseCard(final.content))).toBe('only once');
    } finally {
      ctx.gw.sim.setDefault(null);
    }
  });

  it('one message delivered again under a new event_id gets no second answer and no second charge', async () => {
    const before = ctx.gw.sim.requests.length;
    const payload = messageEvent({ text: 'same message' });
    const again = { ...payload, header: { ...payload.header, event_id: rid('ev_') } };
    expect((await sendEncrypted(payload)).status).toBe(200);
    await idle();
    const r = await sendEncrypted(again);
    expect(r).toMatchObject({ status: 200, body: { ignored: 'duplicate event' } });
    await idle();
    expect(ctx.gw.sim.requests.length - before).toBe(1);
    expectOneCard(payload.event.message.message_id);
  });

  it('the worker is idempotent: invoking it again for an answered event creates nothing', async () => {
    const { answerEvent } = await import('../../lambdas/core/feishu/answer.js');
    const payload = messageEvent({ text: 'worker twice' });
    expect((await sendPlain(tokenBot, payload)).status).toBe(200);
    await idle();
    const before = fake.calls.length;
    // the ledger is keyed by the message (webhook-handler.ts)
    const job = { botId: tokenBot, eventId: `msg-${payload.event.message.message_id}`, event: payload.event };
    expect(await Promise.all([answerEvent(job), answerEvent(job)])).toEqual(['duplicate', 'duplicate']);
    // an event the webhook never accepted is not answered either
    expect(await answerEvent({ ...job, eventId: 'ev_never_received' })).toBe('duplicate');
    expect(fake.calls.length).toBe(before);
    expectOneCard(payload.event.message.message_id);
  });

  it('groups: only when the bot itself is @-mentioned, with the mention stripped', async () => {
    const chatId = rid('oc_group_');
    const mention = (key: string, openId: string, name: string) => ({ key, id: { open_id: openId }, name });
    const silent = [
      messageEvent({ chatType: 'group', chatId, text: 'no mention at all' }),
      messageEvent({ chatType: 'group', chatId, text: '@_user_1 what do you think?', mentions: [mention('@_user_1', 'ou_bob', 'Bob')] }),
    ];
    for (const p of silent) expect((await sendPlain(tokenBot, p)).status).toBe(200);
    await idle();
    expect(chatCalls()).toEqual([]);
    expect(ctx.gw.sim.requests).toEqual([]);

    ctx.gw.sim.enqueue(script.text('Hi Bob and Alice'));
    const asked = messageEvent({
      chatType: 'group',
      chatId,
      text: '@_user_1 say hi to @_user_2',
      mentions: [mention('@_user_1', BOT_OPEN_ID, 'Gateway Bot'), mention('@_user_2', 'ou_bob', 'Bob')],
    });
    expect((await sendPlain(tokenBot, asked)).status).toBe(200);
    await idle();
    expectOneCard(asked.event.message.message_id);
    expect(lastUserText(converseBody(ctx.gw.sim.requests[0]))).toBe('say hi to @Bob');
  });

  it("ignores the bot's own messages and events it does not handle", async () => {
    expect((await sendPlain(tokenBot, messageEvent({ senderType: 'app', text: 'my own card' }))).status).toBe(200);
    const other = { ...messageEvent(), header: { ...messageEvent().header, event_type: 'im.chat.member.bot.added_v1' } };
    expect((await sendPlain(tokenBot, other)).status).toBe(200);
    const stale = messageEvent({ createTime: Date.now() - 13 * 3600_000 });
    expect((await sendPlain(tokenBot, stale)).status).toBe(200);
    await idle();
    expect(chatCalls()).toEqual([]);
    expect(ctx.gw.sim.requests).toEqual([]);
  });

  it('an image message: downloads it via the message-resource API and sends it as an image part', async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), randomBytes(64)]);
    fake.setImage('img_v3_test', png, 'image/png');
    ctx.gw.sim.enqueue(script.text('A picture of noise.'));
    const payload = messageEvent({ messageType: 'image', content: { image_key: 'img_v3_test' } });
    expect((await sendEncrypted(payload)).status).toBe(200);
    await idle();

    const messageId = payload.event.message.message_id;
    const download = chatCalls().filter((c) => c.method === 'GET');
    expect(download.map((c) => [c.path, c.query])).toEqual([
      [`/open-apis/im/v1/messages/${messageId}/resources/img_v3_test`, { type: 'image' }],
    ]);
    const { final } = expectOneCard(messageId);
    expect(markdownOf(parseCard(final.content))).toBe('A picture of noise.');
    const blocks = converseBody(ctx.gw.sim.requests[0]).messages.at(-1)!.content;
    const image = blocks.find((b) => b.image)!.image!;
    expect(image.format).toBe('png');
    expect(Buffer.from(image.source.bytes, 'base64').equals(png)).toBe(true);
  });

  it('a file message: sent as a document part named after the file', async () => {
    const pdf = Buffer.from('%PDF-1.4\n% a tiny test document\n');
    fake.setFile('file_v3_test', pdf, { fileName: 'Quarterly report.pdf', mediaType: 'application/octet-stream' });
    ctx.gw.sim.enqueue(script.text('It is a report.'));
    const payload = messageEvent({ messageType: 'file', content: { file_key: 'file_v3_test', file_name: 'Quarterly report.pdf' } });
    expect((await sendPlain(tokenBot, payload)).status).toBe(200);
    await idle();
    expectOneCard(payload.event.message.message_id);
    const blocks = converseBody(ctx.gw.sim.requests[0]).messages.at(-1)!.content;
    const doc = blocks.find((b) => b.document)!.document!;
    expect(doc).toMatchObject({ format: 'pdf', name: 'Quarterly report' });
    expect(Buffer.from(doc.source.bytes, 'base64').equals(pdf)).toBe(true);
    expect(blocks.some((b) => typeof b.text === 'string' && b.text.length > 0)).toBe(true);
  });

  const postWithImages = (keys: string[], text = 'compare these') =>
    messageEvent({
      messageType: 'post',
      content: { title: '', content: [[{ tag: 'text', text }, ...keys.map((k) => ({ tag: 'img', image_key: k }))]] },
    });

  it('a message with more than 20 images: an error card, nothing downloaded, no model call', async () => {
    const keys = Array.from({ length: 21 }, (_, i) => `img_many_${i}`);
    for (const k of keys) fake.setImage(k, randomBytes(32), 'image/png');
    const payload = postWithImages(keys);
    expect((await sendPlain(tokenBot, payload)).status).toBe(200);
    await idle();
    const card = parseCard(expectOneCard(payload.event.message.message_id).final.content);
    expect(card.header).toMatchObject({ template: 'red', title: { content: expect.stringContaining('Too many attachments') } });
    expect(markdownOf(card)).toContain('at most 20 images and 5 files');
    expect(chatCalls().filter((c) => c.method === 'GET')).toEqual([]);
    expect(ctx.gw.sim.requests).toEqual([]);
  });

  it('attachments over the per-message byte budget: downloads stop, an error card, no model call', async () => {
    const undo = overrideConfig({ feishu: { maxAttachmentTotalBytes: 1000 } });
    try {
      const keys = ['img_budget_0', 'img_budget_1', 'img_budget_2', 'img_budget_3'];
      for (const k of keys) fake.setImage(k, randomBytes(400), 'image/png');
      const payload = postWithImages(keys);
      expect((await sendPlain(tokenBot, payload)).status).toBe(200);
      await idle();
      const card = parseCard(expectOneCard(payload.event.message.message_id).final.content);
      expect(card.header).toMatchObject({ template: 'red', title: { content: expect.stringContaining('Attachments too large') } });
      // 400 + 400 fit, the third is cut off at the 200 bytes left, the fourth is never requested
      expect(
        chatCalls()
          .filter((c) => c.method === 'GET')
          .map((c) => c.path.split('/').at(-1)),
      ).toEqual(keys.slice(0, 3));
      expect(ctx.gw.sim.requests).toEqual([]);
    } finally {
      undo();
    }
  });

  it('a failed download is logged by the worker without the app secret or the tenant token', async () => {
    const { logger } = await import('../../lambdas/core/log.js');
    const lines: string[] = [];
    const capture = (...args: unknown[]) =>
      void lines.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 6 }))).join(' '));
    const pt = (logger as unknown as { console: Record<string, (...a: unknown[]) => void> }).console;
    const spies = (['error', 'warn', 'info', 'debug', 'log'] as const).flatMap((m) => [
      vi.spyOn(pt, m).mockImplementation(capture),
      vi.spyOn(console, m).mockImplementation(capture),
    ]);
    // Each invocation's logger middleware (injectLambdaContext) would put the level back to the configured one.
    spies.push(vi.spyOn(logger, 'refreshSampleRateCalculation').mockImplementation(() => undefined));
    logger.setLogLevel('DEBUG');
    try {
      fake.failNext(/\/resources\//, { status: 400, code: 234003, msg: 'File not in msg.' });
      const payload = messageEvent({ messageType: 'image', content: { image_key: 'img_gone' } });
      expect((await sendPlain(tokenBot, payload)).status).toBe(200);
      await idle();
      const { reply, final } = expectOneCard(payload.event.message.message_id);
      expect(parseCard(final.content).header!.template).toBe('red');
      const token = String(reply.headers.authorization).replace(/^Bearer /, '');
      expect(token).toMatch(/^t-fake-/);
      const all = lines.join('\n');
      expect(all).toContain('feishu answer failed');
      expect(all).toContain('234003');
      expect(all).not.toContain(token);
      expect(all).not.toContain(APP.appSecret);
      expect(ctx.gw.sim.requests).toEqual([]);
    } finally {
      logger.setLogLevel((process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT') as 'SILENT');
      for (const s of spies) s.mockRestore();
    }
  });

  it('messages it cannot use get an explanation card and no model call', async () => {
    const audio = messageEvent({ messageType: 'audio', content: { file_key: 'file_audio', duration: 2000 } });
    const zip = messageEvent({ messageType: 'file', content: { file_key: 'file_zip', file_name: 'code.zip' } });
    const bare = messageEvent({
      chatType: 'group',
      text: '@_user_1',
      mentions: [{ key: '@_user_1', id: { open_id: BOT_OPEN_ID }, name: 'Gateway Bot' }],
    });
    for (const p of [audio, zip, bare]) expect((await sendPlain(tokenBot, p)).status).toBe(200);
    await idle();
    const cardFor = (p: ReturnType<typeof messageEvent>) =>
      parseCard([...fake.messages.values()].find((m) => m.parentId === p.event.message.message_id)!.content);
    expect(cardFor(audio).header!.title.content).toContain('Unsupported message');
    expect(cardFor(zip).header!.title.content).toContain('Unsupported attachment');
    expect(cardFor(bare)).toEqual(helpCard()); // a bare mention: explain how to use the bot
    expect(replies()).toHaveLength(3);
    expect(chatCalls().filter((c) => c.method === 'GET')).toEqual([]); // the zip was never downloaded
    expect(ctx.gw.sim.requests).toEqual([]);
  });

  it('remembers the chat, /reset and /clear start over, /help explains (no model call for commands)', async () => {
    const chatId = rid('oc_memory_');
    const say = async (text: string) => {
      const p = messageEvent({ chatId, text });
      expect((await sendPlain(tokenBot, p)).status).toBe(200);
      await idle();
      return p;
    };
    ctx.gw.sim.enqueue(script.text('Nice to meet you, Ada.'), script.text('You are Ada.'), script.text('I do not know.'));
    await say('My name is Ada.');
    await say('What is my name?');
    const second = converseBody(ctx.gw.sim.requests[1]).messages;
    expect(second.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(second[0].content[0].text).toBe('My name is Ada.');
    expect(second[1].content[0].text).toBe('Nice to meet you, Ada.');

    fake.reset();
    const reset = await say('/reset');
    const { final } = expectOneCard(reset.event.message.message_id);
    expect(parseCard(final.content).header!.title.content).toContain('New conversation');
    expect(patches()).toEqual([]);
    expect(ctx.gw.sim.requests).toHaveLength(2);

    await say('What is my name?');
    expect(converseBody(ctx.gw.sim.requests[2]).messages.map((m) => m.role)).toEqual(['user']);

    fake.reset();
    await say('/clear');
    expect(replies()).toHaveLength(1);
    fake.reset();
    const help = await say('/help');
    const helped = expectOneCard(help.event.message.message_id);
    expect(parseCard(helped.final.content)).toEqual(helpCard());
    expect(ctx.gw.sim.requests).toHaveLength(3);
  });

  it('a bot whose key has no quota left ends in a readable error card, without calling the model', async () => {
    const payload = messageEvent({ text: 'am I broke?' });
    expect((await sendPlain(brokeBot, payload)).status).toBe(200);
    await idle();
    const { reply, final } = expectOneCard(payload.event.message.message_id);
    expect(cardOf(reply)).toEqual(thinkingCard(MODEL));
    expect(patches()).toHaveLength(1);
    const card = parseCard(final.content);
    expect(card.header).toMatchObject({ template: 'red', title: { content: expect.stringContaining('Quota exhausted') } });
    expect(ctx.gw.sim.requests).toEqual([]);
  });

  it("keeps answering after its key's secret is reset: the bot bills the key, not the old plaintext", async () => {
    const k = (await ctx.admin.post('/admin/api-key/apply', { name: 'reset-bot-key', role: 'user', email: '', month_quota: 10 })).body.data;
    const models = (await ctx.admin.get(`/admin/model/list?q=${MODEL}`)).body.data.items;
    await ctx.admin.post('/admin/api-key/bind-model', { key_id: k.id, model_id: models[0].id });
    const saved = await ctx.admin.post('/admin/bot/feishu/save', {
      name: 'reset-bot',
      config: { ...APP, apiKey: k.api_key, modelId: MODEL, verificationToken: TOKEN, allowUnsigned: true },
    });
    expect(saved.status).toBe(200);
    expect((await ctx.admin.post('/admin/api-key/reset', { id: k.id })).status).toBe(200);
    ctx.gw.sim.enqueue(script.text('still here'));
    const payload = messageEvent({ text: 'after reset' });
    expect((await sendPlain(saved.body.data.id, payload)).status).toBe(200);
    await idle();
    const card = parseCard(expectOneCard(payload.event.message.message_id).final.content);
    expect(markdownOf(card)).toContain('still here');
    expect(ctx.gw.sim.requests).toHaveLength(1);
    await ctx.admin.post('/admin/bot/feishu/delete', { id: saved.body.data.id });
  });

  it('a bot whose key is disabled says so in its card (bot key unavailable), without calling the model', async () => {
    const k = (await ctx.admin.post('/admin/api-key/apply', { name: 'disabled-bot-key', role: 'user', email: '', month_quota: 10 })).body
      .data;
    const models = (await ctx.admin.get(`/admin/model/list?q=${MODEL}`)).body.data.items;
    await ctx.admin.post('/admin/api-key/bind-model', { key_id: k.id, model_id: models[0].id });
    const saved = await ctx.admin.post('/admin/bot/feishu/save', {
      name: 'disabled-bot',
      config: { ...APP, apiKey: k.api_key, modelId: MODEL, verificationToken: TOKEN, allowUnsigned: true },
    });
    expect((await ctx.admin.post('/admin/api-key/disable', { id: k.id })).status).toBe(200);
    const payload = messageEvent({ text: 'are you there?' });
    expect((await sendPlain(saved.body.data.id, payload)).status).toBe(200);
    await idle();
    const card = parseCard(expectOneCard(payload.event.message.message_id).final.content);
    expect(card.header).toMatchObject({ template: 'red', title: { content: expect.stringContaining('Bot key unavailable') } });
    expect(markdownOf(card)).toContain('disabled');
    expect(ctx.gw.sim.requests).toEqual([]);
    await ctx.admin.post('/admin/bot/feishu/delete', { id: saved.body.data.id });
  });

  it('an upstream failure, before or during the stream, ends in an error card', async () => {
    ctx.gw.sim.enqueue(script.error('ServiceUnavailableException', 'Bedrock is having a moment'));
    const before = messageEvent({ text: 'fail first' });
    expect((await sendPlain(tokenBot, before)).status).toBe(200);
    await idle();
    let card = parseCard(expectOneCard(before.event.message.message_id).final.content);
    expect(card.header!.template).toBe('red');
    expect(markdownOf(card)).toContain('Bedrock is having a moment');

    fake.reset();
    ctx.gw.sim.enqueue({
      ...script.text('This answer will break off halfway through.', { chunkSize: 5 }),
      failAfterEvents: { count: 4, exception: 'modelStreamErrorException', message: 'stream broke' },
    });
    const during = messageEvent({ text: 'fail midway' });
    expect((await sendPlain(tokenBot, during)).status).toBe(200);
    await idle();
    card = parseCard(expectOneCard(during.event.message.message_id).final.content);
    expect(card.header!.template).toBe('red');
    expect(markdownOf(card)).toContain('stream broke');
  });

  it('a per-bot domain sends the bot to another open platform (Lark international or a private one)', async () => {
    const lark = await startFakeFeishu({ apps: { [APP.appId]: APP.appSecret }, botInfo: { openId: BOT_OPEN_ID, name: 'Gateway Bot' } });
    try {
      const res = await ctx.admin.post('/admin/bot/feishu/save', {
        name: 'lark bot',
        config: { ...APP, apiKey: userKey.api_key, modelId: MODEL, verificationToken: TOKEN, allowUnsigned: true, domain: lark.url },
      });
      expect(res.body.data.config.domain).toBe(lark.url);
      ctx.gw.sim.enqueue(script.text('hello from lark'));
      const payload = messageEvent();
      expect((await sendPlain(res.body.data.id, payload)).status).toBe(200);
      await idle();
      expect(chatCalls()).toEqual([]);
      expect(lark.calls.filter((c) => /\/reply$/.test(c.path))).toHaveLength(1);
      await ctx.admin.post('/admin/bot/feishu/delete', { id: res.body.data.id });
    } finally {
      await lark.close();
    }
  });
});
