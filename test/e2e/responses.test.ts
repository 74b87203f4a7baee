/**
 * POST /v1/responses, GET/DELETE /v1/responses/{id} and GET …/input_items through the official openai SDK (and
 * raw fetch where the wire itself is the subject), against the local server and the Bedrock simulator.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type JsonObject, type Script, script } from '../../local/bedrock-simulator/index.js';
import { overrideConfig } from '../../lambdas/core/config.js';
import { startInFreshRateWindow } from '../support/clock.js';
import { useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway();
const CLAUDE = 'claude-resp';
const NOVA = 'nova-resp';
let userKey: string;
let userKeyId: number;
let otherKey: string;
let client: OpenAI;
let other: OpenAI;

const PATCH = '*** Begin Patch\n*** Add File: hello.txt\n+héllo "world" \\ 😀\n*** End Patch\n';
const GRAMMAR = 'start: begin_patch hunk+ end_patch\nbegin_patch: "*** Begin Patch" LF';
const applyPatchTool = {
  type: 'custom' as const,
  name: 'apply_patch',
  description: 'Edit files. FREEFORM: do not wrap the patch in JSON.',
  format: { type: 'grammar' as const, syntax: 'lark' as const, definition: GRAMMAR },
};
const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather of a city',
  strict: false,
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

beforeAll(async () => {
  overrideConfig({ sseKeepAliveMs: 0 });
  const { admin } = ctx;
  const g = (await admin.post('/admin/group/save', { name: 'responses' })).body.data;
  for (const [name, modelId] of [
    [CLAUDE, 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'],
    [NOVA, 'us.amazon.nova-pro-v1:0'],
  ]) {
    await admin.post('/admin/model/save', {
      name,
      config: { modelId },
      provider: 'bedrock-converse',
      price_in: 3,
      price_out: 15,
      group_id: g.id,
    });
  }
  const apply = async (name: string) =>
    (await admin.post('/admin/api-key/apply', { name, group_id: g.id, role: 'user', email: '', month_quota: 100 })).body.data;
  const u = await apply('responder');
  userKey = u.api_key;
  userKeyId = u.id;
  otherKey = (await apply('someone-else')).api_key;
  client = new OpenAI({ apiKey: userKey, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });
  other = new OpenAI({ apiKey: otherKey, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });
});
beforeEach(() => ctx.gw.sim.reset());

const sent = (i = 0) => ctx.gw.sim.requests[i].body;

/** A raw POST /v1/responses, its SSE events parsed (every frame must carry `event:` naming its data's type). */
async function rawStream(body: unknown, key = userKey) {
  const res = await fetch(`${ctx.gw.url}/v1/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ stream: true, ...(body as object) }),
  });
  const text = await res.text();
  const events: JsonObject[] = [];
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) return { status: res.status, events, text, headers: res.headers };
  for (const frame of text.split('\n\n')) {
    if (!frame.trim() || frame.startsWith(':')) continue;
    const lines = frame.split('\n');
    const name = lines.find((l) => l.startsWith('event: '))?.slice(7);
    const data = JSON.parse(lines.find((l) => l.startsWith('data: '))!.slice(6));
    expect(name).toBe(data.type);
    events.push(data);
  }
  return { status: res.status, events, text, headers: res.headers };
}

/** The stream rules every client relies on. */
function checkStream(events: JsonObject[]) {
  expect(events[0].type).toBe('response.created');
  events.forEach((e, i) => expect(e.sequence_number).toBe(i));
  const added = new Set<string>();
  const done = new Set<string>();
  for (const e of events) {
    if (e.type === 'response.output_item.added') {
      expect(e.output_index).toBe(added.size);
      added.add(e.item.id);
    } else if (e.type === 'response.output_item.done') {
      done.add(e.item.id);
    } else if (e.item_id) {
      expect(added.has(e.item_id), `${e.type} after its output_item.added`).toBe(true);
      expect(done.has(e.item_id), `${e.type} before its output_item.done`).toBe(false);
    }
  }
  expect([...added]).toEqual([...done]);
  expect(['response.completed', 'response.incomplete', 'response.failed']).toContain(events[events.length - 1].type);
}

describe('create', () => {
  it('answers non-streaming with the full response object, usage with cached tokens, echoing the model', async () => {
    ctx.gw.sim.enqueue(script.text('Hello there', { usage: { inputTokens: 11, outputTokens: 7, cacheReadInputTokens: 5 } }));
    const r = await client.responses.create({
      model: CLAUDE,
      instructions: 'Be brief.',
      input: 'hi',
      temperature: 0.5,
      max_output_tokens: 200,
      metadata: { run: 'one' },
    });
    expect(r).toMatchObject({
      object: 'response',
      status: 'completed',
      model: CLAUDE,
      output_text: 'Hello there',
      metadata: { run: 'one' },
    });
    expect(r.id).toMatch(/^resp_/);
    expect(r.output).toEqual([
      expect.objectContaining({
        type: 'message',
        role: 'assistant',
        status: 'completed',
        content: [expect.objectContaining({ type: 'output_text', text: 'Hello there' })],
      }),
    ]);
    expect(r.usage).toEqual({
      input_tokens: 16,
      input_tokens_details: { cached_tokens: 5 },
      output_tokens: 7,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 23,
    });
    expect(sent().system).toEqual([{ text: 'Be brief.' }]);
    expect(sent().messages).toEqual([{ role: 'user', content: [{ text: 'hi' }] }]);
    expect(sent().inferenceConfig).toMatchObject({ maxTokens: 200, temperature: 0.5 });
  });

  it('streams the events clients need, in order, and responses.stream() folds them into the same response', async () => {
    ctx.gw.sim.enqueue(script.text('Streamed hello world', { chunkSize: 4 }));
    const stream = client.responses.stream({ model: CLAUDE, input: 'hi' });
    const events: JsonObject[] = [];
    for await (const e of stream) events.push(e);
    checkStream(events);
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('Streamed hello world');
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...Array(5).fill('response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const completed = events[events.length - 1].response;
    expect(completed.usage.output_tokens).toBeGreaterThan(0);
    expect(completed.output[0].content[0].text).toBe('Streamed hello world');
    // a stream ends with response.completed, no [DONE]
    const raw = await rawStream({ model: CLAUDE, input: 'again' });
    expect(raw.text).not.toContain('[DONE]');
    expect(raw.headers.get('content-type')).toMatch(/^text\/event-stream/);
  });

  it('maps developer/system messages to system, images and files to Bedrock blocks, and ignores unknown fields', async () => {
    const png = tinyPng();
    ctx.gw.sim.enqueue(script.text('ok'));
    const res = await fetch(`${ctx.gw.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: CLAUDE,
        prompt_cache_key: 'abc',
        client_metadata: { anything: 'goes' },
        service_tier: 'auto',
        text: { verbosity: 'low' },
        tools: null,
        tool_choice: null,
        input: [
          { type: 'message', id: 'msg_client_1', role: 'developer', content: [{ type: 'input_text', text: 'Dev rules.' }] },
          { role: 'system', content: 'Sys rules.' },
          {
            role: 'user',
            status: 'completed',
            content: [
              { type: 'input_text', text: 'look' },
              { type: 'input_image', detail: 'auto', image_url: `data:image/png;base64,${png.toString('base64')}` },
              {
                type: 'input_file',
                filename: 'notes.txt',
                file_data: `data:text/plain;base64,${Buffer.from('plain notes').toString('base64')}`,
              },
            ],
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    // null is "not given"; verbosity is echoed as given
    expect(await res.json()).toMatchObject({ tools: [], tool_choice: 'auto', text: { format: { type: 'text' }, verbosity: 'low' } });
    expect(sent().system).toEqual([{ text: 'Dev rules.' }, { text: 'Sys rules.' }]);
    const content = sent().messages[0].content;
    expect(content[0]).toEqual({ text: 'look' });
    expect(content[1].image.format).toBe('png');
    expect(content[2].document).toMatchObject({ format: 'txt', name: 'notes' });
  });

  it('refuses what it cannot do with a 400 in OpenAI’s shape, and bounds ids', async () => {
    const bad = async (body: Record<string, unknown>) => {
      const res = await fetch(`${ctx.gw.url}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: CLAUDE, input: 'x', ...body }),
      });
      return { status: res.status, body: (await res.json()) as { error: { message: string; type: string; param: string | null } } };
    };
    const long = 'x'.repeat(257);
    for (const body of [
      { previous_response_id: long },
      { model: long },
      { input: [{ type: 'function_call_output', call_id: long, output: 'x' }] },
      { input: [{ type: 'item_reference', id: long }] },
      { background: true },
      { input: [{ type: 'web_search_call', id: 'ws_1' }] },
      { input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }] },
      { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) },
    ]) {
      const r = await bad(body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.body.error.type).toBe('invalid_request_error');
    }
    // An image URL the SSRF guard refuses names the part in Responses' terms, not chat's `messages`.
    const ssrf = await bad({
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'see' },
            { type: 'input_image', image_url: `${ctx.gw.url}/health` },
          ],
        },
      ],
    });
    expect(ssrf.status).toBe(400);
    expect(ssrf.body.error.param).toBe('input[0].content[1]');
    const path = await fetch(`${ctx.gw.url}/v1/responses/${long}`, { headers: { authorization: `Bearer ${userKey}` } });
    expect(path.status).toBe(400);
    expect(ctx.gw.sim.requests).toHaveLength(0);
  });

  it('answers 401 for a bad key and 404 model_not_found for an unknown model', async () => {
    const bad = new OpenAI({ apiKey: 'br-nope', baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });
    await expect(bad.responses.create({ model: CLAUDE, input: 'x' })).rejects.toMatchObject({ status: 401 });
    await expect(client.responses.create({ model: 'no-such-model', input: 'x' })).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
    });
  });
});

describe('tools', () => {
  it('a function call streams its arguments and comes back as function_call_output → toolResult', async () => {
    ctx.gw.sim.enqueue(script.toolCalls([{ name: 'get_weather', input: { city: 'Paris' } }], { chunkSize: 5 }));
    const { events } = await rawStream({ model: NOVA, input: 'weather?', tools: [weatherTool], tool_choice: 'required' });
    checkStream(events);
    const deltas = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta);
    expect(deltas.length).toBeGreaterThan(1);
    expect(JSON.parse(deltas.join(''))).toEqual({ city: 'Paris' });
    const item = events.find((e) => e.type === 'response.output_item.done')!.item;
    expect(item).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed', arguments: '{"city":"Paris"}' });
    expect(sent().toolConfig).toMatchObject({ toolChoice: { any: {} }, tools: [{ toolSpec: { name: 'get_weather' } }] });

    ctx.gw.sim.enqueue(script.text('Sunny.'));
    const r = await client.responses.create({
      model: NOVA,
      tools: [weatherTool],
      input: [
        { role: 'user', content: 'weather?' },
        { type: 'function_call', call_id: item.call_id, name: 'get_weather', arguments: item.arguments },
        { type: 'function_call_output', call_id: item.call_id, output: '{"temp": 21}' },
      ],
    });
    expect(r.output_text).toBe('Sunny.');
    const messages = sent(1).messages;
    expect(messages[1].content[0].toolUse).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });
    expect(messages[2].content[0].toolResult).toMatchObject({ toolUseId: item.call_id, content: [{ json: { temp: 21 } }] });
  });

  it('a custom (free-form) tool is offered with one string property and answered as custom_tool_call with the raw text', async () => {
    ctx.gw.sim.enqueue(script.toolCalls([{ name: 'apply_patch', input: { input: PATCH } }], { chunkSize: 3 }));
    const { events } = await rawStream({ model: CLAUDE, input: 'patch it', tools: [applyPatchTool, weatherTool] });
    checkStream(events);
    const spec = sent().toolConfig.tools[0].toolSpec;
    expect(spec.name).toBe('apply_patch');
    expect(spec.inputSchema.json).toMatchObject({ type: 'object', required: ['input'], properties: { input: { type: 'string' } } });
    expect(spec.inputSchema.json.properties.input.description).toContain(GRAMMAR);
    const deltas = events.filter((e) => e.type === 'response.custom_tool_call_input.delta').map((e) => e.delta);
    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas.join('')).toBe(PATCH);
    expect(events.find((e) => e.type === 'response.custom_tool_call_input.done')!.input).toBe(PATCH);
    const item = events.find((e) => e.type === 'response.output_item.done')!.item;
    expect(item).toMatchObject({ type: 'custom_tool_call', name: 'apply_patch', input: PATCH, status: 'completed' });
    expect(item.call_id).toMatch(/^tooluse_/);

    ctx.gw.sim.enqueue(script.text('Patched.'));
    const r = await client.responses.create({
      model: CLAUDE,
      tools: [applyPatchTool],
      input: [
        { role: 'user', content: 'patch it' },
        { type: 'custom_tool_call', call_id: item.call_id, name: 'apply_patch', input: PATCH },
        { type: 'custom_tool_call_output', call_id: item.call_id, output: 'Success. Updated the following files:\nA hello.txt\n' },
      ],
    });
    expect(r.output_text).toBe('Patched.');
    const messages = sent(1).messages;
    expect(messages[1].content[0].toolUse).toMatchObject({ name: 'apply_patch', input: { input: PATCH } });
    expect(messages[2].content[0].toolResult.content).toEqual([{ text: 'Success. Updated the following files:\nA hello.txt\n' }]);
  });

  it('drops hosted and search tools (reported in ignored_tools), and refuses a tool_choice that forces one', async () => {
    ctx.gw.sim.enqueue(script.text('ok'));
    const tools = [
      weatherTool,
      { type: 'web_search' },
      { type: 'tool_search', execution: 'client', parameters: { type: 'object' } },
      { type: 'namespace', name: 'multi_agent_v1', description: 'agents', tools: [] },
    ];
    const r = (await client.responses.create({ model: CLAUDE, input: 'x', tools: tools as never })) as unknown as {
      ignored_tools: unknown;
      tools: Array<{ name: string }>;
    };
    expect(r.ignored_tools).toEqual([{ type: 'web_search' }, { type: 'tool_search' }, { type: 'namespace', name: 'multi_agent_v1' }]);
    expect(r.tools.map((t) => t.name)).toEqual(['get_weather']);
    expect(sent().toolConfig.tools.map((t: JsonObject) => t.toolSpec.name)).toEqual(['get_weather']);

    for (const tool_choice of [{ type: 'web_search_preview' }, { type: 'file_search' }, { type: 'function', name: 'nope' }]) {
      await expect(
        client.responses.create({ model: CLAUDE, input: 'x', tools: tools as never, tool_choice: tool_choice as never }),
      ).rejects.toMatchObject({
        status: 400,
      });
    }
    await expect(
      client.responses.create({ model: CLAUDE, input: 'x', tools: [{ type: 'web_search' }], tool_choice: 'required' }),
    ).rejects.toMatchObject({
      status: 400,
    });
    expect(ctx.gw.sim.requests).toHaveLength(1);
  });

  it('allowed_tools restricts the tools offered; a named custom tool is forced', async () => {
    ctx.gw.sim.enqueue(script.text('a'), script.toolCalls([{ name: 'apply_patch', input: { input: PATCH } }]));
    await client.responses.create({
      model: NOVA,
      input: 'x',
      tools: [weatherTool, applyPatchTool],
      tool_choice: { type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'get_weather' }] },
    });
    expect(sent(0).toolConfig).toEqual({
      tools: [expect.objectContaining({ toolSpec: expect.objectContaining({ name: 'get_weather' }) })],
      toolChoice: { any: {} },
    });
    const r = await client.responses.create({
      model: NOVA,
      input: 'x',
      tools: [weatherTool, applyPatchTool],
      tool_choice: { type: 'custom', name: 'apply_patch' },
    });
    expect(sent(1).toolConfig.toolChoice).toEqual({ tool: { name: 'apply_patch' } });
    expect(r.output[0]).toMatchObject({ type: 'custom_tool_call', input: PATCH });
    // naming a tool that is not in tools is a 400 (as on chat), in either mode
    for (const mode of ['auto', 'required'] as const) {
      const err = await client.responses
        .create({
          model: NOVA,
          input: 'x',
          tools: [weatherTool],
          tool_choice: {
            type: 'allowed_tools',
            mode,
            tools: [
              { type: 'function', name: 'get_weather' },
              { type: 'function', name: 'zz' },
            ],
          },
        })
        .catch((e: unknown) => e);
      expect(err, mode).toMatchObject({ status: 400, error: { param: 'tool_choice.tools[1]' } });
    }
    expect(ctx.gw.sim.requests).toHaveLength(2);
  });

  it('a Codex request (replayed from a capture) is accepted as it is', async () => {
    const fixture = JSON.parse(readFileSync(new URL('../fixtures/codex/apply-patch-turn2.json', import.meta.url), 'utf8'));
    ctx.gw.sim.enqueue(script.text('done writing'));
    const { status, events } = await rawStream({ ...fixture.body, model: CLAUDE });
    expect(status).toBe(200);
    checkStream(events);
    const body = sent();
    // the developer messages are system text (one block per text part); the tools are the function tools and
    // apply_patch, not tool_search
    expect(body.system.length).toBe(4);
    expect(body.system[0].text).toMatch(/^You are Codex/);
    expect(body.toolConfig.tools.map((t: JsonObject) => t.toolSpec.name)).toEqual([
      'exec_command',
      'write_stdin',
      'request_user_input',
      'apply_patch',
      'view_image',
      'get_goal',
      'create_goal',
      'update_goal',
    ]);
    const last = body.messages[body.messages.length - 1];
    expect(last.content[0].toolResult.content[0].text).toContain('Success. Updated the following files');
    expect(events[events.length - 1].response.ignored_tools).toEqual([{ type: 'tool_search' }]);
  });
});

/** Reasoning + a tool call, as Claude answers with thinking on. */
const thinkingToolCall = (text: string): Script => ({
  content: [{ reasoning: { text, signature: `sig-${text.length}` } }, { toolUse: { name: 'get_weather', input: { city: 'Oslo' } } }],
});

describe('reasoning round trip', () => {
  it('max_output_tokens bounds reasoning and answer together: Bedrock gets that limit and a budget of half of it', async () => {
    ctx.gw.sim.enqueue(script.text('ok'));
    await client.responses.create({ model: CLAUDE, input: 'x', reasoning: { effort: 'high' }, max_output_tokens: 3000, store: false });
    expect(sent().inferenceConfig).toMatchObject({ maxTokens: 3000 });
    expect(sent().additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 1500 } });
  });

  it('encrypted_content carries the signed reasoning back to Bedrock; altered or foreign blobs are a 400', async () => {
    ctx.gw.sim.enqueue(thinkingToolCall('I should look it up.'));
    const first = await client.responses.create({
      model: CLAUDE,
      input: 'weather in Oslo?',
      tools: [weatherTool],
      reasoning: { effort: 'low' },
      include: ['reasoning.encrypted_content'],
      store: false,
    });
    expect(sent().additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 2048 } });
    const [reasoning, call] = first.output as JsonObject[];
    expect(reasoning).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: 'I should look it up.' }] });
    expect(reasoning.encrypted_content).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(reasoning.encrypted_content).not.toContain('sig-');
    expect(call.type).toBe('function_call');

    const next = (blob: string, c = client) =>
      c.responses.create({
        model: CLAUDE,
        tools: [weatherTool],
        reasoning: { effort: 'low' },
        include: ['reasoning.encrypted_content'],
        store: false,
        input: [
          { role: 'user', content: 'weather in Oslo?' },
          { type: 'reasoning', id: reasoning.id, summary: reasoning.summary, encrypted_content: blob } as never,
          { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
          { type: 'function_call_output', call_id: call.call_id, output: 'cold' },
        ],
      });
    ctx.gw.sim.enqueue(script.reasoning('Done.', 'Cold in Oslo.'));
    const second = await next(reasoning.encrypted_content);
    expect(second.output_text).toBe('Cold in Oslo.');
    // Bedrock got the assistant turn exactly as the model produced it: signed reasoning first, then the tool use
    expect(sent(1).additionalModelRequestFields?.thinking?.type).toBe('enabled');
    expect(sent(1).messages[1].content[0]).toEqual({
      reasoningContent: { reasoningText: { text: 'I should look it up.', signature: 'sig-20' } },
    });
    expect(sent(1).messages[1].content[1].toolUse.name).toBe('get_weather');

    const flipped =
      reasoning.encrypted_content.slice(0, -3) +
      (reasoning.encrypted_content.endsWith('A') ? 'B' : 'A') +
      reasoning.encrypted_content.slice(-2);
    for (const [blob, c] of [
      [flipped, client],
      ['ENC-TURN-1-opaque', client],
      [reasoning.encrypted_content, other],
    ] as const) {
      await expect(next(blob, c)).rejects.toMatchObject({
        status: 400,
        code: 'invalid_encrypted_content',
        param: 'input[1].encrypted_content',
      });
    }
    expect(ctx.gw.sim.requests).toHaveLength(2);
  });

  it('stateful: previous_response_id carries the signed reasoning of a stored tool turn, without include', async () => {
    ctx.gw.sim.enqueue(thinkingToolCall('Stored thoughts.'));
    const first = await client.responses.create({
      model: CLAUDE,
      input: 'weather in Oslo?',
      tools: [weatherTool],
      reasoning: { effort: 'low' },
    });
    expect(first.output[0]).not.toHaveProperty('encrypted_content');
    const call = first.output[1] as JsonObject;
    ctx.gw.sim.enqueue(script.reasoning('ok', 'Cold.'));
    const second = await client.responses.create({
      model: CLAUDE,
      previous_response_id: first.id,
      tools: [weatherTool],
      reasoning: { effort: 'low' },
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'cold' }],
    });
    expect(second.output_text).toBe('Cold.');
    expect(sent(1).additionalModelRequestFields?.thinking?.type).toBe('enabled');
    expect(sent(1).messages[1].content[0]).toEqual({
      reasoningContent: { reasoningText: { text: 'Stored thoughts.', signature: 'sig-16' } },
    });
    // what a client retrieves still hides the sealed reasoning it did not ask for
    expect((await client.responses.retrieve(first.id)).output[0]).not.toHaveProperty('encrypted_content');
  });

  it('a reasoning item without encrypted_content (Codex sends null) is skipped; without include it is not shown', async () => {
    ctx.gw.sim.enqueue(script.reasoning('thinking', 'answer'));
    const r = await client.responses.create({ model: CLAUDE, input: 'x', reasoning: { effort: 'medium' } });
    expect(r.output[0]).toMatchObject({ type: 'reasoning', summary: [{ text: 'thinking' }] });
    expect(r.output[0]).not.toHaveProperty('encrypted_content');

    ctx.gw.sim.enqueue(script.text('fine'));
    await client.responses.create({
      model: CLAUDE,
      input: [
        { role: 'user', content: 'x' },
        { type: 'reasoning', id: 'rs_1', summary: [], content: null, encrypted_content: null } as never,
        { role: 'assistant', content: [{ type: 'output_text', text: 'answer', annotations: [] }] } as never,
        { role: 'user', content: 'more' },
      ],
    });
    expect(sent(1).messages.map((m: JsonObject) => m.role)).toEqual(['user', 'assistant', 'user']);
  });

  it('text.format null is "not given"; a bad verbosity or a tool_choice without a name is a clear 400', async () => {
    ctx.gw.sim.enqueue(script.text('ok'));
    const post = (body: JsonObject) =>
      fetch(`${ctx.gw.url}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: NOVA, input: 'x', ...body }),
      });
    const ok = await post({ text: { format: null, verbosity: null }, truncation: 'auto', user: 'u-1' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ text: { format: { type: 'text' }, verbosity: 'medium' }, truncation: 'disabled', user: 'u-1' });
    const loud = await post({ text: { verbosity: 'loud' } });
    expect(loud.status).toBe(400);
    // as OpenAI: a json_schema format needs its schema, max_output_tokens is at least 16, truncation is auto or
    // disabled, and an empty previous_response_id is no id
    for (const bad of [
      { text: { format: { type: 'json_schema', name: 'x' } } },
      { max_output_tokens: 5 },
      { truncation: 'bogus' },
      { previous_response_id: '' },
    ]) {
      const res = await post(bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    const unnamed = await post({ tools: [{ type: 'function', name: 'f', parameters: {} }], tool_choice: { type: 'function' } });
    expect(unnamed.status).toBe(400);
    const error = ((await unnamed.json()) as { error: { message: string; param: string } }).error;
    expect(error.message).not.toContain('undefined');
    expect(error.param).toBe('tool_choice.name');
    expect(ctx.gw.sim.requests).toHaveLength(1);
  });

  it('a Codex history with another server’s encrypted_content is refused, not sent on', async () => {
    const fixture = JSON.parse(readFileSync(new URL('../fixtures/codex/multi-turn-reasoning-turn3.json', import.meta.url), 'utf8'));
    const { status, text } = await rawStream({ ...fixture.body, model: CLAUDE });
    expect(status).toBe(400);
    expect(JSON.parse(text).error).toMatchObject({ code: 'invalid_encrypted_content', param: 'input[4].encrypted_content' });
    expect(ctx.gw.sim.requests).toHaveLength(0);
  });
});

describe('state', () => {
  it('input_items lists messages as OpenAI does: text parts and a status, whatever shape the input had', async () => {
    ctx.gw.sim.enqueue(script.text('ok'));
    const r = await client.responses.create({
      model: NOVA,
      input: [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'c' }] },
      ],
    });
    const items = await client.responses.inputItems.list(r.id, { order: 'asc' });
    expect(items.data).toEqual([
      {
        type: 'message',
        id: expect.stringMatching(/^msg_/),
        role: 'user',
        status: 'completed',
        content: [{ type: 'input_text', text: 'a' }],
      },
      {
        type: 'message',
        id: expect.stringMatching(/^msg_/),
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: 'b', annotations: [] }],
      },
      {
        type: 'message',
        id: expect.stringMatching(/^msg_/),
        role: 'user',
        status: 'completed',
        content: [{ type: 'input_text', text: 'c' }],
      },
    ]);
    ctx.gw.sim.enqueue(script.text('ok'));
    const plain = await client.responses.create({ model: NOVA, input: 'just text' });
    expect((await client.responses.inputItems.list(plain.id)).data).toEqual([
      {
        type: 'message',
        id: expect.stringMatching(/^msg_/),
        role: 'user',
        status: 'completed',
        content: [{ type: 'input_text', text: 'just text' }],
      },
    ]);
  });

  it('store (default) keeps the response: retrieve, input_items, previous_response_id, delete', async () => {
    ctx.gw.sim.enqueue(script.text('First answer'));
    const first = await client.responses.create({ model: NOVA, instructions: 'Old rules.', input: 'first question' });
    expect(first).toMatchObject({ store: true });
    const got = await client.responses.retrieve(first.id);
    expect(got).toMatchObject({ id: first.id, status: 'completed', output_text: 'First answer' });

    ctx.gw.sim.enqueue(script.text('Second answer'));
    const second = await client.responses.create({ model: NOVA, previous_response_id: first.id, input: 'second question' });
    expect(second.previous_response_id).toBe(first.id);
    // the conversation is rebuilt (input + output of the first), instructions are not carried over
    expect(sent(1).messages).toEqual([
      { role: 'user', content: [{ text: 'first question' }] },
      { role: 'assistant', content: [{ text: 'First answer' }] },
      { role: 'user', content: [{ text: 'second question' }] },
    ]);
    expect(sent(1).system).toBeUndefined();

    const items = await client.responses.inputItems.list(second.id);
    const texts = items.data.map((i: JsonObject) => i.content[0].text);
    expect(texts).toEqual(['second question', 'First answer', 'first question']); // newest first
    const asc = await client.responses.inputItems.list(second.id, { order: 'asc', limit: 2 });
    expect(asc.data.map((i: JsonObject) => i.content[0].text)).toEqual(['first question', 'First answer']);
    expect(asc.has_more).toBe(true);
    const next = await client.responses.inputItems.list(second.id, { order: 'asc', after: asc.data[1].id });
    expect(next.data.map((i: JsonObject) => i.content[0].text)).toEqual(['second question']);
    await expect(client.responses.inputItems.list(second.id, { after: 'msg_unknown' })).rejects.toMatchObject({
      status: 400,
      param: 'after',
    });
    await expect(client.responses.inputItems.list(second.id, { before: 'msg_unknown' } as never)).rejects.toMatchObject({ status: 400 });

    // a third turn continues the whole chain
    ctx.gw.sim.enqueue(script.text('Third answer'));
    await client.responses.create({ model: NOVA, previous_response_id: second.id, input: 'third question' });
    expect(sent(2).messages).toHaveLength(5);

    await client.responses.delete(first.id);
    await expect(client.responses.retrieve(first.id)).rejects.toMatchObject({ status: 404 });
    await expect(client.responses.delete(first.id)).rejects.toMatchObject({ status: 404 });
    // a chain whose start was deleted cannot be continued
    await expect(client.responses.create({ model: NOVA, previous_response_id: second.id, input: 'x' })).rejects.toMatchObject({
      status: 404,
    });
    // …but the later response stays readable, and its input_items list what is still stored (its own input)
    expect(await client.responses.retrieve(second.id)).toMatchObject({ id: second.id, output_text: 'Second answer' });
    const left = await client.responses.inputItems.list(second.id);
    expect(left.data.map((i: JsonObject) => i.content[0].text)).toEqual(['second question']);
  });

  it('another key’s response is 404 everywhere; store:false is never retrievable', async () => {
    ctx.gw.sim.enqueue(script.text('mine'), script.text('unstored'));
    const mine = await client.responses.create({ model: NOVA, input: 'x' });
    await expect(other.responses.retrieve(mine.id)).rejects.toMatchObject({ status: 404 });
    await expect(other.responses.inputItems.list(mine.id)).rejects.toMatchObject({ status: 404 });
    await expect(other.responses.delete(mine.id)).rejects.toMatchObject({ status: 404 });
    await expect(other.responses.create({ model: NOVA, input: 'x', previous_response_id: mine.id })).rejects.toMatchObject({
      status: 404,
      param: 'previous_response_id',
    });
    expect(await client.responses.retrieve(mine.id)).toMatchObject({ id: mine.id });

    const unstored = await client.responses.create({ model: NOVA, input: 'x', store: false });
    expect(unstored).toMatchObject({ store: false });
    await expect(client.responses.retrieve(unstored.id)).rejects.toMatchObject({ status: 404 });
    expect(ctx.gw.sim.requests).toHaveLength(2);
  });

  it('item_reference resolves the key’s stored output items', async () => {
    ctx.gw.sim.enqueue(script.text('Referenced answer'));
    const first = await client.responses.create({ model: NOVA, input: 'q1' });
    ctx.gw.sim.enqueue(script.text('ok'));
    await client.responses.create({
      model: NOVA,
      input: [
        { role: 'user', content: 'q1' },
        { type: 'item_reference', id: first.output[0].id } as never,
        { role: 'user', content: 'q2' },
      ],
    });
    expect(sent(1).messages[1]).toEqual({ role: 'assistant', content: [{ text: 'Referenced answer' }] });
    await expect(
      other.responses.create({
        model: NOVA,
        input: [{ role: 'user', content: 'q' }, { type: 'item_reference', id: first.output[0].id } as never],
      }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it('a body larger than one DynamoDB item is split into parts and read back whole; beyond the cap it is not stored', async () => {
    const { getResponse, putResponse, PART_BYTES, MAX_PARTS } = await import('../../lambdas/core/store/responses.js');
    // incompressible: about three parts once gzipped
    const big = randomBytes(Math.floor(PART_BYTES * 2.5)).toString('base64');
    const id = `resp_big_${Date.now()}`;
    const items = [{ id: `msg_big_${Date.now()}`, value: { type: 'message', text: 'small' } }];
    expect(await putResponse({ id, keyId: userKeyId, createdAt: Date.now(), body: { big } }, items, 1)).toBe(true);
    expect((await getResponse(id, userKeyId))?.body).toEqual({ big });
    expect(await getResponse(id, userKeyId + 1)).toBeUndefined();
    const huge = randomBytes(PART_BYTES * MAX_PARTS).toString('base64');
    expect(await putResponse({ id: `${id}-huge`, keyId: userKeyId, createdAt: Date.now(), body: { huge } }, [], 1)).toBe(false);
    expect(await getResponse(`${id}-huge`, userKeyId)).toBeUndefined();
  });

  it('a stored response is kept for RESPONSES_TTL_DAYS and gone after', async () => {
    const undo = overrideConfig({ responsesTtlDays: 1 });
    try {
      ctx.gw.sim.enqueue(script.text('short-lived'));
      const r = await client.responses.create({ model: NOVA, input: 'x' });
      const { getResponse } = await import('../../lambdas/core/store/responses.js');
      expect(await getResponse(r.id, userKeyId, Date.now() + 23 * 3600_000)).toBeDefined();
      expect(await getResponse(r.id, userKeyId, Date.now() + 25 * 3600_000)).toBeUndefined();
    } finally {
      undo();
    }
  });
});

describe('endings and failures', () => {
  it('max tokens → response.incomplete with incomplete_details', async () => {
    ctx.gw.sim.enqueue(script.text('cut sh', { stopReason: 'max_tokens' }));
    const { events } = await rawStream({ model: NOVA, input: 'x', max_output_tokens: 16 });
    checkStream(events);
    const last = events[events.length - 1];
    expect(last.type).toBe('response.incomplete');
    expect(last.response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
  });

  it('an upstream failure after the stream started is an error event and response.failed', async () => {
    ctx.gw.sim.enqueue({
      ...script.text('partial answer here', { chunkSize: 3 }),
      failAfterEvents: { count: 3, exception: 'throttlingException' },
    });
    const { status, events } = await rawStream({ model: NOVA, input: 'x' });
    expect(status).toBe(200);
    checkStream(events);
    const [error, failed] = events.slice(-2);
    expect(error).toMatchObject({ type: 'error', code: 'throttled' });
    expect(failed.type).toBe('response.failed');
    expect(failed.response).toMatchObject({ status: 'failed', error: { code: 'throttled' } });
    expect(failed.response.output[0]).toMatchObject({ type: 'message', status: 'incomplete' });
  });

  it('an upstream refusal before the stream keeps its real status', async () => {
    // throttled on every attempt the pipeline makes
    const undo = overrideConfig({ upstream: { maxAttempts: 1 } });
    try {
      ctx.gw.sim.enqueue(script.error('ThrottlingException'));
      const res = await rawStream({ model: NOVA, input: 'x' });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBeTruthy();
    } finally {
      undo();
    }
    ctx.gw.sim.enqueue(script.error('ValidationException', 'The model rejected the input.'));
    const invalid = await rawStream({ model: NOVA, input: 'x' });
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.text).error.message).toContain('rejected the input');
  });
});

describe('limits', () => {
  it('a limited key gets the x-ratelimit-* headers, and 429 rate_limit_exceeded with retry-after over its rpm', async () => {
    startInFreshRateWindow();
    const group = (await ctx.admin.post('/admin/group/save', { name: 'responses-limited' })).body.data;
    await ctx.admin.post('/admin/group/bind-model', {
      group_id: group.id,
      model_id: (await ctx.admin.get('/admin/model/list?q=nova-resp')).body.data.items[0].id,
    });
    const limited = (
      await ctx.admin.post('/admin/api-key/apply', {
        name: 'limited',
        group_id: group.id,
        role: 'user',
        email: '',
        month_quota: 10,
        rpm_limit: 1,
      })
    ).body.data.api_key;
    ctx.gw.sim.enqueue(script.text('once'));
    const ok = await rawStream({ model: NOVA, input: 'x' }, limited);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-ratelimit-limit-requests')).toBe('1');
    expect(ok.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const refused = await rawStream({ model: NOVA, input: 'x' }, limited);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.text).error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(refused.headers.get('retry-after')).toBeTruthy();
  });
});

describe('records and billing', () => {
  it('every call is a thread of the Session-Id / session-id session, billed like chat completions', async () => {
    const before = (await ctx.admin.get(`/admin/api-key/list?name=responder`)).body.data.items[0];
    ctx.gw.sim.enqueue(script.text('recorded', { usage: { inputTokens: 1000, outputTokens: 100 } }));
    await client.responses.create({ model: NOVA, input: 'record me' }, { headers: { 'session-id': 'codex-session-1' } });
    const threads = (await ctx.admin.get(`/admin/thread/list?key_id=${userKeyId}&limit=1`)).body.data.items;
    expect(threads[0]).toMatchObject({
      model: NOVA,
      prompt: 'record me',
      completion: 'recorded',
      tokens_in: 1000,
      tokens_out: 100,
      status: 'ok',
    });
    const sessions = (await ctx.admin.get(`/admin/session/list?key_id=${userKeyId}`)).body.data.items;
    expect(sessions.map((s: JsonObject) => s.session_key)).toContain('codex-session-1');
    const after = (await ctx.admin.get(`/admin/api-key/list?name=responder`)).body.data.items[0];
    // 1000 × $3/M + 100 × $15/M
    expect(Number(after.month_fee) - Number(before.month_fee)).toBeCloseTo(0.0045, 9);
  });
});

/** The smallest valid PNG (1×1). */
function tinyPng(): Buffer {
  return Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
}
