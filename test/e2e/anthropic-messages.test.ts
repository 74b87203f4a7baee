/**
 * /v1/messages, /v1/messages/count_tokens and the Anthropic model list, driven by the official @anthropic-ai/sdk
 * against the local gateway and its Bedrock simulator: Claude natively (InvokeModel / InvokeModelWithResponseStream),
 * every other model through Converse; the same keys, grants, quota, billing and records as chat completions.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { overrideConfig } from '../../lambdas/core/config.js';
import { resetStoreClient } from '../../lambdas/core/store/table.js';
import { script } from '../../local/bedrock-simulator/index.js';
import { anthropicChunks, anthropicRequestChars } from '../../local/bedrock-simulator/anthropic.js';
import { type DynamoDbProxy, startDynamoDbProxy } from '../../local/dynamodb-proxy.js';
import { api, startTestGateway, type TestGateway } from '../support/gateway.js';

let proxy: DynamoDbProxy;
let undo: () => void;
let gw: TestGateway;
let admin: ReturnType<typeof api>;
let user: { id: number; api_key: string };
let client: Anthropic;

const CLAUDE = 'claude-sonnet';
const CLAUDE_ID = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const OPUS = 'claude-opus-46';
const OPUS_ID = 'global.anthropic.claude-opus-4-6-v1';
const PROFILE = 'claude-profile';
const PROFILE_ARN = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123';
const NOVA = 'nova-pro';
const NOVA_ID = 'us.amazon.nova-pro-v1:0';

beforeAll(async () => {
  // DynamoDB through a fault proxy, so one test can take the store away (CONTRACT: 529 overloaded_error on /v1/messages).
  proxy = await startDynamoDbProxy(inject('dynamoEndpoint'));
  undo = overrideConfig({
    sseKeepAliveMs: 100,
    store: { endpoint: proxy.url, maxAttempts: 1, requestTimeoutMs: 1000, connectTimeoutMs: 1000 },
    // One upstream attempt: a scripted refusal reaches the client as it is (the retries have their own tests).
    upstream: { maxAttempts: 1 },
  });
  resetStoreClient();
  gw = await startTestGateway();
  admin = api(gw.url, gw.adminKey);
  const group = (await admin.post('/admin/group/save', { name: 'anthropic' })).body.data;
  const models: Array<[string, Record<string, unknown>]> = [
    [CLAUDE, { modelId: CLAUDE_ID }],
    [OPUS, { modelId: OPUS_ID }],
    [PROFILE, { modelId: PROFILE_ARN, family: 'anthropic' }],
    [NOVA, { modelId: NOVA_ID, maxTokens: 5000 }],
  ];
  for (const [name, config] of models) {
    const saved = await admin.post('/admin/model/save', {
      name,
      config,
      provider: 'bedrock-converse',
      price_in: 3,
      price_out: 15,
      price_cache_read: 0.3,
      price_cache_write: 3.75,
      group_id: group.id,
    });
    expect(saved.status).toBe(200);
  }
  await admin.post('/admin/model/save', {
    name: 'not-yours',
    config: { modelId: CLAUDE_ID },
    provider: 'bedrock-converse',
    price_in: 1,
    price_out: 1,
  });
  user = (await admin.post('/admin/api-key/apply', { name: 'claude-user', group_id: group.id, role: 'user', email: '', month_quota: 100 }))
    .body.data;
  client = new Anthropic({ apiKey: user.api_key, baseURL: gw.url, maxRetries: 0 });
});

afterAll(async () => {
  proxy?.clear();
  await gw?.close();
  await proxy?.close();
  undo?.();
  resetStoreClient();
});

beforeEach(() => {
  proxy.clear();
  gw.sim.reset();
});

/**
 * What a JSON body parses to, for assertions on shapes no type describes (a raw Bedrock request body, the gateway's
 * records). The simulator's RecordedRequest bodies are typed the same way.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary parsed JSON, asserted on field by field
type Json = any;

const ask = (text = 'ping'): Anthropic.MessageParam[] => [{ role: 'user', content: text }];
const lastSent = () => gw.sim.requests[gw.sim.requests.length - 1];

async function threads(keyId: number, limit = 5) {
  await gw.idle(); // a streamed call is settled just after its last byte
  return (await admin.get(`/admin/thread/list?key_id=${keyId}&limit=${limit}`)).body.data.items as Json[];
}

/** A raw POST, for what the SDK would hide (headers, the exact SSE text, error bodies). */
async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'x-api-key': user.api_key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: (): Json => JSON.parse(text) };
}

/** Event names without the `ping`s, which may come anywhere (the keep-alive is an Anthropic ping). */
const names = (events: Array<{ event: string }>) => events.map((e) => e.event).filter((e) => e !== 'ping');

/** `event: x\ndata: {...}` frames → [{event, data}]. */
function sseEvents(text: string): Array<{ event: string; data: Json }> {
  return text
    .split('\n\n')
    .filter((f) => f.startsWith('event: '))
    .map((f) => {
      const [eventLine, dataLine] = f.split('\n');
      return { event: eventLine.slice('event: '.length), data: JSON.parse(dataLine.slice('data: '.length)) };
    });
}

