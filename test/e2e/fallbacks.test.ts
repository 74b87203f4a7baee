/**
 * Model fallbacks (config `fallbacks`): when a model is throttled, failing or timing out before its first byte, the
 * next model the key may use answers instead — a fallback the key may not use is skipped — and the thread records
 * the model that answered (at whose prices the call is billed) and what was tried before it.
 */
import OpenAI from 'openai';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { script } from '../../local/bedrock-simulator/index.js';
import { useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway({ config: { upstream: { maxAttempts: 1 } } });
let key = '';
let keyId = 0;

beforeAll(async () => {
  const save = async (name: string, modelId: string, price: number, fallbacks?: string[]) => {
    const res = await ctx.admin.post('/admin/model/save', {
      name,
      provider: 'bedrock-converse',
      config: { modelId, ...(fallbacks ? { fallbacks } : {}) },
      price_in: price,
      price_out: price,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data.id;
  };
  const primary = await save('primary', 'us.anthropic.claude-primary-v1:0', 1, ['forbidden', 'secondary']);
  await save('forbidden', 'us.anthropic.claude-forbidden-v1:0', 2);
  const secondary = await save('secondary', 'amazon.nova-secondary-v1:0', 5);
  const k = (await ctx.admin.post('/admin/api-key/apply', { name: 'fallbacks', role: 'user', email: '', month_quota: 10 })).body.data;
  for (const id of [primary, secondary]) await ctx.admin.post('/admin/api-key/bind-model', { key_id: k.id, model_id: id });
  key = k.api_key;
  keyId = k.id;
});
beforeEach(() => ctx.gw.sim.reset());

const client = () => new OpenAI({ apiKey: key, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });
const latestThread = async () => (await ctx.admin.get(`/admin/thread/list?key_id=${keyId}&limit=1`)).body.data.items[0];

describe('fallbacks', () => {
  it.each([
    ['throttled', script.error('ThrottlingException', 'slow down')],
    ['unavailable', script.error('ServiceUnavailableException', 'down')],
    ['failing', script.error('InternalServerException', 'boom')],
  ])('%s before the first byte: the next permitted model answers, billed at its price', async (_label, failure) => {
    ctx.gw.sim.enqueue(failure, script.text('from the fallback', { usage: { inputTokens: 100, outputTokens: 100 } }));
    const res = await client().chat.completions.create({ model: 'primary', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0].message.content).toBe('from the fallback');
    // The client still sees the name it asked for; Bedrock saw the primary, then the secondary (never the forbidden).
    expect(res.model).toBe('primary');
    expect(ctx.gw.sim.requests.map((r) => r.modelId)).toEqual(['us.anthropic.claude-primary-v1:0', 'amazon.nova-secondary-v1:0']);
    const thread = await latestThread();
    expect(thread).toMatchObject({ model: 'secondary', tokens_in: 100, tokens_out: 100 });
    expect(thread.fee).toBeCloseTo((100 * 5 + 100 * 5) / 1e6, 12);
    expect(thread.attempts.map((a) => a.model)).toEqual(['primary', 'forbidden']);
    expect(thread.attempts[1].error).toMatch(/^skipped/);
    // The key's own views leave the skipped fallback out: it names a model this key may not use.
    const asUser = async (path: string) =>
      ((await (await fetch(`${ctx.gw.url}${path}`, { headers: { authorization: `Bearer ${key}` } })).json()) as { data: never }).data;
    const listed = (await asUser('/user/thread/list?limit=1')) as { items: Array<{ id: number; attempts: Array<{ model: string }> }> };
    expect(listed.items[0].attempts.map((a) => a.model)).toEqual(['primary']);
    const detail = (await asUser(`/user/thread/detail/${thread.id}`)) as { attempts: Array<{ model: string }> };
    expect(detail.attempts.map((a) => a.model)).toEqual(['primary']);
    expect(JSON.stringify(detail)).not.toContain('forbidden');
  });

  it('works for streams too', async () => {
    ctx.gw.sim.enqueue(script.error('ThrottlingException', 'slow down'), script.text('streamed fallback'));
    const stream = await client().chat.completions.create({ model: 'primary', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('streamed fallback');
  });

  it('a refusal that is the request’s fault (validation) does not fall back', async () => {
    ctx.gw.sim.enqueue(script.error('ValidationException', 'bad input'), script.text('never'));
    const err = await client()
      .chat.completions.create({ model: 'primary', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(ctx.gw.sim.requests).toHaveLength(1);
  });

  it('when every model fails, the client gets the last refusal and the thread lists every attempt', async () => {
    ctx.gw.sim.enqueue(script.error('ThrottlingException', 'slow'), script.error('ThrottlingException', 'slower'));
    const err = await client()
      .chat.completions.create({ model: 'primary', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect((err as { status?: number }).status).toBe(429);
    const thread = await latestThread();
    expect(thread.attempts.map((a) => a.model)).toEqual(['primary', 'forbidden']);
  });

  it('saving a model that falls back to itself is a 400', async () => {
    const res = await ctx.admin.post('/admin/model/save', {
      name: 'loop',
      provider: 'bedrock-converse',
      config: { modelId: 'x', fallbacks: ['loop'] },
    });
    expect(res.status).toBe(400);
  });
});
