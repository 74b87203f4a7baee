/**
 * A client that leaves mid-stream is billed for what the upstream spent, not for what an estimate a client can game
 * says: the gateway reads the upstream on (forwarding nothing) for its usage event, within UPSTREAM_DRAIN_MS; when
 * that budget runs out, the estimate is one the true count cannot exceed — UTF-8 bytes (CJK text is about a token
 * per character, so characters ÷ 3 would under-bill it threefold) and the whole thinking budget.
 */
import OpenAI from 'openai';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { overrideConfig } from '../../lambdas/core/config.js';
import { script } from '../../local/bedrock-simulator/index.js';
import { useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway();
let key = '';
let keyId = 0;
let undo: (() => void) | undefined;

interface ThreadRow {
  status: string;
  model: string;
  tokens_in: number;
  tokens_out: number;
  fee: number;
  prompt: string;
}

beforeAll(async () => {
  const k = (await ctx.admin.post('/admin/api-key/apply', { name: 'interrupted', role: 'user', email: '', month_quota: 10 })).body.data as {
    id: number;
    api_key: string;
  };
  for (const [name, config] of [
    ['plain-drain', { modelId: 'amazon.nova-drain-v1:0' }],
    ['thinking-drain', { modelId: 'us.anthropic.claude-drain-v1:0', thinking: { budgetTokens: 2048 } }],
  ] as const) {
    const saved = await ctx.admin.post('/admin/model/save', { name, provider: 'bedrock-converse', config, price_in: 1, price_out: 1 });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    await ctx.admin.post('/admin/api-key/bind-model', { key_id: k.id, model_id: (saved.body.data as { id: number }).id });
  }
  key = k.api_key;
  keyId = k.id;
});
beforeEach(() => ctx.gw.sim.reset());
afterEach(() => {
  undo?.();
  undo = undefined;
});

const client = () => new OpenAI({ apiKey: key, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });

/**
 * The thread of the call that sent `prompt`: settlement follows the drain, and the key's thread index (a GSI) is
 * eventually consistent, so it is polled for.
 */
async function threadOf(prompt: string): Promise<ThreadRow> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const page = (await ctx.admin.get(`/admin/thread/list?key_id=${keyId}&limit=10`)).body.data as { items: ThreadRow[] };
    const found = page.items.find((t) => t.prompt === prompt);
    if (found) return found;
    if (Date.now() > deadline) throw new Error('the call was never settled');
    await new Promise((r) => setTimeout(r, 50));
  }
}
/** Streams, and leaves after the first content chunk (the SDK aborts its HTTP request). */
async function leaveAfterFirstChunk(model: string, prompt: string, extra: Record<string, unknown> = {}) {
  const stream = await client().chat.completions.create({ model, messages: [{ role: 'user', content: prompt }], stream: true, ...extra });
  for await (const c of stream) {
    if (c.choices[0]?.delta.content || (c.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content) break;
  }
  stream.controller.abort();
}

describe('a client leaving mid-stream', () => {
  it("is billed the upstream's own usage, read on after the client left", async () => {
    ctx.gw.sim.enqueue(script.text('word '.repeat(60), { chunkSize: 10, delayMs: 20, usage: { inputTokens: 4321, outputTokens: 765 } }));
    await leaveAfterFirstChunk('plain-drain', 'Tell me a long story.');
    const t = await threadOf('Tell me a long story.');
    expect(t.status).toBe('interrupted');
    expect(t).toMatchObject({ tokens_in: 4321, tokens_out: 765 });
    expect(t.fee).toBeCloseTo((4321 + 765) / 1e6, 9);
    // The upstream stream was read to its end, not cut.
    const rec = ctx.gw.sim.requests.at(-1)!;
    expect(rec.aborted).toBe(false);
  });

  it('when the drain budget runs out, a CJK prompt is billed by its UTF-8 bytes, never below its true count', async () => {
    undo = overrideConfig({ upstream: { drainMs: 100 } });
    const prompt = '数据库连接失败了应该怎么排查？'.repeat(40);
    ctx.gw.sim.enqueue(script.text('先检查网络。'.repeat(50), { chunkSize: 5, delayMs: 100 }));
    await leaveAfterFirstChunk('plain-drain', prompt);
    const t = await threadOf(prompt);
    expect(t.status).toBe('interrupted');
    // One token per character is what tokenizers spend on CJK at best; bytes bound them all.
    expect(t.tokens_in).toBe(Buffer.byteLength(prompt, 'utf8'));
    expect(t.tokens_in).toBeGreaterThanOrEqual(prompt.length);
    expect(t.tokens_out).toBeGreaterThan(0);
    // The upstream call was stopped at the end of the budget.
    await expect.poll(() => ctx.gw.sim.requests.at(-1)!.aborted, { timeout: 5000 }).toBe(true);
  });

  it('thinking that was on is billed at its whole budget when no usage arrived', async () => {
    undo = overrideConfig({ upstream: { drainMs: 0 } });
    ctx.gw.sim.enqueue(script.reasoning('Let me think about this carefully. '.repeat(20), 'The answer.', { chunkSize: 8, delayMs: 50 }));
    await leaveAfterFirstChunk('thinking-drain', 'Why?', { max_tokens: 4096 });
    const t = await threadOf('Why?');
    expect(t.status).toBe('interrupted');
    expect(t.tokens_out).toBeGreaterThanOrEqual(2048);
    // Never more than the call allowed: max_tokens plus the thinking budget.
    expect(t.tokens_out).toBeLessThanOrEqual(4096 + 2048);
  });
});
