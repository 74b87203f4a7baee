/**
 * The deployed hand-off: the webhook invokes the worker Lambda asynchronously (InvocationType Event) and, when that
 * fails, un-records the event and answers 500 so that Feishu's retry is accepted. A fake Lambda API stands in
 * (the SDK honours AWS_ENDPOINT_URL_LAMBDA).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { overrideConfig } from '../../../lambdas/core/config.js';
import { encryptEvent } from '../../../lambdas/core/feishu/crypto.js';
import { createBot } from '../../../lambdas/core/store/bots.js';
import { tableName } from '../../../lambdas/core/store/table.js';
import { ensureTable } from '../../../local/table.js';

interface Invocation {
  path: string;
  invocationType: string | undefined;
  body: unknown;
}
const invocations: Invocation[] = [];
let failNext = 0;
let server: Server;
let botId: number;
let undoConfig: () => void = () => undefined;
const TOKEN = 'verification-token-handoff';

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      invocations.push({
        path: req.url ?? '',
        invocationType: req.headers['x-amz-invocation-type'] as string | undefined,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'),
      });
      if (failNext > 0) {
        failNext -= 1;
        res.writeHead(429, { 'content-type': 'application/json', 'x-amzn-errortype': 'TooManyRequestsException' });
        res.end(JSON.stringify({ message: 'Rate exceeded', Type: 'User' }));
        return;
      }
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  // Read by the AWS SDK itself (AWS_MAX_ATTEMPTS=1 comes from test/support/env.ts); the worker name is gateway config.
  vi.stubEnv('AWS_ENDPOINT_URL_LAMBDA', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  undoConfig = overrideConfig({ feishuWorkerFunctionName: 'feishu-worker' });
  await ensureTable(tableName());
  botId = (
    await createBot({
      name: 'handoff',
      provider: 'bedrock-converse',
      appId: 'cli_x',
      appSecret: 's',
      verificationToken: TOKEN,
      encryptKey: null,
      allowUnsigned: true,
      apiKeyHash: 'h',
      apiKeyHint: 'br-…',
      apiKeyId: 1,
      modelId: 'm',
      domain: null,
      systemPrompt: null,
    })
  ).id;
});

afterAll(async () => {
  undoConfig();
  vi.unstubAllEnvs();
  await new Promise<void>((r) => server.close(() => r()));
});

const event = (eventId: string) => ({
  schema: '2.0',
  header: { event_id: eventId, event_type: 'im.message.receive_v1', token: TOKEN, create_time: String(Date.now()) },
  event: {
    sender: { sender_id: { open_id: 'ou_a' }, sender_type: 'user' },
    message: { message_id: `om_${eventId}`, chat_id: 'oc_1', chat_type: 'p2p', message_type: 'text', content: '{"text":"hi"}' },
  },
});

function apiEvent(body: string, opts: { base64?: boolean; id?: string } = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /bot/feishu/{id}/webhook',
    rawPath: `/bot/feishu/${opts.id ?? botId}/webhook`,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    pathParameters: { id: opts.id ?? String(botId) },
    requestContext: { http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '1.1.1.1', userAgent: '' } },
    body: opts.base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: !!opts.base64,
  } as unknown as APIGatewayProxyEventV2;
}
const ctx = {} as Context;

describe('webhook → worker hand-off in AWS', () => {
  it('invokes the worker function asynchronously with the job', async () => {
    const { handler } = await import('../../../lambdas/feishu/webhook.js');
    invocations.length = 0;
    const res = await handler(apiEvent(JSON.stringify(event('ev_async_1')), { base64: true }), ctx);
    expect(res).toMatchObject({ statusCode: 200 });
    expect(invocations).toHaveLength(1);
    expect(invocations[0].path).toBe('/2015-03-31/functions/feishu-worker/invocations');
    expect(invocations[0].invocationType).toBe('Event');
    expect(invocations[0].body).toEqual({ botId, eventId: 'msg-om_ev_async_1', event: event('ev_async_1').event });
  });

  it('a failed hand-off answers 500 and forgets the event, so that the retry is accepted (and only once)', async () => {
    const { handler } = await import('../../../lambdas/feishu/webhook.js');
    invocations.length = 0;
    failNext = 1;
    const body = JSON.stringify(event('ev_async_2'));
    expect(await handler(apiEvent(body), ctx)).toMatchObject({ statusCode: 500 });
    expect(await handler(apiEvent(body), ctx)).toMatchObject({ statusCode: 200 });
    expect(await handler(apiEvent(body), ctx)).toMatchObject({ statusCode: 200 });
    expect(invocations.map((i) => i.body && (i.body as { eventId: string }).eventId)).toEqual(['msg-om_ev_async_2', 'msg-om_ev_async_2']);
  });

  it('rejects a wrong token with 401 and unknown bots with 404, invoking nothing', async () => {
    const { handler } = await import('../../../lambdas/feishu/webhook.js');
    invocations.length = 0;
    const forged = { ...event('ev_async_3'), header: { ...event('ev_async_3').header, token: 'nope' } };
    expect(await handler(apiEvent(JSON.stringify(forged)), ctx)).toMatchObject({ statusCode: 401 });
    expect(await handler(apiEvent(JSON.stringify(event('ev_async_4')), { id: 'abc' }), ctx)).toMatchObject({ statusCode: 404 });
    const enc = JSON.stringify({ encrypt: encryptEvent(event('ev_async_5'), 'k') });
    expect(await handler(apiEvent(enc), ctx)).toMatchObject({ statusCode: 400 }); // encrypted, but the bot has no key
    expect(invocations).toEqual([]);
  });

  it('the worker entry refuses a malformed job without throwing', async () => {
    const { handler } = await import('../../../lambdas/feishu/worker.js');
    expect(await handler({ nonsense: true }, ctx)).toEqual({ outcome: 'bad-job' });
  });
});
