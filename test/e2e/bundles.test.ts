/**
 * The deployed code, driven end to end: `npm start` with GATEWAY_BUNDLES runs the esbuild bundles of the
 * synthesized stack (each function's index.mjs, imported natively as Lambda imports it — a child process, since
 * the test runner's own module loader would paper over ESM mistakes such as a bare `__dirname`) instead of the
 * TypeScript sources, against DynamoDB Local, its Bedrock simulator and the fake Feishu platform. The Feishu
 * webhook bundle hands the event to the worker bundle through Lambda's Invoke API (a local stand-in), exactly as
 * it does deployed. A bundling mistake fails here.
 */
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeFeishu, startFakeFeishu } from '../fakes/feishu-open-platform.js';
import { cloudAssembly } from '../support/bundles.js';
import type { NewKeyView } from '../support/api.js';
import { postEncryptedEvent } from '../support/feishu.js';
import { ADMIN_KEY, api, type ApiClient } from '../support/gateway.js';
import { type Instance, sleep, startInstance, stopAllInstances } from '../support/npm-start.js';

const APP = { appId: 'cli_bundle_test', appSecret: 'app-secret-bundle-0123456789' };
const ENCRYPT_KEY = 'encrypt-key-bundle-0123456789abcdef';
const TOKEN = 'verification-token-bundle-012345';

let gw: Instance;
let fake: FakeFeishu;
let admin: ApiClient;
let userKey: NewKeyView;

beforeAll(async () => {
  fake = await startFakeFeishu({ apps: { [APP.appId]: APP.appSecret }, botInfo: { openId: 'ou_bundle_bot', name: 'Bundle Bot' } });
  gw = await startInstance('bundles', {
    adminKey: ADMIN_KEY,
    env: {
      GATEWAY_BUNDLES: cloudAssembly(),
      LARK_DOMAIN: fake.url,
      // the run's DynamoDB Local, a table of this file's own
      AWS_ENDPOINT_URL_DYNAMODB: process.env.AWS_ENDPOINT_URL_DYNAMODB,
      TABLE_NAME: process.env.TABLE_NAME,
    },
  });
  admin = api(gw.url, ADMIN_KEY);
  const group = (await admin.post('/admin/group/save', { name: 'bundled' })).body.data;
  await admin.post('/admin/model/save', {
    name: 'haiku',
    group_id: group.id,
    provider: 'bedrock-converse',
    config: { modelId: 'anthropic.claude-3-haiku-20240307-v1:0' },
    price_in: 3,
    price_out: 15,
  });
  await admin.post('/admin/model/save', {
    name: 'titan',
    group_id: group.id,
    provider: 'bedrock-embeddings',
    config: { modelId: 'amazon.titan-embed-text-v2:0' },
    price_in: 0.02,
    price_out: 0,
  });
  userKey = (await admin.post('/admin/api-key/apply', { name: 'bundle-user', group_id: group.id, role: 'user', email: '', month_quota: 5 }))
    .body.data;
}, 180_000);

afterAll(async () => {
  await stopAllInstances();
  await fake?.close();
}, 60_000);

describe('the bundled functions, through the local server', () => {
  it('chat bundle streams a completion and bills it; embeddings answer', async () => {
    const client = new OpenAI({ apiKey: userKey.api_key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const deltas: string[] = [];
    const stream = await client.chat.completions.create({ model: 'haiku', stream: true, messages: [{ role: 'user', content: 'ping' }] });
    for await (const chunk of stream) deltas.push(chunk.choices[0]?.delta?.content ?? '');
    expect(deltas.join('')).toContain('[simulated Bedrock]');
    expect(deltas.filter(Boolean).length).toBeGreaterThan(1);

    const emb = await client.embeddings.create({ model: 'titan', input: 'hello', encoding_format: 'float' });
    expect(emb.data[0].embedding).toHaveLength(1024);
  });

  it('admin and user bundles answer in their envelopes', async () => {
    const keys = await admin.get('/admin/api-key/list?q=bundle-user');
    expect(keys.status).toBe(200);
    expect(keys.body.data.total).toBe(1);
    const mine = await api(gw.url, userKey.api_key).get('/user/api-key/mine');
    expect(mine.status).toBe(200);
    expect(mine.body.data).toMatchObject({ id: userKey.id, name: 'bundle-user' });
    expect(Number(mine.body.data.month_fee)).toBeGreaterThan(0);
    expect((await api(gw.url, userKey.api_key).get('/admin/api-key/list')).status).toBe(403);
  });

  it('a signed Feishu event reaches the webhook bundle, and the worker bundle answers in one card', async () => {
    const bot = await admin.post('/admin/bot/feishu/save', {
      name: 'bundled bot',
      provider: 'bedrock-converse',
      config: { ...APP, apiKey: userKey.api_key, modelId: 'haiku', verificationToken: TOKEN, encryptKey: ENCRYPT_KEY },
    });
    expect(bot.status, JSON.stringify(bot.body)).toBe(200);
    const messageId = `om_${randomBytes(8).toString('hex')}`;
    const event = {
      schema: '2.0',
      header: {
        event_id: `ev_${randomBytes(8).toString('hex')}`,
        event_type: 'im.message.receive_v1',
        create_time: String(Date.now()),
        token: TOKEN,
        app_id: APP.appId,
        tenant_key: 't',
      },
      event: {
        sender: { sender_id: { open_id: 'ou_alice' }, sender_type: 'user', tenant_key: 't' },
        message: {
          message_id: messageId,
          create_time: String(Date.now()),
          chat_id: 'oc_bundle',
          chat_type: 'p2p',
          message_type: 'text',
          content: JSON.stringify({ text: 'hello from a bundle' }),
        },
      },
    };
    const res = await postEncryptedEvent(gw.url, bot.body.data.id, event, ENCRYPT_KEY);
    expect(res.status).toBe(200);
    // The worker runs after the webhook answered: wait for its final card.
    const finished = () => [...fake.messages.values()].find((m) => m.parentId === messageId && m.content.includes('[simulated Bedrock]'));
    for (let i = 0; i < 100 && !finished(); i++) await sleep(100);

    const replies = fake.calls.filter((c) => c.method === 'POST' && c.path === `/open-apis/im/v1/messages/${messageId}/reply`);
    expect(replies).toHaveLength(1);
    const card = [...fake.messages.values()].find((m) => m.parentId === messageId)!;
    expect(card.msgType).toBe('interactive');
    expect(card.content).toContain('[simulated Bedrock]');
  });
});
