/**
 * Security: nothing the bot logs about a failed open-platform call may contain the app secret or the tenant token.
 * The axios errors the SDK throws carry the request (config.headers.Authorization = `Bearer t-…`, config.data =
 * `{app_id, app_secret}` on a token fetch); Powertools' formatError writes every enumerable property of an error
 * and of its cause, and the SDK's own logger prints raw axios errors. Here the real SDK talks to the fake platform,
 * the errors are logged exactly as feishu/answer.ts logs them, and everything that reaches an output is checked.
 */
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { thinkingCard } from '../../../lambdas/core/feishu/cards.js';
import { clearLarkClientCache, createLarkClient, LarkApiError, scrubLarkLogValue } from '../../../lambdas/core/feishu/lark-client.js';
import { logger } from '../../../lambdas/core/log.js';
import { startFakeFeishu, type FakeFeishu } from '../../fakes/feishu-open-platform.js';

const APP = { appId: 'cli_secret_test', appSecret: 'app-secret-never-log-me-4f2a9c' };

let fake: FakeFeishu;
let out: string[];

beforeAll(async () => {
  fake = await startFakeFeishu({ apps: { [APP.appId]: APP.appSecret } });
});
afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.reset();
  clearLarkClientCache();
  out = [];
  // Everything Powertools writes (its own Console) and everything written to the global console (the SDK's
  // default logger uses console.log), rendered the way the console would render it.
  const capture = (...args: unknown[]) => {
    out.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 6 }))).join(' '));
  };
  const pt = (logger as unknown as { console: Record<string, (...a: unknown[]) => void> }).console;
  for (const m of ['error', 'warn', 'info', 'debug', 'log', 'trace'] as const) {
    vi.spyOn(pt, m).mockImplementation(capture);
    vi.spyOn(console, m).mockImplementation(capture);
  }
  logger.setLogLevel('DEBUG');
});
afterEach(() => {
  logger.setLogLevel('SILENT');
  vi.restoreAllMocks();
});

/** No logger option: the client's production configuration. */
const client = () => createLarkClient({ ...APP, domain: fake.url });

function expectNoSecrets(token?: string) {
  const all = out.join('\n');
  expect(all).not.toContain(APP.appSecret);
  expect(all).not.toMatch(/Bearer\s+[at]-fake-/);
  if (token) expect(all).not.toContain(token);
}

describe('failed open-platform calls leave no credentials in logs', () => {
  it('a failed download (request carries Authorization: Bearer <tenant token>)', async () => {
    const c = client();
    await c.replyCard('om_first', thinkingCard('m'));
    const token = String(fake.calls.find((x) => x.path.endsWith('/reply'))!.headers.authorization).slice('Bearer '.length);
    expect(token).toMatch(/^t-fake-/);

    fake.failNext(/\/resources\//, { status: 400, code: 234003, msg: 'File not in msg.' });
    const err = await c.downloadImage('om_first', 'img_gone').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LarkApiError);
    expect(err).toMatchObject({ code: 234003, status: 400, operation: 'im.messageResource.get' });
    expect((err as Error).cause).toBeUndefined();
    logger.error('feishu answer failed', { botId: 1, messageId: 'om_first', error: err as Error }); // as answer.ts does

    // a failure of a raw SDK request (the SDK logs the raw axios error itself)
    fake.failNext(/\/bot\/v3\/info$/, { status: 400, code: 99991672, msg: 'Access denied' });
    const infoErr = await c.getBotInfo().catch((e: unknown) => e);
    expect(infoErr).toMatchObject({ code: 99991672 });
    logger.warn('feishu bot info unavailable', { appId: APP.appId, error: infoErr as Error });

    const all = out.join('\n');
    expect(all).toContain('feishu answer failed');
    expect(all).toContain('234003');
    expect(all).toContain('99991672');
    expectNoSecrets(token);
  });

  it('a failed token fetch (request body carries the app secret)', async () => {
    fake.failNext(/tenant_access_token/, { status: 400, code: 10014, msg: 'app secret invalid' });
    const err = await client()
      .replyCard('om_x', thinkingCard('m'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LarkApiError);
    expect(err).toMatchObject({ code: 10014, status: 400 });
    logger.error('feishu reply failed', { error: err as Error });

    // the same during a download and a raw request
    clearLarkClientCache();
    fake.failNext(/tenant_access_token/, { status: 500, code: 500, msg: 'internal error' });
    const dl = await client()
      .downloadFile('om_x', 'file_1')
      .catch((e: unknown) => e);
    expect(dl).toBeInstanceOf(LarkApiError);
    logger.error('feishu answer failed', { error: dl as Error });
    clearLarkClientCache();
    fake.failNext(/tenant_access_token/, { status: 500, code: 500, msg: 'internal error' });
    const info = await client()
      .getBotInfo()
      .catch((e: unknown) => e);
    expect(info).toBeInstanceOf(LarkApiError);
    logger.warn('feishu bot info unavailable', { error: info as Error });

    // and a transport failure (nothing listening)
    clearLarkClientCache();
    const down = createLarkClient({ ...APP, domain: 'http://127.0.0.1:1', timeoutMs: 2000 });
    const net = await down.replyCard('om_x', thinkingCard('m')).catch((e: unknown) => e);
    expect(net).toMatchObject({ code: -1 });
    logger.error('feishu reply failed', { error: net as Error });

    expect(out.join('\n')).toContain('10014');
    expectNoSecrets();
    // the error objects themselves hold nothing more than operation, code, status and message
    for (const e of [err, dl, info, net]) {
      expect(Object.keys(e as object).sort()).toEqual(['code', 'name', 'operation', 'status']);
      expect(JSON.stringify(e) + String((e as Error).message)).not.toContain(APP.appSecret);
    }
  });

  it('scrubs what the SDK hands its logger', () => {
    const axiosLike = Object.assign(new Error('Request failed with status code 400'), {
      config: {
        method: 'post',
        url: 'https://x/open-apis/auth/v3/tenant_access_token/internal?a=b',
        headers: { Authorization: 'Bearer t-abc' },
        data: `{"app_secret":"${APP.appSecret}"}`,
      },
      request: { _header: 'Authorization: Bearer t-abc' },
      response: { status: 400, data: { code: 10014, msg: 'app secret invalid' }, config: { data: APP.appSecret } },
    });
    const formatErrorsOutput = [
      {
        message: 'x',
        config: { data: { app_secret: APP.appSecret }, url: '/u', method: 'post' },
        response: { data: { code: 1, msg: 'm' }, status: 400 },
      },
      { code: 1, msg: 'm', error: { log_id: 'l', secret: APP.appSecret } },
    ];
    const s = JSON.stringify(scrubLarkLogValue([axiosLike, formatErrorsOutput, `Bearer t-abc app_secret=${APP.appSecret}`]));
    expect(s).not.toContain(APP.appSecret);
    expect(s).not.toContain('t-abc');
    expect(s).toContain('10014');
    expect(s).toContain('/open-apis/auth/v3/tenant_access_token/internal');
  });
});
