/**
 * Bedrock features set per model: a guardrail (guardrailConfig; an intervention is finish reason content_filter),
 * the latency-optimized version (performanceConfig) and the service tier (serviceTier). The simulator records what
 * reached Bedrock's wire and rejects what the service would reject.
 */
import OpenAI from 'openai';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { script } from '../../local/bedrock-simulator/index.js';
import { useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway();
let key = '';

beforeAll(async () => {
  const saved = await ctx.admin.post('/admin/model/save', {
    name: 'guarded',
    provider: 'bedrock-converse',
    config: {
      modelId: 'us.anthropic.claude-guarded-v1:0',
      guardrail: { identifier: 'gr-abc123', version: '3', trace: 'enabled', streamProcessingMode: 'async' },
      performance: 'optimized',
      serviceTier: 'priority',
    },
    price_in: 1,
    price_out: 1,
  });
  expect(saved.status, JSON.stringify(saved.body)).toBe(200);
  const k = (await ctx.admin.post('/admin/api-key/apply', { name: 'bedrock-options', role: 'user', email: '', month_quota: 10 })).body
    .data as {
    id: number;
    api_key: string;
  };
  await ctx.admin.post('/admin/api-key/bind-model', { key_id: k.id, model_id: (saved.body.data as { id: number }).id });
  key = k.api_key;
});
beforeEach(() => ctx.gw.sim.reset());

const client = () => new OpenAI({ apiKey: key, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });

describe('per-model Bedrock options', () => {
  it('sends the guardrail, performance and service tier on ConverseStream', async () => {
    const stream = await client().chat.completions.create({ model: 'guarded', messages: [{ role: 'user', content: 'Hi' }], stream: true });
    for await (const _ of stream) void _;
    const req = ctx.gw.sim.requests.at(-1)!;
    expect(req.operation).toBe('ConverseStream');
    expect(req.body).toMatchObject({
      guardrailConfig: { guardrailIdentifier: 'gr-abc123', guardrailVersion: '3', trace: 'enabled', streamProcessingMode: 'async' },
      performanceConfig: { latency: 'optimized' },
      serviceTier: { type: 'priority' },
    });
  });

  it('sends them on Converse too, without the stream-only processing mode', async () => {
    await client().chat.completions.create({ model: 'guarded', messages: [{ role: 'user', content: 'Hi' }] });
    const req = ctx.gw.sim.requests.at(-1)!;
    expect(req.operation).toBe('Converse');
    expect(req.body.guardrailConfig).toEqual({ guardrailIdentifier: 'gr-abc123', guardrailVersion: '3', trace: 'enabled' });
    expect(req.body).toMatchObject({ performanceConfig: { latency: 'optimized' }, serviceTier: { type: 'priority' } });
  });

  it('a guardrail intervention ends the answer with finish reason content_filter, streaming or not', async () => {
    ctx.gw.sim.enqueue(script.text('Sorry, the model cannot answer this.', { stopReason: 'guardrail_intervened' }));
    const whole = await client().chat.completions.create({ model: 'guarded', messages: [{ role: 'user', content: 'Forbidden topic' }] });
    expect(whole.choices[0].finish_reason).toBe('content_filter');
    expect(whole.choices[0].message.content).toBe('Sorry, the model cannot answer this.');

    ctx.gw.sim.enqueue(script.text('Blocked.', { stopReason: 'guardrail_intervened' }));
    const stream = await client().chat.completions.create({
      model: 'guarded',
      messages: [{ role: 'user', content: 'Forbidden topic' }],
      stream: true,
    });
    let finish: string | null = null;
    for await (const c of stream) finish = c.choices[0]?.finish_reason ?? finish;
    expect(finish).toBe('content_filter');
  });

  it.each([
    [{ guardrail: { identifier: 'gr-1', version: 'latest' } }, 'config.guardrail.version'],
    [{ guardrail: { version: '1' } }, 'config.guardrail.identifier'],
    [{ performance: 'fast' }, 'config.performance'],
    [{ serviceTier: 'gold' }, 'config.serviceTier'],
  ])('rejects an invalid option at save: %j', async (extra, field) => {
    const res = await ctx.admin.post('/admin/model/save', {
      name: 'bad-options',
      provider: 'bedrock-converse',
      config: { modelId: 'amazon.nova-lite-v1:0', ...extra },
      price_in: 0,
      price_out: 0,
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain(field);
  });
});
