import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { overrideConfig } from '../../lambdas/core/config.js';
import type { ChatCompletionChunk, DocPart } from '../../lambdas/core/wire/openai-chat/types.js';
import type { OpenAIErrorBody } from '../../lambdas/core/wire/openai/errors.js';
import { script } from '../../local/bedrock-simulator/index.js';
import { converseBody } from '../support/converse-wire.js';
import type { ThreadView } from '../support/api.js';
import { useTestGateway } from '../support/gateway.js';

// One upstream attempt: the tests below map a scripted upstream refusal to what the client sees (retries and
// fallbacks: upstream-faults.test.ts, fallbacks.test.ts).
const ctx = useTestGateway({ config: { sseKeepAliveMs: 100, upstream: { maxAttempts: 1 } } });
let userKey: string;
let client: OpenAI;
const MODEL = 'claude-test';

beforeAll(async () => {
  const { gw, admin } = ctx;
  const g = (await admin.post('/admin/group/save', { name: 'chat' })).body.data;
  await admin.post('/admin/model/save', {
    name: MODEL,
    config: { modelId: 'us.anthropic.claude-3-7-sonnet-20250219-v1:0' },
    provider: 'bedrock-converse',
    price_in: 3,
    price_out: 15,
    group_id: g.id,
  });
  await admin.post('/admin/model/save', {
    name: 'forbidden-model',
    config: { modelId: 'anthropic.claude-3-haiku-20240307-v1:0' },
    provider: 'bedrock-converse',
    price_in: 1,
    price_out: 1,
  });
  userKey = (await admin.post('/admin/api-key/apply', { name: 'chatter', group_id: g.id, role: 'user', email: '', month_quota: 100 })).body
    .data.api_key;
  client = new OpenAI({ apiKey: userKey, baseURL: `${gw.url}/v1`, maxRetries: 0 });
});
beforeEach(() => ctx.gw.sim.reset());

const ask = (content = 'ping') => [{ role: 'user' as const, content }];

/** The function of a tool call (this gateway makes no custom tool calls). */
const fn = (t: OpenAI.ChatCompletionMessageToolCall) => {
  if (t.type !== 'function') throw new Error(`unexpected ${t.type} tool call`);
  return t.function;
};
/** A raw SSE data frame: a chunk, or the in-band error that ends a failed stream. */
const chunkOf = (frame: string) => JSON.parse(frame) as ChatCompletionChunk;
const errorOf = (frame: string) => JSON.parse(frame) as OpenAIErrorBody;
/** A content part the SDK's types do not know, passed through as what it is on the wire. */
const docPart = (part: DocPart) => part as unknown as OpenAI.ChatCompletionContentPart;