describe('Claude natively on Bedrock', () => {
  it('a prompt script (sim: lines, as the real CLIs are driven against npm start) calls the offered tool, then answers', async () => {
    const tools = [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }];
    const prompt = 'sim:tool get_weather {"city":"Paris"}\nsim:say It is sunny.';
    const first = await client.messages.create({ model: CLAUDE, max_tokens: 256, tools, messages: ask(prompt) });
    expect(gw.sim.requests.at(-1)?.operation).toBe('InvokeModel');
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((b) => b.type === 'tool_use')!;
    expect(use).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });
    const second = await client.messages.create({
      model: CLAUDE,
      max_tokens: 256,
      tools,
      messages: [
        ...ask(prompt),
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny' }] },
      ],
    });
    expect(second.content).toEqual([expect.objectContaining({ type: 'text', text: 'It is sunny.' })]);
  });

  it('create: the Messages body goes to InvokeModel, and the answer comes back in Anthropic shape with the model name echoed', async () => {
    gw.sim.enqueue(script.text('Hello there', { usage: { inputTokens: 11, outputTokens: 7 } }));
    const msg = await client.messages.create({ model: CLAUDE, max_tokens: 256, messages: ask('hi'), system: 'Be brief.' });
    expect(msg).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: CLAUDE,
      content: [{ type: 'text', text: 'Hello there' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 11, output_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
    expect(msg.id).toMatch(/^msg_bdrk_/);
    const sent = lastSent();
    expect(sent.operation).toBe('InvokeModel');
    expect(sent.modelId).toBe(CLAUDE_ID);
    expect(sent.body).toEqual({
      anthropic_version: 'bedrock-2023-05-31',
      system: [{ type: 'text', text: 'Be brief.' }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      max_tokens: 256,
    });
  });

  it('stream: Anthropic SSE (message_start … message_stop) and finalMessage() equals the non-stream answer', async () => {
    const scripted = () => script.text('The quick brown fox jumps.', { usage: { inputTokens: 20, outputTokens: 6 }, chunkSize: 4 });
    gw.sim.enqueue(scripted(), scripted());
    const plain = await client.messages.create({ model: CLAUDE, max_tokens: 100, messages: ask() });
    const stream = client.messages.stream({ model: CLAUDE, max_tokens: 100, messages: ask() });
    const texts: string[] = [];
    stream.on('text', (t) => texts.push(t));
    const streamed = await stream.finalMessage();
    expect(texts.length).toBeGreaterThan(3);
    expect(gw.sim.requests.map((r) => r.operation)).toEqual(['InvokeModel', 'InvokeModelWithResponseStream']);
    // parsed_output is the SDK's own addition to streamed messages (structured outputs), not the gateway's.
    expect({ ...streamed, id: 'x', parsed_output: undefined }).toEqual({ ...plain, id: 'x' });
  });

  it('the stream is exactly Anthropic’s event sequence, with the final usage on message_delta', async () => {
    gw.sim.enqueue(
      script.text('abc', { usage: { inputTokens: 9, outputTokens: 2, cacheReadInputTokens: 100, cacheWriteInputTokens: 50 } }),
    );
    const res = await post('/v1/messages', { model: CLAUDE, max_tokens: 50, messages: ask(), stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('request-id')).toBeTruthy();
    const all = sseEvents(res.text);
    expect(all[1].event).toBe('ping'); // as Anthropic's API sends one right after message_start
    expect(names(all)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const e of all) expect(e.data.type).toBe(e.event);
    const events = all.filter((e) => e.event !== 'ping');
    expect(events[0].data.message).toMatchObject({ type: 'message', role: 'assistant', model: CLAUDE, content: [], stop_reason: null });
    expect(events[0].data.message.usage).toEqual({
      input_tokens: 9,
      output_tokens: 1,
      cache_creation_input_tokens: 50,
      cache_read_input_tokens: 100,
    });
    expect(events[1].data).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(events[4].data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 9, output_tokens: 2, cache_creation_input_tokens: 50, cache_read_input_tokens: 100 },
    });
  });

  it('Claude’s model_context_window_exceeded comes back as itself, streamed or not (not as max_tokens)', async () => {
    gw.sim.enqueue(
      script.text('cut', { stopReason: 'model_context_window_exceeded' }),
      script.text('cut', { stopReason: 'model_context_window_exceeded' }),
    );
    const once = await client.messages.create({ model: CLAUDE, max_tokens: 100, messages: ask() });
    expect(once.stop_reason).toBe('model_context_window_exceeded');
    const streamed = await client.messages.stream({ model: CLAUDE, max_tokens: 100, messages: ask() }).finalMessage();
    expect(streamed.stop_reason).toBe('model_context_window_exceeded');
  });

  it('a Converse model stopped by the only stop sequence names it (Converse does not say which one matched)', async () => {
    gw.sim.enqueue(
      script.text('a', { stopReason: 'stop_sequence' }),
      script.text('b', { stopReason: 'stop_sequence' }),
      script.text('c', { stopReason: 'stop_sequence' }),
    );
    const one = await client.messages.create({ model: NOVA, max_tokens: 50, messages: ask(), stop_sequences: ['END'] });
    expect(one).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'END' });
    const streamed = await client.messages.stream({ model: NOVA, max_tokens: 50, messages: ask(), stop_sequences: ['END'] }).finalMessage();
    expect(streamed).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'END' });
    const two = await client.messages.create({ model: NOVA, max_tokens: 50, messages: ask(), stop_sequences: ['END', 'STOP'] });
    expect(two).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: null });
  });

  it('a custom content document (source type content) goes up as one plain-text document; other content is a 400', async () => {
    const document = (content: unknown) => ({
      role: 'user' as const,
      content: [
        { type: 'document', source: { type: 'content', content }, title: 'Notes', citations: { enabled: true } },
        { type: 'text', text: 'What colour is the sky?' },
      ] as Anthropic.ContentBlockParam[],
    });
    const chunks = [
      { type: 'text', text: 'The sky is blue.' },
      { type: 'text', text: 'Grass is green.' },
    ];
    await client.messages.create({ model: CLAUDE, max_tokens: 100, messages: [document(chunks)] });
    const sent: Json = lastSent().body;
    expect(sent.messages[0].content[0]).toMatchObject({
      type: 'document',
      source: { type: 'text', media_type: 'text/plain', data: 'The sky is blue.\n\nGrass is green.' },
      title: 'Notes',
      citations: { enabled: true },
    });
    for (const bad of [[], [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }], 5]) {
      const res = await fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': user.api_key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ model: CLAUDE, max_tokens: 100, messages: [document(bad)] }),
      });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    }
  });

  it('citations pass through: a cited text block starts with citations: [] and its citations_delta events follow', async () => {
    const citation = {
      type: 'char_location',
      cited_text: 'The sky is blue.',
      document_index: 0,
      document_title: 'Notes',
      start_char_index: 0,
      end_char_index: 16,
    };
    gw.sim.enqueue(
      script.raw(
        anthropicChunks([
          { type: 'message_start', message: { id: 'msg_c', content: [], usage: { input_tokens: 30, output_tokens: 1 } } },
          { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '', citations: [] } },
          { type: 'content_block_delta', index: 0, delta: { type: 'citations_delta', citation } },
          { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'It is blue.' } },
          { type: 'content_block_stop', index: 0 },
          { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } },
          { type: 'message_stop' },
        ]),
      ),
    );
    const final = await client.messages.stream({ model: CLAUDE, max_tokens: 100, messages: ask('colour?') }).finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'It is blue.', citations: [citation] }]);
  });

  it('top_k reaches a Nova model through its model-specific fields (Converse has no top_k)', async () => {
    gw.sim.enqueue(script.text('ok'));
    const res = await post('/v1/messages', { model: NOVA, max_tokens: 20, messages: ask(), top_k: 5 });
    expect(res.status).toBe(200);
    expect((lastSent().body as { additionalModelRequestFields?: unknown }).additionalModelRequestFields).toEqual({
      inferenceConfig: { topK: 5 },
    });
  });

  it('output_format json_schema on a Converse model is JSON output (it used to be ignored)', async () => {
    gw.sim.enqueue(script.toolCalls([{ name: 'output', input: { colour: 'blue' } }]));
    const schema = { type: 'object', properties: { colour: { type: 'string' } }, required: ['colour'] };
    const res = await post('/v1/messages', {
      model: NOVA,
      max_tokens: 50,
      messages: ask('sky?'),
      output_format: { type: 'json_schema', schema },
    });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text) as { content: Array<{ type: string; text: string }> };
    expect(JSON.parse(body.content[0].text)).toEqual({ colour: 'blue' });
    const sent = lastSent().body as { toolConfig: { tools: Array<{ toolSpec: { name: string } }>; toolChoice: unknown } };
    expect(sent.toolConfig.tools[0].toolSpec.name).toBe('output');
    expect(sent.toolConfig.toolChoice).toEqual({ tool: { name: 'output' } });
  });

  it('a silent model gets `event: ping` keep-alives, which Anthropic clients ignore', async () => {
    // The SDK hands back Bedrock's stream with its first event; silence after it is what keep-alives are for.
    gw.sim.enqueue(script.text('late', { delayMs: 300, chunkSize: 100 }));
    const res = await post('/v1/messages', { model: CLAUDE, max_tokens: 50, messages: ask(), stream: true });
    const events = sseEvents(res.text);
    expect(events.filter((e) => e.event === 'ping').length).toBeGreaterThanOrEqual(2);
    expect(res.text).not.toContain(': keep-alive');
    expect(names(events)).toContain('message_stop');

    // Through Converse too, where message_start waits for the first block: the keep-alive sends it first.
    gw.sim.enqueue(script.text('late', { delayMs: 300, chunkSize: 100 }));
    const nova = sseEvents((await post('/v1/messages', { model: NOVA, max_tokens: 50, messages: ask(), stream: true })).text);
    expect(nova[0].event).toBe('message_start');
    expect(nova.filter((e) => e.event === 'ping').length).toBeGreaterThanOrEqual(2);
  });

  it('`stream` left out means one JSON message (Claude Code’s non-streaming re-send)', async () => {
    gw.sim.enqueue(script.text('json please'));
    const sampling = { temperature: 0, top_p: 0.9, top_k: 10, stop_sequences: ['END'] };
    const res = await post('/v1/messages?beta=true', { model: CLAUDE, max_tokens: 50, messages: ask(), ...sampling });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.json()).toMatchObject({ type: 'message', content: [{ type: 'text', text: 'json please' }] });
    expect(lastSent().operation).toBe('InvokeModel');
    expect(lastSent().body).toMatchObject(sampling); // sampling as sent (0 stays 0)
  });

  it('tools round trip: tool_use with input_json_delta, then the tool_result turn reaches Bedrock as sent', async () => {
    const tools: Anthropic.Tool[] = [
      {
        name: 'get_weather',
        description: 'Weather for a city',
        input_schema: { type: 'object', properties: { city: { type: 'string' } } },
      },
      { name: 'get_time', description: 'Time in a zone', input_schema: { type: 'object', properties: { tz: { type: 'string' } } } },
    ];
    gw.sim.enqueue(
      script.toolCalls(
        [
          { name: 'get_weather', input: { city: 'Paris' }, id: 'toolu_bdrk_01A' },
          { name: 'get_time', input: { tz: 'CET' }, id: 'toolu_bdrk_01B' },
        ],
        { precedingText: 'Checking.', chunkSize: 5 },
      ),
    );
    const first = await client.messages
      .stream({ model: CLAUDE, max_tokens: 200, messages: ask('weather and time?'), tools })
      .finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    expect(first.content).toEqual([
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_bdrk_01A', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'toolu_bdrk_01B', name: 'get_time', input: { tz: 'CET' } },
    ]);
    gw.sim.enqueue(script.text('Sunny, 14:00.'));
    const messages: Anthropic.MessageParam[] = [
      ...ask('weather and time?'),
      { role: 'assistant', content: first.content },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_bdrk_01A', content: 'sunny' },
          { type: 'tool_result', tool_use_id: 'toolu_bdrk_01B', content: [{ type: 'text', text: '14:00' }], is_error: false },
        ],
      },
    ];
    const second = await client.messages.create({
      model: CLAUDE,
      max_tokens: 200,
      messages,
      tools,
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
    });
    expect(second.content).toEqual([{ type: 'text', text: 'Sunny, 14:00.' }]);
    const sent = lastSent().body;
    expect(sent.tools).toEqual(tools);
    expect(sent.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    expect(sent.messages[1].content).toEqual(first.content);
    expect(sent.messages[2].content).toEqual([
      { type: 'tool_result', tool_use_id: 'toolu_bdrk_01A', content: [{ type: 'text', text: 'sunny' }] },
      { type: 'tool_result', tool_use_id: 'toolu_bdrk_01B', content: [{ type: 'text', text: '14:00' }] },
    ]);
    const [t] = await threads(user.id, 1);
    expect(t).toMatchObject({ model: CLAUDE, completion: 'Sunny, 14:00.', status: 'ok' });
  });

  it('thinking round trip: the second turn reaches Bedrock with the identical thinking text and signature', async () => {
    const thinking = { type: 'enabled' as const, budget_tokens: 2048 };
    const tools: Anthropic.Tool[] = [{ name: 'lookup', description: 'Look up', input_schema: { type: 'object', properties: {} } }];
    gw.sim.enqueue({
      content: [
        { reasoning: { text: 'I should look it up.', signature: 'EqQBCkgIARABGAIiQL0sig/opaque+bytes==' } },
        { toolUse: { name: 'lookup', input: { q: 'x' }, toolUseId: 'toolu_bdrk_01T' } },
      ],
    });
    const first = await client.messages
      .stream({ model: CLAUDE, max_tokens: 4096, thinking, tools, messages: ask('find x') })
      .finalMessage();
    expect(first.content[0]).toEqual({
      type: 'thinking',
      thinking: 'I should look it up.',
      signature: 'EqQBCkgIARABGAIiQL0sig/opaque+bytes==',
    });
    expect(lastSent().body.thinking).toEqual(thinking);

    gw.sim.enqueue(script.reasoning({ redactedContent: 'cmVkYWN0ZWQ=' }, 'x is 42'));
    const messages: Anthropic.MessageParam[] = [
      ...ask('find x'),
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_bdrk_01T', content: '42' }] },
    ];
    const second = await client.messages.create({ model: CLAUDE, max_tokens: 4096, thinking, tools, messages });
    expect(second.content).toEqual([
      { type: 'redacted_thinking', data: 'cmVkYWN0ZWQ=' },
      { type: 'text', text: 'x is 42' },
    ]);
    expect(lastSent().body.messages[1].content[0]).toEqual({
      type: 'thinking',
      thinking: 'I should look it up.',
      signature: 'EqQBCkgIARABGAIiQL0sig/opaque+bytes==',
    });

    // A third turn replays the redacted block as it came.
    gw.sim.enqueue(script.text('ok'));
    await client.messages.create({
      model: CLAUDE,
      max_tokens: 4096,
      thinking,
      messages: [...messages, { role: 'assistant', content: second.content }, ...ask('thanks')],
    });
    expect(lastSent().body.messages[3].content[0]).toEqual({ type: 'redacted_thinking', data: 'cmVkYWN0ZWQ=' });
  });

  it('a tool-use turn sent back without its thinking block is refused as Bedrock refuses it (400)', async () => {
    const err = await client.messages
      .create({
        model: CLAUDE,
        max_tokens: 4096,
        thinking: { type: 'enabled', budget_tokens: 2048 },
        tools: [{ name: 'lookup', input_schema: { type: 'object' } }],
        messages: [
          ...ask('find x'),
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '42' }] },
        ],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as InstanceType<typeof Anthropic.APIError>).message).toContain('Expected `thinking` or `redacted_thinking`');
  });

  it('cache_control reaches Bedrock as sent, and cache reads and writes are reported and billed at their prices', async () => {
    gw.sim.enqueue(
      script.text('cached answer', { usage: { inputTokens: 12, outputTokens: 9, cacheReadInputTokens: 2048, cacheWriteInputTokens: 512 } }),
    );
    const system: Anthropic.TextBlockParam[] = [
      { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.197' },
      { type: 'text', text: 'Long instructions', cache_control: { type: 'ephemeral' } },
    ];
    const msg = await client.messages
      .stream({
        model: CLAUDE,
        max_tokens: 100,
        system,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'q', cache_control: { type: 'ephemeral', ttl: '1h' } }] }],
      })
      .finalMessage();
    expect(msg.usage).toMatchObject({
      input_tokens: 12,
      output_tokens: 9,
      cache_read_input_tokens: 2048,
      cache_creation_input_tokens: 512,
    });
    const sent = lastSent().body;
    expect(sent.system).toEqual(system);
    expect(sent.messages[0].content[0].cache_control).toEqual({ type: 'ephemeral', ttl: '1h' });
    const [t] = await threads(user.id, 1);
    expect(t).toMatchObject({ tokens_in: 12, tokens_out: 9, tokens_cache_read: 2048, tokens_cache_write: 512, status: 'ok' });
    // 12×3 + 9×15 + 2048×0.3 + 512×3.75 per 1M tokens: each count billed once, at its own price.
    expect(t.fee).toBeCloseTo(0.0027054, 12);
  });

  it('betas: the anthropic-beta header becomes anthropic_beta, filtered and renamed for Bedrock; what Bedrock refuses is stripped', async () => {
    gw.sim.enqueue(script.text('ok'));
    const res = await post(
      '/v1/messages?beta=true',
      {
        model: CLAUDE,
        max_tokens: 32000,
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'go', cache_control: { type: 'ephemeral', scope: 'global' } }] },
          { role: 'system', content: 'Mid-conversation system text.' },
        ],
        system: [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } }],
        tools: [
          {
            name: 'Read',
            description: 'Read a file',
            input_schema: {
              $schema: 'https://json-schema.org/draft/2020-12/schema',
              type: 'object',
              properties: {},
              additionalProperties: false,
            },
            defer_loading: true,
            eager_input_streaming: true,
            input_examples: [{}],
            strict: true,
          },
        ],
        thinking: { type: 'enabled', budget_tokens: 31999, display: 'summarized' },
        metadata: { user_id: '{"device_id":"abc","session_id":"s-1"}' },
        context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
        output_config: { effort: 'high' },
        service_tier: 'auto',
      },
      {
        'anthropic-beta':
          'claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,prompt-caching-scope-2026-01-05,advanced-tool-use-2025-11-20',
      },
    );
    expect(res.status).toBe(200);
    const sent = lastSent().body;
    expect(sent.anthropic_beta).toEqual([
      'interleaved-thinking-2025-05-14',
      'context-management-2025-06-27',
      'tool-search-tool-2025-10-19',
    ]);
    expect(sent.thinking).toEqual({ type: 'enabled', budget_tokens: 31999 });
    expect(sent.tools[0]).toEqual({
      name: 'Read',
      description: 'Read a file',
      input_schema: { type: 'object', properties: {}, additionalProperties: false },
      strict: true, // Bedrock's strict tool use, from Claude 4.5
    });
    expect(sent.messages[0].content[0].cache_control).toEqual({ type: 'ephemeral' });
    expect(sent.system).toEqual([
      { type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: 'Mid-conversation system text.' },
    ]);
    expect(sent.messages.map((m: Json) => m.role)).toEqual(['user']);
    expect(sent.metadata).toEqual({ user_id: '{"device_id":"abc","session_id":"s-1"}' });
    expect(sent.context_management).toEqual({ edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] });
    // Claude Sonnet 4.5 has no effort; the rest Bedrock does not know at all.
    expect(sent).not.toHaveProperty('output_config');
    expect(sent).not.toHaveProperty('service_tier');
    expect(sent).not.toHaveProperty('stream');
    expect(sent).not.toHaveProperty('model');
  });

  it('adaptive thinking with effort: kept on Claude 4.6, a thinking budget on older Claude', async () => {
    const body = (model: string) => ({
      model,
      max_tokens: 32000,
      messages: ask(),
      thinking: { type: 'adaptive' },
      output_config: { effort: 'medium' },
    });
    gw.sim.enqueue(script.text('a'), script.text('b'));
    expect((await post('/v1/messages', body(OPUS), { 'anthropic-beta': 'effort-2025-11-24' })).status).toBe(200);
    expect(lastSent().body).toMatchObject({
      thinking: { type: 'adaptive' },
      output_config: { effort: 'medium' },
      anthropic_beta: ['effort-2025-11-24'],
    });
    expect((await post('/v1/messages', body(CLAUDE))).status).toBe(200);
    expect(lastSent().body.thinking).toEqual({ type: 'enabled', budget_tokens: 8192 });
    expect(lastSent().body).not.toHaveProperty('output_config');
  });

  it('an application inference profile with family "anthropic" is called natively too', async () => {
    gw.sim.enqueue(script.text('from the profile'));
    const msg = await client.messages.create({ model: PROFILE, max_tokens: 64, messages: ask() });
    expect(msg.content).toEqual([{ type: 'text', text: 'from the profile' }]);
    expect(lastSent()).toMatchObject({ operation: 'InvokeModel', modelId: PROFILE_ARN });
    // Its model is not named, so strict tool use (Claude 4.5+) is not assumed: the field is left out, the call works.
    gw.sim.enqueue(script.text('still fine'));
    const tools = [{ name: 't', input_schema: { type: 'object' as const }, strict: true }];
    await client.messages.create({ model: PROFILE, max_tokens: 64, messages: ask(), tools });
    expect(lastSent().body.tools).toEqual([{ name: 't', input_schema: { type: 'object' } }]);
  });

  it('records: each call is a thread with tokens and fee, in the session named by x-claude-code-session-id', async () => {
    gw.sim.enqueue(
      script.text('one', { usage: { inputTokens: 100, outputTokens: 10 } }),
      script.text('two', { usage: { inputTokens: 200, outputTokens: 20 } }),
    );
    const session = `cc-${Date.now()}`;
    await post('/v1/messages', { model: CLAUDE, max_tokens: 50, messages: ask('first') }, { 'x-claude-code-session-id': session });
    await post(
      '/v1/messages',
      { model: CLAUDE, max_tokens: 50, messages: ask('second'), stream: true },
      { 'x-claude-code-session-id': session },
    );
    await gw.idle();
    const all = (await admin.get(`/admin/session/list?key_id=${user.id}&limit=100`)).body.data.items;
    const sessions = all.filter((x: Json) => x.session_key === session);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ session_key: session, tokens_in: 300, tokens_out: 30 });
    const inSession = (await admin.get(`/admin/thread/list?session_id=${sessions[0].id}`)).body.data.items;
    expect(inSession.map((t: Json) => [t.prompt, t.completion, t.tokens_in, t.tokens_out, t.model])).toEqual([
      ['first', 'one', 100, 10, CLAUDE],
      ['second', 'two', 200, 20, CLAUDE],
    ]);
    expect(inSession[0].fee).toBeCloseTo((100 * 3 + 10 * 15) / 1e6, 12);
  });
});

