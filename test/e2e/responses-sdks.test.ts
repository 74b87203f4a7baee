/**
 * The Responses API through the clients people build agents with: the Vercel AI SDK's default `openai(...)` model
 * (its Responses path: store on, so later steps send `item_reference`s to our stored output items) and the OpenAI
 * Agents SDK running a tool-using agent loop. Both against the local server and the Bedrock simulator.
 */
import { createOpenAI } from '@ai-sdk/openai';
import { Agent, OpenAIResponsesModel, run, setTracingDisabled, tool as agentTool } from '@openai/agents';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import OpenAI from 'openai';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { script } from '../../local/bedrock-simulator/index.js';
import { overrideConfig } from '../../lambdas/core/config.js';
import { useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway();
const MODEL = 'claude-agents';
let key: string;
let keyId: number;

beforeAll(async () => {
  overrideConfig({ sseKeepAliveMs: 0 });
  setTracingDisabled(true);
  const { admin } = ctx;
  const g = (await admin.post('/admin/group/save', { name: 'sdks' })).body.data;
  await admin.post('/admin/model/save', {
    name: MODEL,
    config: { modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' },
    provider: 'bedrock-converse',
    price_in: 3,
    price_out: 15,
    group_id: g.id,
  });
  const k = (await admin.post('/admin/api-key/apply', { name: 'sdk-user', group_id: g.id, role: 'user', email: '', month_quota: 100 })).body
    .data;
  key = k.api_key;
  keyId = k.id;
});
beforeEach(() => ctx.gw.sim.reset());

const sent = (i: number) => ctx.gw.sim.requests[i].body;
const threads = async () =>
  (await ctx.admin.get(`/admin/thread/list?key_id=${keyId}&limit=100`)).body.data.items as Array<{ model: string; status: string }>;

describe('Vercel AI SDK, openai(...) (Responses)', () => {
  /** Request bodies the SDK sent. */
  const bodies: Array<{ input: Array<{ type?: string; id?: string }> }> = [];
  const provider = () =>
    createOpenAI({
      apiKey: key,
      baseURL: `${ctx.gw.url}/v1`,
      fetch: (url, init) => {
        if (typeof init?.body === 'string') bodies.push(JSON.parse(init.body));
        return fetch(url, init);
      },
    });

  it('generateText answers', async () => {
    ctx.gw.sim.enqueue(script.text('Hello from Bedrock'));
    const r = await generateText({ model: provider()(MODEL), prompt: 'Say hello', maxRetries: 0 });
    expect(r.text).toBe('Hello from Bedrock');
    expect(r.usage.outputTokens).toBeGreaterThan(0);
    expect(r.response.id).toMatch(/^resp_/);
  });

  it('runs a tool loop: the second step references the stored output items and sends the tool result', async () => {
    ctx.gw.sim.enqueue(
      script.toolCalls([{ name: 'getWeather', input: { city: 'Paris' } }], { precedingText: 'Let me check.' }),
      script.text('It is sunny in Paris.'),
    );
    const calls: string[] = [];
    const r = await generateText({
      model: provider()(MODEL),
      prompt: 'Weather in Paris?',
      maxRetries: 0,
      stopWhen: stepCountIs(3),
      tools: {
        getWeather: tool({
          description: 'Weather of a city',
          inputSchema: z.object({ city: z.string() }),
          execute: ({ city }) => {
            calls.push(city);
            return Promise.resolve({ city, sky: 'sunny' });
          },
        }),
      },
    });
    expect(calls).toEqual(['Paris']);
    const step2 = bodies[bodies.length - 1].input;
    expect(step2.filter((i) => i.type === 'item_reference')).toHaveLength(1);
    expect(r.text).toBe('It is sunny in Paris.');
    expect(r.steps).toHaveLength(2);
    const second = sent(1);
    expect(second.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(second.messages[1].content[0]).toEqual({ text: 'Let me check.' });
    expect(second.messages[1].content[1].toolUse).toMatchObject({ name: 'getWeather', input: { city: 'Paris' } });
    expect(second.messages[2].content[0].toolResult.content[0]).toEqual({ json: { city: 'Paris', sky: 'sunny' } });
  });

  it('streamText streams the text', async () => {
    ctx.gw.sim.enqueue(script.text('Streaming through the gateway', { chunkSize: 5 }));
    const r = streamText({ model: provider()(MODEL), prompt: 'Stream please', maxRetries: 0 });
    const parts: string[] = [];
    for await (const t of r.textStream) parts.push(t);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.join('')).toBe('Streaming through the gateway');
    expect((await r.usage).outputTokens).toBeGreaterThan(0);
  });
});

describe('OpenAI Agents SDK', () => {
  it('runs an agent loop with a function tool to its final output', async () => {
    ctx.gw.sim.enqueue(script.toolCalls([{ name: 'get_weather', input: { city: 'Oslo' } }]), script.text('Oslo is cold: -3 °C.'));
    const client = new OpenAI({ apiKey: key, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });
    const seen: string[] = [];
    const getWeather = agentTool({
      name: 'get_weather',
      description: 'Weather of a city',
      parameters: z.object({ city: z.string() }),
      execute: ({ city }) => {
        seen.push(city);
        return `${city}: -3 °C`;
      },
    });
    const agent = new Agent({
      name: 'Weather agent',
      instructions: 'Answer with the weather.',
      model: new OpenAIResponsesModel(client, MODEL),
      tools: [getWeather],
    });
    const before = (await threads()).length;
    const result = await run(agent, 'How is the weather in Oslo?');
    expect(seen).toEqual(['Oslo']);
    expect(result.finalOutput).toBe('Oslo is cold: -3 °C.');
    expect(sent(0).system).toEqual([{ text: 'Answer with the weather.' }]);
    expect(sent(1).messages[2].content[0].toolResult.content[0]).toEqual({ text: 'Oslo: -3 °C' });
    // both model calls recorded for the key
    const after = await threads();
    expect(after.length - before).toBe(2);
    expect(after[0]).toMatchObject({ model: MODEL, status: 'ok' });
  });
});