/** A raw POST /v1/chat/completions with the user key (for bodies the SDK's types would not let through). */
const postChat = (body: Record<string, unknown>) =>
  fetch(`${ctx.gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function rawSse(body: unknown, key = userKey): Promise<{ status: number; frames: string[]; comments: string[]; headers: Headers }> {
  const res = await fetch(`${ctx.gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const frames: string[] = [];
  const comments: string[] = [];
  for (const block of text.split('\n\n')) {
    if (!block) continue;
    if (block.startsWith(':')) comments.push(block);
    else if (block.startsWith('data: ')) frames.push(block.slice(6));
    else frames.push(block);
  }
  return { status: res.status, frames, comments, headers: res.headers };
}

describe('non-streaming', () => {
  it('returns the full OpenAI shape with usage, echoing the model name', async () => {
    ctx.gw.sim.enqueue(script.text('Hello there', { usage: { inputTokens: 11, outputTokens: 7 } }));
    const res = await client.chat.completions.create({ model: MODEL, messages: ask('hi'), temperature: 0 });
    expect(res.object).toBe('chat.completion');
    expect(res.model).toBe(MODEL);
    expect(res.choices[0].message).toMatchObject({ role: 'assistant', content: 'Hello there' });
    expect(res.choices[0].finish_reason).toBe('stop');
    expect(res.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });
    const sent = ctx.gw.sim.requests[0];
    expect(sent.operation).toBe('Converse');
    expect(sent.modelId).toBe('us.anthropic.claude-3-7-sonnet-20250219-v1:0');
    expect(converseBody(sent).inferenceConfig!.temperature).toBe(0); // 0 stays 0
  });

  it('keeps every text block and every tool call', async () => {
    ctx.gw.sim.enqueue(
      script.toolCalls(
        [
          { name: 'get_weather', input: { city: 'Paris' } },
          { name: 'get_time', input: { tz: 'CET' } },
        ],
        { precedingText: 'Let me check.' },
      ),
    );
    const tools = ['get_weather', 'get_time'].map((name) => ({
      type: 'function' as const,
      function: { name, description: '', parameters: { type: 'object', properties: {} } },
    }));
    const res = await client.chat.completions.create({ model: MODEL, messages: ask('weather?'), tools, tool_choice: 'auto' });
    const msg = res.choices[0].message;
    expect(msg.content).toBe('Let me check.');
    expect(msg.tool_calls?.map((t) => [fn(t).name, JSON.parse(fn(t).arguments) as unknown])).toEqual([
      ['get_weather', { city: 'Paris' }],
      ['get_time', { tz: 'CET' }],
    ]);
    expect(res.choices[0].finish_reason).toBe('tool_calls');
    const sent = converseBody(ctx.gw.sim.requests[0]);
    expect(sent.toolConfig!.toolChoice).toEqual({ auto: {} });
    expect(sent.toolConfig!.tools[0].toolSpec.description.length).toBeGreaterThan(0); // empty description handled
  });

  it('maps stop strings, max_tokens and length', async () => {
    ctx.gw.sim.enqueue(script.text('cut', { stopReason: 'max_tokens' }));
    const res = await client.chat.completions.create({ model: MODEL, messages: ask(), stop: 'END', max_tokens: 5, top_p: 0.5 });
    expect(res.choices[0].finish_reason).toBe('length');
    const cfg = converseBody(ctx.gw.sim.requests[0]).inferenceConfig;
    expect(cfg).toMatchObject({ stopSequences: ['END'], maxTokens: 5, topP: 0.5 });
  });

  it('sends system/developer as system, tool results back as toolResult, and tool_choice required/named/none', async () => {
    const tools = [
      {
        type: 'function' as const,
        function: { name: 'lookup', description: 'look up', parameters: { type: 'object', properties: { q: { type: 'string' } } } },
      },
    ];
    ctx.gw.sim.enqueue(script.text('ok'), script.text('ok'), script.text('ok'));
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: 'Use tools.' },
      { role: 'user', content: 'find x' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"found":true}' },
    ];
    await client.chat.completions.create({ model: MODEL, messages, tools, tool_choice: 'required' });
    await client.chat.completions.create({
      model: MODEL,
      messages,
      tools,
      tool_choice: { type: 'function', function: { name: 'lookup' } },
    });
    await client.chat.completions.create({ model: MODEL, messages, tools, tool_choice: 'none' });
    const [required, named, none] = ctx.gw.sim.requests.map(converseBody);
    expect(required.system).toEqual([{ text: 'Be brief.' }, { text: 'Use tools.' }]);
    expect(required.toolConfig!.toolChoice).toEqual({ any: {} });
    expect(named.toolConfig!.toolChoice).toEqual({ tool: { name: 'lookup' } });
    expect(none.toolConfig?.toolChoice).toBeUndefined();
    const roles = required.messages.map((m) => m.role);
    expect(roles).toEqual(['user', 'assistant', 'user']);
    expect(required.messages[2].content[0].toolResult!.toolUseId).toBeTruthy();
  });

  it('a forced tool with a reasoning effort gets its call: thinking is left out (Claude refuses both at once)', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];
    ctx.gw.sim.enqueue(script.toolCalls([{ name: 'lookup', input: {} }]), script.toolCalls([{ name: 'lookup', input: {} }]));
    for (const tool_choice of ['required', { type: 'function', function: { name: 'lookup' } }] as const) {
      const res = await client.chat.completions.create({
        model: MODEL,
        messages: ask('find'),
        tools,
        tool_choice,
        reasoning_effort: 'high',
      });
      expect(res.choices[0].message.tool_calls?.[0]).toMatchObject({ function: { name: 'lookup' } });
    }
    for (const sent of ctx.gw.sim.requests.map(converseBody)) {
      expect(sent.additionalModelRequestFields?.thinking).toBeUndefined();
      expect(sent.toolConfig!.toolChoice).not.toHaveProperty('auto');
    }
  });
});

