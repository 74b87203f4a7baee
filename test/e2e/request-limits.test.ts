import OpenAI from 'openai';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { script } from '../../local/bedrock-simulator/index.js';
import { useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway();
let userKey: string;
let client: OpenAI;
const MODEL = 'limits-test';
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]).toString('base64');
const ACCOUNT = '123456789012';

beforeAll(async () => {
  const { gw, admin } = ctx;
  const model = (
    await admin.post('/admin/model/save', {
      name: MODEL,
      config: { modelId: 'us.anthropic.claude-3-7-sonnet-20250219-v1:0' },
      provider: 'bedrock-converse',
      price_in: 3,
      price_out: 15,
    })
  ).body.data;
  const key = (await admin.post('/admin/api-key/apply', { name: 'limits', role: 'user', email: '', month_quota: 100 })).body.data;
  expect((await admin.post('/admin/api-key/bind-model', { key_id: key.id, model_id: model.id })).status).toBe(200);
  userKey = key.api_key;
  client = new OpenAI({ apiKey: userKey, baseURL: `${gw.url}/v1`, maxRetries: 0 });
});
beforeEach(() => ctx.gw.sim.reset());

const images = (n: number) =>
  Array.from({ length: n }, () => ({ type: 'image_url' as const, image_url: { url: `data:image/png;base64,${PNG}` } }));

async function rawChat(body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${ctx.gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

describe('attachment limits', () => {
  it('21 data: images → 400 on messages, and Bedrock is never called', async () => {
    const err = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }, ...images(21)] }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).status).toBe(400);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages');
    expect((err as Error).message).toMatch(/at most 20 images/);
    expect(ctx.gw.sim.requests).toHaveLength(0);
  });

  it('images are counted across messages, streaming too', async () => {
    const { status, text } = await rawChat({
      model: MODEL,
      stream: true,
      messages: [
        { role: 'user', content: images(11) },
        { role: 'assistant', content: 'seen' },
        { role: 'user', content: images(10) },
      ],
    });
    expect(status).toBe(400);
    expect(text).toMatch(/at most 20 images/);
    expect(ctx.gw.sim.requests).toHaveLength(0);
  });

  it('20 images still go through', async () => {
    ctx.gw.sim.enqueue(script.text('twenty'));
    const res = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: images(20) }] });
    expect(res.choices[0].message.content).toBe('twenty');
    expect(ctx.gw.sim.requests).toHaveLength(1);
  });
});

describe('upstream error text', () => {
  const message = `The provided model identifier arn:aws:bedrock:us-east-1:${ACCOUNT}:inference-profile/x is invalid (account ${ACCOUNT}).`;

  it('a ValidationException naming an ARN → 400 without the account id', async () => {
    ctx.gw.sim.enqueue(script.error('ValidationException', message));
    const { status, text } = await rawChat({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    expect(status).toBe(400);
    expect(text).not.toContain(ACCOUNT);
    expect(JSON.parse(text).error.message).toMatch(/model identifier arn:… is invalid/);
    expect(ctx.gw.sim.requests).toHaveLength(1);
  });

  it('the same through the SDK, streaming', async () => {
    ctx.gw.sim.enqueue(script.error('ValidationException', message));
    const err = await client.chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'hi' }] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(JSON.stringify((err as InstanceType<typeof OpenAI.BadRequestError>).error)).not.toContain(ACCOUNT);
    expect((err as Error).message).not.toContain(ACCOUNT);
  });

  it('an InternalServerException naming an ARN → 5xx without the account id', async () => {
    ctx.gw.sim.enqueue(script.error('InternalServerException', message));
    const { status, text } = await rawChat({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    expect(status).toBeGreaterThanOrEqual(500);
    expect(text).not.toContain(ACCOUNT);
  });
});

describe('a body past the local server’s 20 MB bound', () => {
  const big = Buffer.alloc(21 * 1024 * 1024, 'a');
  const send = async (path: string, headers: Record<string, string>) => {
    const res = await fetch(`${ctx.gw.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: big,
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };

  it('is a 413 in each route’s own shape (Anthropic’s on /v1/messages, with request-id), and nothing is called', async () => {
    const messages = await send('/v1/messages', { 'x-api-key': userKey });
    expect(messages.status).toBe(413);
    expect(messages.body).toMatchObject({
      type: 'error',
      error: { type: 'request_too_large' },
      request_id: messages.headers.get('request-id'),
    });
    const chat = await send('/v1/chat/completions', { authorization: `Bearer ${userKey}` });
    expect(chat.status).toBe(413);
    expect(chat.body).toMatchObject({ error: { type: 'invalid_request_error', code: 'payload_too_large' } });
    const admin = await send('/admin/model/save', { authorization: `Bearer ${ctx.gw.adminKey}` });
    expect(admin.status).toBe(413);
    expect(admin.body).toMatchObject({ success: false, error: { code: 'payload_too_large' } });
    expect(ctx.gw.sim.requests).toHaveLength(0);
  });
});