describe('every other model through Converse', () => {
  it('Nova: Messages in, Converse out, Anthropic events back (text, tool_use with input_json_delta)', async () => {
    gw.sim.enqueue(script.toolCalls([{ name: 'get_weather', input: { city: 'Oslo' } }], { precedingText: 'Let me see.', chunkSize: 4 }));
    const tools: Anthropic.Tool[] = [
      { name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
    ];
    const res = await post('/v1/messages', {
      model: NOVA,
      max_tokens: 32000,
      system: [{ type: 'text', text: 'Be helpful.', cache_control: { type: 'ephemeral' } }],
      messages: ask('weather in Oslo?'),
      tools,
      thinking: { type: 'enabled', budget_tokens: 4000 },
      stream: true,
    });
    expect(res.status).toBe(200);
    const events = sseEvents(res.text).filter((e) => e.event !== 'ping');
    expect(names(events)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      ...Array(Math.ceil(JSON.stringify({ city: 'Oslo' }).length / 4)).fill('content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[6].data.content_block).toMatchObject({ type: 'tool_use', name: 'get_weather', input: {} });
    expect(events[7].data.delta.type).toBe('input_json_delta');
    expect(events.at(-2)!.data.delta.stop_reason).toBe('tool_use');
    const sent = lastSent();
    expect(sent.operation).toBe('ConverseStream');
    expect(sent.modelId).toBe(NOVA_ID);
    // Claude Code's 32000 yields to the model's configured maximum; no cache point on a model not set up to cache.
    expect(sent.body.inferenceConfig.maxTokens).toBe(5000);
    expect(sent.body.system).toEqual([{ text: 'Be helpful.' }]);
    expect(sent.body).not.toHaveProperty('additionalModelRequestFields');
  });

  it('Nova non-stream with the SDK: a plain Anthropic message; reasoning without a signature is not a thinking block', async () => {
    gw.sim.enqueue({ content: [{ reasoning: { text: 'unsigned thoughts' } }, { text: 'Hi from Nova' }] });
    const msg = await client.messages.create({ model: NOVA, max_tokens: 100, messages: ask() });
    expect(msg.content).toEqual([{ type: 'text', text: 'Hi from Nova' }]);
    expect(lastSent().operation).toBe('Converse');
    gw.sim.enqueue({ content: [{ reasoning: { text: 'unsigned thoughts' } }, { text: 'Hi from Nova' }] });
    const streamed = await client.messages.stream({ model: NOVA, max_tokens: 100, messages: ask() }).finalMessage();
    expect(streamed.content).toEqual([{ type: 'text', text: 'Hi from Nova' }]);
  });
});

describe('count_tokens', () => {
  it('Claude: Bedrock CountTokens with the InvokeModel-shaped body; not billed, no thread', async () => {
    const before = await threads(user.id, 200);
    const tools: Anthropic.Tool[] = [{ name: 'lookup', description: 'Look up', input_schema: { type: 'object', properties: {} } }];
    const res = await client.messages.countTokens({ model: CLAUDE, messages: ask('count me please'), system: 'sys', tools });
    expect(res.input_tokens).toBeGreaterThan(0);
    const sent = lastSent();
    expect(sent.operation).toBe('CountTokens');
    // CountTokens counts on the foundation model the profile names.
    expect(sent.modelId).toBe('anthropic.claude-sonnet-4-5-20250929-v1:0');
    const inner = JSON.parse(Buffer.from(sent.body.input.invokeModel.body, 'base64').toString('utf8'));
    expect(inner).toMatchObject({ anthropic_version: 'bedrock-2023-05-31', system: [{ type: 'text', text: 'sys' }], tools });
    expect(res.input_tokens).toBe(Math.ceil(anthropicRequestChars(inner) / 4)); // what the simulated CountTokens answered
    expect(await threads(user.id, 200)).toHaveLength(before.length);
  });

  it('other models: the documented estimate; a bad key is 401, a model the key may not use 404', async () => {
    const res = await client.messages.countTokens({ model: NOVA, messages: ask('x'.repeat(300)) });
    expect(res.input_tokens).toBe(100); // 300 characters / 3
    expect(gw.sim.requests).toHaveLength(0);
    const bad = new Anthropic({ apiKey: 'br-nope-nope-nope-nope-nope-nope-nope', baseURL: gw.url, maxRetries: 0 });
    await expect(bad.messages.countTokens({ model: CLAUDE, messages: ask() })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    await expect(client.messages.countTokens({ model: 'not-yours', messages: ask() })).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });
});

describe('the model list in Anthropic’s shape', () => {
  it('GET /v1/models with anthropic-version lists the key’s models; without it, OpenAI’s shape', async () => {
    const page = await client.models.list({ limit: 100 });
    const ids = page.data.map((m) => m.id).sort();
    expect(ids).toEqual([CLAUDE, OPUS, PROFILE, NOVA].sort());
    expect(page.data[0]).toEqual({
      type: 'model',
      id: expect.any(String),
      display_name: expect.any(String),
      created_at: expect.any(String),
    });
    const one = await client.models.retrieve(CLAUDE);
    expect(one).toMatchObject({ type: 'model', id: CLAUDE, display_name: CLAUDE });
    await expect(client.models.retrieve('not-yours')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    const raw = await fetch(`${gw.url}/v1/models?limit=2`, { headers: { 'x-api-key': user.api_key, 'anthropic-version': '2023-06-01' } });
    const body = (await raw.json()) as Json;
    expect(body).toMatchObject({ has_more: true, first_id: body.data[0].id, last_id: body.data[1].id });
    const openai = (await (await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${user.api_key}` } })).json()) as Json;
    expect(openai.object).toBe('list');
    // Out-of-range pages and over-long ids are 400s in each shape, not a default page or a 404.
    const anthropicHeaders = { 'x-api-key': user.api_key, 'anthropic-version': '2023-06-01' };
    for (const q of ['limit=0', 'limit=abc', 'limit=1001']) {
      const res = await fetch(`${gw.url}/v1/models?${q}`, { headers: anthropicHeaders });
      expect([q, res.status, ((await res.json()) as Json).error.type]).toEqual([q, 400, 'invalid_request_error']);
    }
    const long = 'a'.repeat(300);
    const a = await fetch(`${gw.url}/v1/models/${long}`, { headers: anthropicHeaders });
    expect([a.status, ((await a.json()) as Json).type]).toEqual([400, 'error']);
    const o = await fetch(`${gw.url}/v1/models/${long}`, { headers: { authorization: `Bearer ${user.api_key}` } });
    expect([o.status, ((await o.json()) as Json).error.param]).toEqual([400, 'model']);
  });

  it('HEAD / and GET / answer 200 at once (Claude Code probes the base URL)', async () => {
    expect((await fetch(`${gw.url}/`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${gw.url}/`)).status).toBe(200);
  });
});

describe('errors in Anthropic’s shape', () => {
  const body = { model: CLAUDE, max_tokens: 50, messages: ask() };

  it('401 authentication_error (x-api-key or Bearer), with request-id', async () => {
    const res = await post('/v1/messages', body, { 'x-api-key': 'br-nope-nope-nope-nope-nope-nope-nope' });
    expect(res.status).toBe(401);
    expect(res.json()).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message: expect.any(String) },
      request_id: expect.any(String),
    });
    expect(res.headers.get('request-id')).toBe(res.json().request_id);
    const bearer = new Anthropic({ authToken: user.api_key, apiKey: null, baseURL: gw.url, maxRetries: 0 });
    gw.sim.enqueue(script.text('bearer works'));
    expect((await bearer.messages.create(body)).content).toEqual([{ type: 'text', text: 'bearer works' }]);
  });

  it('404 not_found_error for an unknown model and for one the key may not use, alike', async () => {
    const unknown = await post('/v1/messages', { ...body, model: 'no-such-model' });
    const forbidden = await post('/v1/messages', { ...body, model: 'not-yours' });
    expect([unknown.status, forbidden.status]).toEqual([404, 404]);
    expect(unknown.json().error.type).toBe('not_found_error');
    expect(forbidden.json().error).toEqual({ type: 'not_found_error', message: "The model 'not-yours' does not exist." });
    expect(gw.sim.requests).toHaveLength(0);
  });

  it('400 invalid_request_error for a bad body, and for a Bedrock validation error; unknown fields are never a 400', async () => {
    const bad = await post('/v1/messages', { ...body, max_tokens: 'many' });
    expect(bad.status).toBe(400);
    expect(bad.json().error.type).toBe('invalid_request_error');
    gw.sim.enqueue(script.error('ValidationException', 'messages: something Bedrock did not like'));
    const upstream = await client.messages.create(body).catch((e: unknown) => e);
    expect(upstream).toBeInstanceOf(Anthropic.BadRequestError);
    gw.sim.enqueue(script.text('fine'));
    const lenient = await post('/v1/messages', {
      ...body,
      brand_new_field: { x: 1 },
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi', citations: null, future: 1 }] }],
    });
    expect(lenient.status).toBe(200);
  });

  it('402 billing_error when quota and balance are used up (no retry), before any upstream call', async () => {
    const broke = (await admin.post('/admin/api-key/apply', { name: 'broke', group_id: null, role: 'user', email: '', month_quota: 0 }))
      .body.data;
    const models = (await admin.get('/admin/model/list?q=claude-sonnet')).body.data.items;
    await admin.post('/admin/api-key/bind-model', { key_id: broke.id, model_id: models.find((m: Json) => m.name === CLAUDE)!.id });
    const res = await post('/v1/messages', body, { 'x-api-key': broke.api_key });
    expect(res.status).toBe(402);
    expect(res.json().error.type).toBe('billing_error');
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(gw.sim.requests).toHaveLength(0);
  });

  it('429 rate_limit_error with retry-after when Bedrock throttles, before the stream starts', async () => {
    gw.sim.enqueue(script.error('ThrottlingException', 'slow down'));
    const res = await post('/v1/messages', { ...body, stream: true });
    expect(res.status).toBe(429);
    expect(res.json().error.type).toBe('rate_limit_error');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('529 overloaded_error when Bedrock is unavailable, and when the gateway’s store is', async () => {
    gw.sim.enqueue(script.error('ServiceUnavailableException'));
    const bedrock = await client.messages.create(body).catch((e: unknown) => e);
    expect(bedrock).toBeInstanceOf(Anthropic.APIError);
    expect((bedrock as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect((bedrock as InstanceType<typeof Anthropic.APIError>).type).toBe('overloaded_error');

    proxy.inject({ kind: 'server-error' });
    const store = await post('/v1/messages', body);
    proxy.clear();
    expect(store.status).toBe(529);
    expect(store.json().error.type).toBe('overloaded_error');
    expect(store.headers.get('retry-after')).toBe('2');
    expect(gw.sim.requests).toHaveLength(1); // only the first call reached Bedrock
  });

  it('500 api_error for an upstream failure', async () => {
    gw.sim.enqueue(script.error('InternalServerException'));
    const res = await post('/v1/messages', body);
    expect(res.status).toBe(500);
    expect(res.json().error.type).toBe('api_error');
  });

  it('a failure right after the model’s start still sends message_start before the error frame', async () => {
    gw.sim.enqueue(script.text('never', { failAfterEvents: { count: 1, exception: 'throttlingException', message: 'slow down' } }));
    const res = await post('/v1/messages', { model: NOVA, max_tokens: 20, messages: ask(), stream: true });
    expect(res.status).toBe(200);
    const events = sseEvents(res.text);
    expect(names(events)).toEqual(['message_start', 'error']);
    expect(events.at(-1)!.data).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it('after the stream started: an `event: error` frame, no message_stop, and the thread records the failure', async () => {
    gw.sim.enqueue(
      script.text('partial answer that breaks', {
        chunkSize: 4,
        failAfterEvents: { count: 4, exception: 'modelStreamErrorException', message: 'boom' },
      }),
    );
    const res = await post('/v1/messages', { ...body, stream: true });
    expect(res.status).toBe(200);
    const events = sseEvents(res.text);
    expect(names(events).slice(0, 2)).toEqual(['message_start', 'content_block_start']);
    expect(events.at(-1)).toEqual({
      event: 'error',
      data: { type: 'error', error: { type: 'api_error', message: expect.stringContaining('boom') }, request_id: expect.any(String) },
    });
    expect(events.map((e) => e.event)).not.toContain('message_stop');
    const [t] = await threads(user.id, 1);
    expect(t.status).toBe('error');

    gw.sim.enqueue(
      script.raw(anthropicChunks([{ type: 'message_start', message: { id: 'msg_x', content: [], usage: { input_tokens: 3 } } }])),
    );
    const cut = await client.messages
      .stream(body)
      .finalMessage()
      .catch((e: unknown) => e);
    expect(cut).toBeInstanceOf(Error);
  });
});