describe('streaming with the official SDK', () => {
  it('create({stream:true}) yields role first, constant id, one finish_reason and usage when asked', async () => {
    ctx.gw.sim.enqueue(script.text('Hello streaming world', { chunkSize: 4, usage: { inputTokens: 5, outputTokens: 9 } }));
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: ask(),
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(new Set(chunks.map((c) => c.created)).size).toBe(1);
    const finishes = chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter((f) => f !== null);
    expect(finishes).toEqual(['stop']);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hello streaming world');
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 });
  });

  it('without include_usage there is no usage chunk', async () => {
    ctx.gw.sim.enqueue(script.text('abc'));
    const stream = await client.chat.completions.create({ model: MODEL, messages: ask(), stream: true });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.every((c) => !c.usage)).toBe(true);
  });

  it('finalChatCompletion() accepts tool calls with no preceding text (dense index 0) and parallel calls', async () => {
    ctx.gw.sim.enqueue(
      script.toolCalls([
        { name: 'a_tool', input: { n: 1 } },
        { name: 'b_tool', input: { n: 2 } },
      ]),
    );
    const tools = ['a_tool', 'b_tool'].map((name) => ({
      type: 'function' as const,
      function: { name, parameters: { type: 'object', properties: {} } },
    }));
    const runner = client.chat.completions.stream({ model: MODEL, messages: ask(), tools });
    const final = await runner.finalChatCompletion();
    const calls = final.choices[0].message.tool_calls!;
    expect(calls.map((c) => c.function.name)).toEqual(['a_tool', 'b_tool']);
    expect(calls.map((c) => JSON.parse(c.function.arguments) as unknown)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(final.choices[0].finish_reason).toBe('tool_calls');
  });

  it('streams reasoning_content with its signature and then the answer', async () => {
    ctx.gw.sim.enqueue(script.reasoning('Thinking hard about it.', 'The answer is 42.', { signature: 'sig-123' }));
    const runner = client.chat.completions.stream({ model: MODEL, messages: ask('q'), reasoning_effort: 'low' });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0].message.content).toBe('The answer is 42.');
    const raw = await rawSse({ model: MODEL, messages: ask('q'), stream: true });
    expect(raw.status).toBe(200);
    const sent = converseBody(ctx.gw.sim.requests[0]);
    expect(sent.additionalModelRequestFields!.thinking).toMatchObject({ type: 'enabled', budget_tokens: 2048 });
  });

  it('reasoning deltas carry reasoning_content (raw SSE)', async () => {
    ctx.gw.sim.enqueue(script.reasoning('Deep thought.', 'Done.', { signature: 'sig-9' }));
    const raw = await rawSse({ model: MODEL, messages: ask('q'), stream: true });
    const deltas = raw.frames.filter((f) => f !== '[DONE]').map((f) => chunkOf(f).choices[0]?.delta ?? {});
    expect(deltas.map((d) => d.reasoning_content ?? '').join('')).toBe('Deep thought.');
    expect(deltas.map((d) => d.reasoning_signature ?? '').join('')).toBe('sig-9');
    expect(deltas.map((d) => d.content ?? '').join('')).toBe('Done.');
  });

  it('guardrail intervention finishes with content_filter', async () => {
    ctx.gw.sim.enqueue(script.text('Sorry.', { stopReason: 'guardrail_intervened' }));
    const runner = client.chat.completions.stream({ model: MODEL, messages: ask() });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0].finish_reason).toBe('content_filter');
  });
});

