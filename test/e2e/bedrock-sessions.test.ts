/**
 * Bedrock connections are reused: the SDK would open a new HTTP/2 session (a TCP connection and, against real
 * Bedrock, a TLS handshake) for every streamed call; the gateway shares pooled sessions across calls, streaming or
 * not, Converse or Claude's InvokeModel, sequential or concurrent. A session the far end dropped is replaced.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway();
let key = '';

beforeAll(async () => {
  for (const [name, modelId] of [
    ['nova-sessions', 'amazon.nova-lite-v1:0'],
    ['claude-sessions', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'],
  ] as const) {
    const saved = await ctx.admin.post('/admin/model/save', {
      name,
      provider: 'bedrock-converse',
      config: { modelId },
      price_in: 1,
      price_out: 1,
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
  }
  key = ctx.gw.adminKey;
});

const openai = () => new OpenAI({ apiKey: key, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });
const anthropic = () => new Anthropic({ apiKey: key, baseURL: ctx.gw.url, maxRetries: 0 });
const streamChat = async () => {
  const s = await openai().chat.completions.create({ model: 'nova-sessions', messages: [{ role: 'user', content: 'hi' }], stream: true });
  for await (const _ of s) void _;
};

describe('Bedrock HTTP/2 sessions', () => {
  it('one session serves many calls of every kind, one after another and at once', async () => {
    await streamChat(); // the first call opens the session
    const before = ctx.gw.sim.sessionsOpened;
    const requestsBefore = ctx.gw.sim.requests.length;
    for (let i = 0; i < 5; i++) await streamChat();
    for (let i = 0; i < 3; i++)
      await openai().chat.completions.create({ model: 'nova-sessions', messages: [{ role: 'user', content: 'hi' }] });
    for (let i = 0; i < 3; i++) {
      await anthropic()
        .messages.stream({ model: 'claude-sessions', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] })
        .finalMessage();
    }
    await Promise.all(Array.from({ length: 20 }, () => streamChat()));
    const ops = new Set(ctx.gw.sim.requests.slice(requestsBefore).map((r) => r.operation));
    expect(ops).toEqual(new Set(['ConverseStream', 'Converse', 'InvokeModelWithResponseStream']));
    expect(ctx.gw.sim.requests.length - requestsBefore).toBe(31);
    expect(ctx.gw.sim.sessionsOpened - before).toBe(0);
  });

  it('a session the far end dropped is replaced by one new session, and the call succeeds', async () => {
    await streamChat();
    ctx.gw.sim.dropSessions();
    await new Promise((r) => setTimeout(r, 50));
    const before = ctx.gw.sim.sessionsOpened;
    await streamChat();
    await streamChat();
    expect(ctx.gw.sim.sessionsOpened - before).toBe(1);
  });
});
