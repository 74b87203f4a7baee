/**
 * Upstream (Bedrock) faults and what the gateway does about them:
 * - a retryable refusal before the first byte (throttling, unavailable) is retried with backoff within a time budget,
 *   invisibly to the client; when every attempt is refused the client gets the last refusal with retry-after;
 * - a stream that goes silent is ended with an in-band error after UPSTREAM_STALL_MS and recorded as failed;
 * - a client that goes away stops the upstream call (see chat-completions.test.ts).
 */
import OpenAI from 'openai';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { overrideConfig } from '../../lambdas/core/config.js';
import { script } from '../../local/bedrock-simulator/index.js';
import { useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway({ config: { upstream: { maxAttempts: 3, retryBudgetMs: 5000, stallMs: 400 } } });
const MODEL = 'flaky';
let key = '';

beforeAll(async () => {
  const model = await ctx.admin.post('/admin/model/save', {
    name: MODEL,
    provider: 'bedrock-converse',
    config: { modelId: 'amazon.nova-lite-v1:0' },
    price_in: 1,
    price_out: 1,
  });
  expect(model.status).toBe(200);
  key = ctx.gw.adminKey;
});
beforeEach(() => ctx.gw.sim.reset());

const client = () => new OpenAI({ apiKey: key, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });
const ask = [{ role: 'user' as const, content: 'hello' }];

describe('a refusal before the first byte', () => {
  it('throttled once: the gateway retries and the client sees only the answer', async () => {
    ctx.gw.sim.enqueue(script.error('ThrottlingException', 'slow down'), script.text('second time lucky'));
    const res = await client().chat.completions.create({ model: MODEL, messages: ask, stream: true });
    let text = '';
    for await (const chunk of res) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('second time lucky');
    expect(ctx.gw.sim.requests).toHaveLength(2);
  });

  it('throttled on every attempt: 429 with retry-after after exactly maxAttempts calls', async () => {
    ctx.gw.sim.enqueue(...Array.from({ length: 5 }, () => script.error('ThrottlingException', 'slow down')));
    const res = await fetch(`${ctx.gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: ask, stream: true }),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await res.json()).toMatchObject({ error: { type: 'rate_limit_error', code: 'throttled' } });
    expect(ctx.gw.sim.requests).toHaveLength(3);
  });

  it('a refusal that a retry cannot help (validation) is not retried', async () => {
    ctx.gw.sim.enqueue(script.error('ValidationException', 'bad input'), script.text('never reached'));
    const err = await client()
      .chat.completions.create({ model: MODEL, messages: ask })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(ctx.gw.sim.requests).toHaveLength(1);
  });

  it('the retries stop at the time budget', async () => {
    const restore = overrideConfig({ upstream: { maxAttempts: 10, retryBudgetMs: 150 } });
    try {
      ctx.gw.sim.enqueue(...Array.from({ length: 10 }, () => script.error('ServiceUnavailableException', 'down')));
      const started = Date.now();
      const err = await client()
        .chat.completions.create({ model: MODEL, messages: ask })
        .catch((e: unknown) => e);
      expect((err as { status?: number }).status).toBe(503);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(ctx.gw.sim.requests.length).toBeLessThan(10);
    } finally {
      restore();
    }
  });
});

describe('a stream that goes silent', () => {
  it('is ended with an in-band error after the stall time, and recorded as a failed call', async () => {
    ctx.gw.sim.enqueue(script.text('this answer stalls', { chunkSize: 4, delayMs: 1500 }));
    const res = await fetch(`${ctx.gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'session-id': 'stall-test' },
      body: JSON.stringify({ model: MODEL, messages: ask, stream: true }),
    });
    expect(res.status).toBe(200);
    const raw = await res.text();
    expect(raw).toContain('upstream_stalled');
    expect(raw).not.toContain('[DONE]');
    await ctx.gw.idle();
    const threads = await ctx.admin.get('/admin/thread/list?limit=5');
    const thread = threads.body.data.items[0];
    expect(thread).toMatchObject({ status: 'error' });
    expect(thread.error).toContain('sent nothing');
  });
});