describe('raw SSE', () => {
  it('frames are data: lines ending with [DONE]; every chunk has the required fields', async () => {
    ctx.gw.sim.enqueue(script.toolCalls([{ name: 'only_tool', input: { x: 1 } }]));
    const raw = await rawSse({
      model: MODEL,
      messages: ask(),
      stream: true,
      tools: [{ type: 'function', function: { name: 'only_tool', parameters: { type: 'object' } } }],
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toContain('text/event-stream');
    expect(raw.frames[raw.frames.length - 1]).toBe('[DONE]');
    const chunks = raw.frames.slice(0, -1).map(chunkOf);
    for (const c of chunks) {
      expect(c).toMatchObject({ object: 'chat.completion.chunk', model: MODEL });
      expect(c.id).toBe(chunks[0].id);
      for (const ch of c.choices) {
        expect(ch).toHaveProperty('index', 0);
        expect(ch).toHaveProperty('logprobs', null);
        expect(ch).toHaveProperty('finish_reason');
      }
    }
    const toolDeltas = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
    expect(toolDeltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'only_tool', arguments: '' } });
    expect(toolDeltas[0].id).toBeTruthy();
    for (const later of toolDeltas.slice(1)) {
      expect(later.index).toBe(0);
      expect(later.function.name).toBeUndefined();
      expect(later.id).toBeUndefined();
    }
    expect(JSON.parse(toolDeltas.map((d) => d.function.arguments).join('')) as unknown).toEqual({ x: 1 });
  });

  it('sends : keep-alive comments while the model is silent, and chunks as they arrive', async () => {
    // The SDK hands back the stream with the first event; silence after it is what keep-alives are for.
    ctx.gw.sim.enqueue(script.text('late', { delayMs: 300, chunkSize: 100 }));
    const raw = await rawSse({ model: MODEL, messages: ask(), stream: true });
    expect(raw.comments.length).toBeGreaterThan(0);
    expect(raw.comments.every((c) => c.startsWith(': keep-alive'))).toBe(true);
    expect(raw.frames.at(-1)).toBe('[DONE]');
  });
});

