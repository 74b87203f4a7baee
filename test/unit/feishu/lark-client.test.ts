import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as lark from '@larksuiteoapi/node-sdk';
import { overrideConfig } from '../../../lambdas/core/config.js';
import { answerCard, thinkingCard } from '../../../lambdas/core/feishu/cards.js';
import { createCardStreamer } from '../../../lambdas/core/feishu/card-streamer.js';
import {
  clearLarkClientCache,
  createLarkClient,
  LarkApiError,
  LarkResourceTooLargeError,
  resolveLarkDomain,
} from '../../../lambdas/core/feishu/lark-client.js';
import { DEFAULT_LARK_DOMAIN } from '../../../lambdas/core/topology.js';
import { startFakeFeishu, type FakeFeishu } from '../../fakes/feishu-open-platform.js';

const silent: lark.Logger = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };
const APP = { appId: 'cli_test', appSecret: 'secret-1' };

let fake: FakeFeishu;
beforeAll(async () => {
  fake = await startFakeFeishu({ apps: { [APP.appId]: APP.appSecret }, botInfo: { openId: 'ou_bot', name: 'Gateway Bot' } });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  clearLarkClientCache();
});

const client = () => createLarkClient({ ...APP, domain: fake.url, logger: silent });

describe('lark-client against the fake open platform (real SDK)', () => {
  it('replies with a card, then patches it; the token is fetched once and reused', async () => {
    const c = client();
    const { messageId } = await c.replyCard('om_user_msg', thinkingCard('claude'));
    expect(messageId).toMatch(/^om_[0-9a-f]{32}$/);
    await c.patchCard(messageId, answerCard({ text: 'Hello!', model: 'claude', done: true }));

    const paths = fake.calls.map((x) => `${x.method} ${x.path}`);
    expect(paths).toEqual([
      'POST /open-apis/auth/v3/tenant_access_token/internal',
      'POST /open-apis/im/v1/messages/om_user_msg/reply',
      `PATCH /open-apis/im/v1/messages/${messageId}`,
    ]);
    expect(fake.calls[0].body).toEqual({ app_id: APP.appId, app_secret: APP.appSecret });
    const reply = fake.calls[1];
    expect(reply.headers.authorization).toMatch(/^Bearer t-fake-/);
    expect(reply.body).toMatchObject({ msg_type: 'interactive' });
    expect(JSON.parse((reply.body as { content: string }).content)).toEqual(thinkingCard('claude'));

    const stored = fake.messages.get(messageId)!;
    expect(stored.parentId).toBe('om_user_msg');
    expect(stored.history).toHaveLength(2);
    expect(JSON.parse(stored.content)).toEqual(answerCard({ text: 'Hello!', model: 'claude', done: true }));

    // a second client for the same app/domain is the cached one: no new token request
    const again = createLarkClient({ ...APP, domain: fake.url, logger: silent });
    expect(again).toBe(c);
    await again.patchCard(messageId, answerCard({ text: 'Hello again', model: 'claude', done: true }));
    expect(fake.calls.filter((x) => x.path.includes('tenant_access_token'))).toHaveLength(1);
  });

  it('sends a card to a chat (receive_id_type=chat_id) with an idempotency uuid', async () => {
    const c = client();
    const a = await c.sendCard('oc_chat_1', thinkingCard('m'), { uuid: 'ev_1' });
    const b = await c.sendCard('oc_chat_1', thinkingCard('m'), { uuid: 'ev_1' });
    expect(b.messageId).toBe(a.messageId);
    const send = fake.calls.find((x) => x.path === '/open-apis/im/v1/messages')!;
    expect(send.method).toBe('POST');
    expect(send.query).toEqual({ receive_id_type: 'chat_id' });
    expect(send.body).toMatchObject({ receive_id: 'oc_chat_1', msg_type: 'interactive', uuid: 'ev_1' });
    expect(fake.messages.get(a.messageId)!.chatId).toBe('oc_chat_1');
  });

  it('downloads image and file bytes unchanged', async () => {
    const png = randomBytes(200_000);
    const pdf = Buffer.from('%PDF-1.4 fake');
    fake.setImage('img_v2_1', png, 'image/png');
    fake.setFile('file_v2_1', pdf, { fileName: 'report 1.pdf', mediaType: 'application/pdf' });
    const c = client();
    const img = await c.downloadImage('om_1', 'img_v2_1');
    expect(img.data.equals(png)).toBe(true);
    expect(img.contentType).toBe('image/png');
    const file = await c.downloadFile('om_1', 'file_v2_1');
    expect(file).toMatchObject({ contentType: 'application/pdf', fileName: 'report 1.pdf' });
    expect(file.data.equals(pdf)).toBe(true);
    const get = fake.calls.find((x) => x.path.endsWith('/resources/img_v2_1'))!;
    expect(get.method).toBe('GET');
    expect(get.path).toBe('/open-apis/im/v1/messages/om_1/resources/img_v2_1');
    expect(get.query).toEqual({ type: 'image' });
    await expect(c.downloadImage('om_1', 'img_v2_1', { maxBytes: 1000 })).rejects.toBeInstanceOf(LarkResourceTooLargeError);
  });

  it('maps platform errors to LarkApiError with the code', async () => {
    const c = client();
    fake.failNext(/\/reply$/, { status: 400, code: 230002, msg: 'Bot is not in the chat' });
    const err = await c.replyCard('om_x', thinkingCard('m')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LarkApiError);
    expect(err).toMatchObject({ code: 230002, status: 400 });

    fake.failNext(/^\/open-apis\/im\/v1\/messages\/[^/]+$/, { status: 200, code: 230020, msg: 'rate limited' });
    const { messageId } = await c.replyCard('om_x', thinkingCard('m'));
    await expect(c.patchCard(messageId, thinkingCard('m'))).rejects.toMatchObject({ code: 230020 });
    await expect(c.patchCard('om_unknown', thinkingCard('m'))).rejects.toMatchObject({ code: 230001 });

    // a download error (binary endpoint, JSON error body in a stream)
    await expect(c.downloadImage('om_1', 'img_missing')).rejects.toMatchObject({ code: 234003, status: 400 });

    // a card that is too big for the platform
    const huge = {
      config: { wide_screen_mode: true, update_multi: true },
      elements: [{ tag: 'markdown', content: 'x'.repeat(40_000) }],
    } as const;
    // @ts-expect-error deliberately bypassing the builders' size limit
    await expect(c.replyCard('om_x', huge)).rejects.toMatchObject({ code: 230025 });
  });

  it('bad app credentials and an unreachable platform become LarkApiError', async () => {
    const bad = createLarkClient({ appId: APP.appId, appSecret: 'wrong', domain: fake.url, logger: silent });
    await expect(bad.replyCard('om_x', thinkingCard('m'))).rejects.toBeInstanceOf(LarkApiError);
    const down = createLarkClient({ ...APP, domain: 'http://127.0.0.1:1', logger: silent, timeoutMs: 2000 });
    await expect(down.replyCard('om_x', thinkingCard('m'))).rejects.toMatchObject({ code: -1 });
  });

  it('reads the bot identity', async () => {
    await expect(client().getBotInfo()).resolves.toEqual({ openId: 'ou_bot', name: 'Gateway Bot' });
  });

  it('streams an answer through the card streamer into real patches', async () => {
    const c = client();
    const { messageId } = await c.replyCard('om_q', thinkingCard('m'));
    const s = createCardStreamer<string>({
      patch: (text) => c.patchCard(messageId, answerCard({ text, model: 'm', done: false })),
      intervalMs: 20,
    });
    let text = '';
    for (let i = 0; i < 30; i++) {
      text += `word${i} `;
      s.update(text);
      await new Promise((r) => setTimeout(r, 2));
    }
    await s.finish(text);
    const stored = fake.messages.get(messageId)!;
    expect(stored.history.length).toBeLessThan(31);
    expect(JSON.parse(stored.content)).toEqual(answerCard({ text, model: 'm', done: false }));
  });

  it('resolves domains', () => {
    const undoDefault = overrideConfig({ larkDomain: DEFAULT_LARK_DOMAIN });
    try {
      expect(resolveLarkDomain()).toBe('https://open.feishu.cn');
      expect(resolveLarkDomain(lark.Domain.Lark)).toBe('https://open.larksuite.com');
      expect(resolveLarkDomain('lark')).toBe('https://open.larksuite.com');
      expect(resolveLarkDomain('https://open.larksuite.com/')).toBe('https://open.larksuite.com');
    } finally {
      undoDefault();
    }
    const undo = overrideConfig({ larkDomain: 'http://127.0.0.1:9999' });
    try {
      expect(resolveLarkDomain()).toBe('http://127.0.0.1:9999');
      expect(resolveLarkDomain(lark.Domain.Feishu)).toBe('https://open.feishu.cn');
      expect(resolveLarkDomain('  ')).toBe('http://127.0.0.1:9999');
    } finally {
      undo();
    }
  });
});