describe('errors before and after the stream starts', () => {
  it('401 / 404 / 400 in OpenAI shape, mapped by the SDK; a model the key may not use is a 404 like a missing one', async () => {
    const bad = new OpenAI({ apiKey: 'br-nope-nope-nope-nope-nope-nope-nope', baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });
    await expect(bad.chat.completions.create({ model: MODEL, messages: ask() })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    // A bad key wins over a bad body.
    await expect(bad.chat.completions.create({ model: MODEL, messages: [] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const notFound = await client.chat.completions.create({ model: 'no-such-model', messages: ask() }).catch((e) => e);
    expect(notFound).toBeInstanceOf(OpenAI.NotFoundError);
    expect(notFound.code).toBe('model_not_found');
    const forbidden = await client.chat.completions.create({ model: 'forbidden-model', messages: ask() }).catch((e) => e);
    expect(forbidden).toBeInstanceOf(OpenAI.NotFoundError);
    // Indistinguishable from a model that does not exist: same status, code, type and wording.
    expect(forbidden.error).toEqual({ ...notFound.error, message: notFound.error.message.replace('no-such-model', 'forbidden-model') });
    const invalid = await client.chat.completions.create({ model: MODEL, messages: [] }).catch((e) => e);
    expect(invalid).toBeInstanceOf(OpenAI.BadRequestError);
    expect(ctx.gw.sim.requests).toHaveLength(0);
  });

  it('tool-call arguments nested past the bound are a 400, not a stack overflow (they are a string the body check cannot see into)', async () => {
    const deep = `{"a":${'['.repeat(5000)}1${']'.repeat(5000)}}`;
    const messages = [
      { role: 'user' as const, content: 'hi' },
      {
        role: 'assistant' as const,
        content: null,
        tool_calls: [{ id: 'c1', type: 'function' as const, function: { name: 'f', arguments: deep } }],
      },
      { role: 'tool' as const, tool_call_id: 'c1', content: 'ok' },
    ];
    for (const stream of [false, true]) {
      const err = await client.chat.completions.create({ model: MODEL, messages, stream }).catch((e) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect(err.error.param).toBe('messages[1].tool_calls[0].function.arguments');
    }
    const responses = await fetch(`${ctx.gw.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        input: [
          { role: 'user', content: 'hi' },
          { type: 'function_call', call_id: 'c1', name: 'f', arguments: deep },
          { type: 'function_call_output', call_id: 'c1', output: 'ok' },
        ],
      }),
    });
    expect(responses.status).toBe(400);
    expect(ctx.gw.sim.requests).toHaveLength(0);
  });

  it('null optional fields are "not given"; an assistant refusal part is its text; allowed_tools narrows the tools', async () => {
    const fn = (name: string) => ({ type: 'function', function: { name, description: null, parameters: { type: 'object' } } });
    ctx.gw.sim.enqueue(script.text('ok'));
    const plain = await postChat({
      model: MODEL,
      tools: null,
      tool_choice: null,
      response_format: null,
      user: null,
      parallel_tool_calls: null,
      messages: [
        { role: 'user', content: 'hi', name: null },
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'I cannot.' }], tool_calls: null },
        { role: 'user', content: 'please' },
      ],
    });
    expect(plain.status).toBe(200);
    expect(converseBody(ctx.gw.sim.requests[0]).messages[1]).toEqual({ role: 'assistant', content: [{ text: 'I cannot.' }] });

    ctx.gw.sim.enqueue(script.text('ok'));
    const narrowed = await postChat({
      model: MODEL,
      messages: ask(),
      tools: [fn('a'), fn('b'), fn('c')],
      tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'b' } }] } },
    });
    expect(narrowed.status).toBe(200);
    const cfg = converseBody(ctx.gw.sim.requests[1]).toolConfig!;
    expect(cfg.tools.map((t: { toolSpec: { name: string } }) => t.toolSpec.name)).toEqual(['b']);
    expect(cfg.toolChoice).toEqual({ any: {} });
  });

  it('fields it accepts but cannot pass on are checked as OpenAI checks them; legacy function calling is a 400', async () => {
    const send = async (extra: Record<string, unknown>) => {
      const res = await fetch(`${ctx.gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, messages: ask(), ...extra }),
      });
      return { status: res.status, body: (await res.json()) as { error?: { param?: string; message: string } } };
    };
    const refused: Array<[Record<string, unknown>, string]> = [
      [{ presence_penalty: 3 }, 'presence_penalty'],
      [{ frequency_penalty: -2.5 }, 'frequency_penalty'],
      [{ seed: 'x' }, 'seed'],
      [{ top_logprobs: 30 }, 'top_logprobs'],
      [{ stream_options: { include_usage: true } }, 'stream_options'],
      [{ functions: [{ name: 'f', parameters: { type: 'object' } }] }, 'functions'],
      [{ function_call: { name: 'f' } }, 'function_call'],
      // accepted and unused, but typed as OpenAI types them
      [{ metadata: 5 }, 'metadata'],
      [{ store: 'yes' }, 'store'],
      [{ logit_bias: [] }, 'logit_bias'],
      [{ service_tier: 'fastest' }, 'service_tier'],
      [{ modalities: 'text' }, 'modalities'],
      // an audio answer is not made here: a 400 rather than text the client did not ask for
      [{ modalities: ['text', 'audio'] }, 'modalities'],
      [{ audio: { voice: 'alloy', format: 'wav' } }, 'audio'],
      [{ web_search_options: true }, 'web_search_options'],
      [
        {
          messages: [
            { role: 'user', content: 'x' },
            { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f' } }] },
            { role: 'tool', tool_call_id: 'c', content: 'r' },
          ],
        },
        'messages.1.tool_calls.0.function.arguments',
      ],
    ];
    for (const [extra, param] of refused) {
      const r = await send(extra);
      expect([param, r.status, r.body.error?.param]).toEqual([param, 400, param]);
    }
    expect(ctx.gw.sim.requests).toHaveLength(0);
    ctx.gw.sim.enqueue(script.text('ok'));
    const fine = await send({
      presence_penalty: 1,
      frequency_penalty: 0,
      seed: 7,
      logprobs: false,
      functions: null,
      function_call: null,
      metadata: { team: 'a' },
      store: false,
      logit_bias: { '50256': -100 },
      service_tier: 'auto',
      modalities: ['text'],
    });
    expect(fine.status).toBe(200);
  });

  it('upstream throttling before the stream → HTTP 429 (not a 200 stream)', async () => {
    ctx.gw.sim.enqueue(script.error('ThrottlingException', 'slow down'));
    const err = await client.chat.completions.create({ model: MODEL, messages: ask(), stream: true }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
  });

  it('upstream validation → 400, unavailable → 503', async () => {
    ctx.gw.sim.enqueue(script.error('ValidationException', 'bad input'), script.error('ServiceUnavailableException', 'down'));
    const v = await client.chat.completions.create({ model: MODEL, messages: ask() }).catch((e) => e);
    expect(v).toBeInstanceOf(OpenAI.BadRequestError);
    expect(v.message).toContain('bad input');
    const u = await client.chat.completions.create({ model: MODEL, messages: ask() }).catch((e) => e);
    expect(u.status).toBe(503);
  });

  it('an exception mid-stream ends the stream with an in-band error frame', async () => {
    ctx.gw.sim.enqueue(
      script.text('partial answer that fails', {
        chunkSize: 3,
        failAfterEvents: { count: 4, exception: 'modelStreamErrorException', message: 'boom' },
      }),
    );
    const raw = await rawSse({ model: MODEL, messages: ask(), stream: true });
    expect(raw.status).toBe(200);
    const last = errorOf(raw.frames.at(-1)!);
    expect(last.error).toMatchObject({ message: expect.any(String), type: expect.any(String) });
    expect(raw.frames).not.toContain('[DONE]');
    // The SDK surfaces it as an error too.
    ctx.gw.sim.enqueue(
      script.text('partial answer that fails', {
        chunkSize: 3,
        failAfterEvents: { count: 4, exception: 'modelStreamErrorException', message: 'boom' },
      }),
    );
    const stream = await client.chat.completions.create({ model: MODEL, messages: ask(), stream: true });
    await expect(
      (async () => {
        for await (const _ of stream) void _;
      })(),
    ).rejects.toThrow();
  });
});

describe('an upstream stream that is cut off', () => {
  it('ends with an in-band error (no [DONE]) and is recorded as an error, charged for what was produced', async () => {
    ctx.gw.sim.enqueue(script.text('This answer is cut off somewhere in the middle', { chunkSize: 5, endAfterEvents: 4 }));
    const res = await fetch(`${ctx.gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json', 'session-id': 'cut-off' },
      body: JSON.stringify({ model: MODEL, messages: ask(), stream: true }),
    });
    const frames = (await res.text())
      .split('\n\n')
      .filter((f) => f.startsWith('data: '))
      .map((f) => f.slice(6));
    expect(frames).not.toContain('[DONE]');
    expect(errorOf(frames.at(-1)!).error.code).toBe('upstream_stream_incomplete');
    const { admin } = ctx;
    const s = (await admin.get('/admin/session/list?limit=100')).body.data.items.find((x) => x.session_key === 'cut-off');
    const thread = (await admin.get(`/admin/thread/list?session_id=${s!.id}`)).body.data.items[0];
    expect(thread.status).toBe('error');
    expect(thread.fee).toBeGreaterThan(0);
    expect(thread.completion.length).toBeGreaterThan(0);
  });
});

describe('content parts', () => {
  const PNG = Buffer.from(
    '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5b2e0c50000000049454e44ae426082',
    'hex',
  );

  it('data: images keep their true media type; the doc part becomes a document with a valid name', async () => {
    ctx.gw.sim.enqueue(script.text('seen'));
    const docBytes = Object.fromEntries([...Buffer.from('%PDF-1.4 hello')].map((b, i) => [String(i), b]));
    await client.chat.completions.create({
      model: MODEL,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe.' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG.toString('base64')}` } },
            // The seed API's document part: not in the SDK's types, so it goes in as the gateway's own DocPart.
            docPart({ type: 'doc', doc: { name: 'report: Q3/2024.pdf', format: 'pdf', size: 14, source: { bytes: docBytes } } }),
          ],
        },
      ],
    });
    const blocks = converseBody(ctx.gw.sim.requests[0]).messages[0].content;
    const image = blocks.find((b) => b.image);
    expect(image!.image!.format).toBe('png');
    const doc = blocks.find((b) => b.document);
    expect(doc!.document!.format).toBe('pdf');
    expect(doc!.document!.name).toMatch(/^[A-Za-z0-9 \-()[\]]+$/);
    expect(Buffer.from(doc!.document!.source.bytes, 'base64').toString()).toBe('%PDF-1.4 hello');
  });

  describe('image URLs go through the SSRF guard', () => {
    let hits = 0;
    let server: Server;
    let port: number;
    beforeAll(async () => {
      server = createServer((_req, res) => {
        hits++;
        res.writeHead(200, { 'content-type': 'image/png' });
        res.end(PNG);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it.each([
      'http://127.0.0.1:PORT/x.png',
      'http://localhost:PORT/x.png',
      'http://[::1]:PORT/x.png',
      'http://10.0.0.1/x.png',
      'http://192.168.1.1/x.png',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/',
      'http://[fc00::1]/x.png',
      'http://2130706433:PORT/x.png',
      'file:///etc/passwd',
    ])('%s → 400, never contacted, upstream never called', async (template) => {
      const url = template.replace('PORT', String(port));
      const err = await client.chat.completions
        .create({
          model: MODEL,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'x' },
                { type: 'image_url', image_url: { url } },
              ],
            },
          ],
        })
        .catch((e) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect(hits).toBe(0);
      expect(ctx.gw.sim.requests).toHaveLength(0);
    });
  });
});

describe('client going away mid-stream', () => {
  it('aborts the upstream (drain budget 0) and records the call as interrupted', async () => {
    // With a drain budget the upstream is read on for its usage (test/e2e/interrupted-billing.test.ts); without, it stops.
    const undoDrain = overrideConfig({ upstream: { drainMs: 0 } });
    onTestFinished(undoDrain);
    ctx.gw.sim.enqueue(script.text('x'.repeat(400), { chunkSize: 5, delayMs: 20 }));
    const ctrl = new AbortController();
    const res = await fetch(`${ctx.gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json', 'session-id': 'abort-test' },
      body: JSON.stringify({ model: MODEL, messages: ask(), stream: true }),
      signal: ctrl.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    ctrl.abort();
    const { admin } = ctx;
    let thread: ThreadView | undefined;
    for (let i = 0; i < 50 && !thread; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const sessions = await admin.get('/admin/session/list?limit=100');
      const s = sessions.body.data?.items?.find((x) => x.session_key === 'abort-test');
      if (s) thread = (await admin.get(`/admin/thread/list?session_id=${s.id}`)).body.data.items[0];
    }
    expect(thread?.status).toBe('interrupted');
    await new Promise((r) => setTimeout(r, 200));
    expect(ctx.gw.sim.requests[0].aborted).toBe(true);
  });
});

describe('client going away before the first event', () => {
  it.each([true, false])('stream=%s: the server survives, the upstream is aborted, and the prompt is still charged', async (stream) => {
    ctx.gw.sim.enqueue(script.text('slow answer', { firstEventDelayMs: 600 }));
    const ctrl = new AbortController();
    const session = `early-abort-${stream}`;
    const pending = fetch(`${ctx.gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json', 'session-id': session },
      body: JSON.stringify({ model: MODEL, messages: ask('a prompt of some length to be charged'), stream }),
      signal: ctrl.signal,
    }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 150));
    ctrl.abort();
    await pending;
    expect((await fetch(`${ctx.gw.url}/health`)).status).toBe(200);
    const { admin } = ctx;
    let thread: ThreadView | undefined;
    for (let i = 0; i < 50 && !thread; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const s = (await admin.get('/admin/session/list?limit=100')).body.data.items.find((x) => x.session_key === session);
      if (s) thread = (await admin.get(`/admin/thread/list?session_id=${s.id}`)).body.data.items[0];
    }
    if (stream) {
      expect(thread!.status).toBe('interrupted');
      expect(thread!.tokens_in).toBeGreaterThan(0);
      expect(thread!.fee).toBeGreaterThan(0);
    } else {
      // A non-streaming answer completes upstream and is recorded in full.
      expect(thread!.status).toBe('ok');
    }
  });
});
