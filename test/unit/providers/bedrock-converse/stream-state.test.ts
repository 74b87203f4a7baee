import { ThrottlingException } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import type { ChatEvent } from '../../../../lambdas/core/chat/events.js';
import { GatewayError } from '../../../../lambdas/core/errors.js';
import { converseResponseEvents } from '../../../../lambdas/core/providers/bedrock-converse/map-response.js';
import { ConverseStreamState } from '../../../../lambdas/core/providers/bedrock-converse/stream-state.js';
import { OpenAIChatChunkEncoder } from '../../../../lambdas/core/wire/openai-chat/encode.js';
import type { ChatCompletionChunk } from '../../../../lambdas/core/wire/openai-chat/types.js';
import { checkEvents, expectWellFormedEvents } from '../../../support/check-events.js';
import { deltas, FIXTURES, fold, META, replay } from './fixtures.js';

/** The fixtures whose stream ends before messageStop (the provider throws at the end). */
const CUT_OFF = new Set(['missing-message-stop']);

/** The wire rules strict OpenAI clients enforce, checked on every scenario. */
function expectWellFormed(chunks: ChatCompletionChunk[], finished = true) {
  expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
  for (const c of chunks) {
    expect(c).toMatchObject({ id: META.id, created: META.created, model: META.model, object: 'chat.completion.chunk' });
    for (const choice of c.choices) {
      expect(choice.index).toBe(0);
      expect(choice.logprobs).toBeNull();
    }
  }
  expect(chunks.filter((c) => c.choices[0]?.finish_reason != null)).toHaveLength(finished ? 1 : 0);
  expect(chunks.slice(1).some((c) => c.choices[0]?.delta.role)).toBe(false);
  const seen = new Set<number>();
  for (const call of chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])) {
    if (seen.has(call.index)) {
      expect(call).toEqual({ index: call.index, function: { arguments: call.function.arguments } });
    } else {
      expect(call.index).toBe(seen.size); // dense, in order of appearance
      expect(call).toMatchObject({ type: 'function', function: { arguments: '' } });
      expect(call.id).toBeTruthy();
      expect(call.function.name).toBeTruthy();
      seen.add(call.index);
    }
  }
}

describe('ConverseStreamState → OpenAI chunks', () => {
  it('covers every fixture file', () => {
    expect(FIXTURES.length).toBeGreaterThanOrEqual(9);
    expect(FIXTURES).toEqual(expect.arrayContaining(['plain-text', 'missing-message-stop', 'structured-output']));
  });

  it.each(FIXTURES)('%s: follows the OpenAI chunk rules', (name) => {
    const finished = !CUT_OFF.has(name);
    expectWellFormed(replay(name).chunks, finished);
    expectWellFormed(replay(name, { includeUsage: true }).chunks, finished);
    expectWellFormed(replay(name, { structuredToolName: 'weather_report' }).chunks, finished);
  });

  it('plain text: role chunk, text deltas, one stop chunk', () => {
    const { chunks, result } = replay('plain-text');
    expect(deltas(chunks)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { content: 'Hello' }, finish: null },
      { delta: { content: ', world.' }, finish: null },
      { delta: {}, finish: 'stop' },
    ]);
    expect(chunks.every((c) => c.usage === undefined)).toBe(true);
    expect(result).toEqual({
      blocks: [{ type: 'text', text: 'Hello, world.' }],
      text: 'Hello, world.',
      reasoning: '',
      toolCalls: [],
      finishReason: 'end_turn',
      usage: { inputTokens: 12, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
      usageReported: true,
    });
  });

  it('a tool call with no text before it is index 0, name only on its first delta', () => {
    const { chunks, result } = replay('tool-call-only');
    expect(deltas(chunks)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish: null },
      {
        delta: { tool_calls: [{ index: 0, id: 'tooluse_a1', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
        finish: null,
      },
      { delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, finish: null },
      { delta: { tool_calls: [{ index: 0, function: { arguments: ' "Beijing"}' } }] }, finish: null },
      { delta: {}, finish: 'tool_calls' },
    ]);
    expect(result.toolCalls).toEqual([{ id: 'tooluse_a1', name: 'get_weather', arguments: '{"city": "Beijing"}' }]);
    expect(result.finishReason).toBe('tool_use');
  });

  it('text then two parallel tool calls: indexes 0 and 1, not the contentBlockIndex', () => {
    const { chunks, result } = replay('text-then-parallel-tools');
    expect(deltas(chunks)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { content: 'Checking both cities.' }, finish: null },
      {
        delta: { tool_calls: [{ index: 0, id: 'tooluse_p1', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
        finish: null,
      },
      { delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] }, finish: null },
      {
        delta: { tool_calls: [{ index: 1, id: 'tooluse_p2', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
        finish: null,
      },
      { delta: { tool_calls: [{ index: 1, function: { arguments: '{"city":' } }] }, finish: null },
      { delta: { tool_calls: [{ index: 1, function: { arguments: '"Rome"}' } }] }, finish: null },
      { delta: {}, finish: 'tool_calls' },
    ]);
    expect(result.text).toBe('Checking both cities.');
    expect(result.toolCalls.map((c) => [c.id, c.arguments])).toEqual([
      ['tooluse_p1', '{"city":"Paris"}'],
      ['tooluse_p2', '{"city":"Rome"}'],
    ]);
  });

  it('reasoning with signature, then text', () => {
    const { chunks, result } = replay('reasoning-then-text');
    expect(deltas(chunks)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { reasoning_content: 'The user greets me. ' }, finish: null },
      { delta: { reasoning_content: 'Reply briefly.' }, finish: null },
      { delta: { reasoning_signature: 'EqQBCkgIARABGAIiQL0sig==' }, finish: null },
      { delta: { content: 'Hi there!' }, finish: null },
      { delta: {}, finish: 'stop' },
    ]);
    expect(result).toMatchObject({ text: 'Hi there!', reasoning: 'The user greets me. Reply briefly.' });
    expect(result.blocks[0]).toEqual({
      type: 'reasoning',
      text: 'The user greets me. Reply briefly.',
      signature: 'EqQBCkgIARABGAIiQL0sig==',
    });
  });

  it.each([
    ['max-tokens', 'length', 'max_tokens'],
    ['guardrail-intervened', 'content_filter', 'content_filter'],
  ])('%s ends with finish_reason %s', (name, finish, neutral) => {
    const { chunks, result } = replay(name);
    expect(deltas(chunks).at(-1)).toEqual({ delta: {}, finish });
    expect(result.finishReason).toBe(neutral);
  });

  it('a stream cut off before messageStop is an upstream failure (502), not a complete answer; the text is kept', () => {
    const { chunks, result, endError, events } = replay('missing-message-stop', { includeUsage: true });
    expect(deltas(chunks)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { content: 'Cut off mid' }, finish: null },
      { delta: { content: ' sentence' }, finish: null },
    ]);
    expect(endError).toBeInstanceOf(GatewayError);
    expect(endError).toMatchObject({ status: 502, code: 'upstream_stream_incomplete' });
    expect(result.text).toBe('Cut off mid sentence');
    expect(result.finishReason).toBeNull();
    expect(events.some((e) => e.type === 'finish')).toBe(false);
  });

  it('include_usage: one last chunk with choices [] and cache tokens counted in prompt_tokens', () => {
    const { chunks, result } = replay('cache-usage', { includeUsage: true });
    const last = chunks.at(-1)!;
    expect(last).toEqual({
      id: META.id,
      object: 'chat.completion.chunk',
      created: META.created,
      model: META.model,
      choices: [],
      usage: {
        prompt_tokens: 10 + 2048 + 512,
        completion_tokens: 4,
        total_tokens: 10 + 2048 + 512 + 4,
        prompt_tokens_details: { cached_tokens: 2048, cache_write_tokens: 512 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    });
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe('stop');
    expect(result.usage).toEqual({ inputTokens: 10, outputTokens: 4, cacheReadTokens: 2048, cacheWriteTokens: 512, reasoningTokens: 0 });
  });

  it('without include_usage no usage chunk is sent, but the folded result still has the usage', () => {
    const { chunks, result } = replay('cache-usage');
    expect(chunks.some((c) => c.choices.length === 0 || c.usage)).toBe(false);
    expect(result.usage.cacheReadTokens).toBe(2048);
  });

  it('the response_format tool streams its input as content and finishes with stop', () => {
    const { chunks, result } = replay('structured-output', { structuredToolName: 'weather_report' });
    expect(deltas(chunks)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { content: '{"city":"Oslo",' }, finish: null },
      { delta: { content: '"temp_c":-3}' }, finish: null },
      { delta: {}, finish: 'stop' },
    ]);
    expect(result).toMatchObject({ text: '{"city":"Oslo","temp_c":-3}', toolCalls: [], finishReason: 'end_turn' });
  });

  it('an exception event becomes a mapped GatewayError, keeping the partial answer', () => {
    const state = new ConverseStreamState();
    const events: ChatEvent[] = [...state.next({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'partial' } } })];
    let thrown: unknown;
    try {
      events.push(...state.next({ throttlingException: new ThrottlingException({ message: 'slow down', $metadata: {} }) }));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(GatewayError);
    expect(thrown).toMatchObject({ status: 429, code: 'throttled' });
    expect(fold(events)).toMatchObject({ text: 'partial', finishReason: null });
    expectWellFormedEvents(events, { complete: false });
  });

  it('each request has its own state (and its own encoder)', () => {
    const a = new ConverseStreamState();
    const b = new ConverseStreamState();
    const aEvents = a.next({ contentBlockStart: { contentBlockIndex: 0, start: { toolUse: { toolUseId: 't1', name: 'f' } } } });
    const bEvents = b.next({ contentBlockStart: { contentBlockIndex: 3, start: { toolUse: { toolUseId: 't2', name: 'g' } } } });
    expect(bEvents).toEqual([
      { type: 'message_start' },
      { type: 'block_start', index: 0, block: { type: 'tool_use', id: 't2', name: 'g', toolIndex: 0 } },
    ]);
    const encoder = new OpenAIChatChunkEncoder({ ...META, id: 'chatcmpl-other' }, false);
    const [, first] = bEvents.flatMap((ev) => encoder.encode(ev));
    expect(first.choices[0].delta.tool_calls![0].index).toBe(0);
    expect(first.id).toBe('chatcmpl-other');
    expect(fold(aEvents).toolCalls).toHaveLength(1);
  });
});

describe('ConverseStreamState events are well-formed', () => {
  it.each(FIXTURES)('%s', (name) => {
    for (const structuredToolName of [undefined, 'weather_report']) {
      const { events, endError } = replay(name, { structuredToolName });
      expect(endError === undefined).toBe(!CUT_OFF.has(name));
      expectWellFormedEvents(events, { complete: endError === undefined });
    }
  });

  it('text and reasoning blocks Converse never opens explicitly are opened before their first delta', () => {
    const { events } = replay('reasoning-then-text');
    expect(events.filter((e) => e.type === 'block_start' || e.type === 'block_stop')).toEqual([
      { type: 'block_start', index: 0, block: { type: 'reasoning' } },
      { type: 'block_stop', index: 0 },
      { type: 'block_start', index: 1, block: { type: 'text' } },
      { type: 'block_stop', index: 1 },
    ]);
  });

  it('a block Converse leaves open is closed at messageStop, before the finish', () => {
    const state = new ConverseStreamState();
    const events = [
      ...state.next({ messageStart: { role: 'assistant' } }),
      ...state.next({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'no stop event' } } }),
      ...state.next({ messageStop: { stopReason: 'end_turn' } }),
      ...state.end(),
    ];
    expect(events.slice(-2)).toEqual([
      { type: 'block_stop', index: 0 },
      { type: 'finish', reason: 'end_turn' },
    ]);
    expect(checkEvents(events)).toEqual([]);
  });

  it('redacted reasoning opens a block carrying its data as base64', () => {
    const state = new ConverseStreamState();
    const redacted = Uint8Array.from([1, 2, 3, 250]);
    const events = [
      ...state.next({ contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { redactedContent: redacted } } } }),
      ...state.next({ contentBlockStop: { contentBlockIndex: 0 } }),
      ...state.next({ messageStop: { stopReason: 'end_turn' } }),
    ];
    expect(events[1]).toEqual({
      type: 'block_start',
      index: 0,
      block: { type: 'redacted_reasoning', data: Buffer.from(redacted).toString('base64') },
    });
    expectWellFormedEvents(events);
  });

  it('a tool call is counted for the finish reason only when the client sees it', () => {
    const asTool = replay('structured-output');
    const asAnswer = replay('structured-output', { structuredToolName: 'weather_report' });
    expect(asTool.events.find((e) => e.type === 'finish')).toEqual({ type: 'finish', reason: 'tool_use' });
    expect(asAnswer.events.find((e) => e.type === 'finish')).toEqual({ type: 'finish', reason: 'end_turn' });
  });
});

describe('parallel_tool_calls: false (singleToolCall), which Converse has no field for', () => {
  const twoCalls = [
    { messageStart: { role: 'assistant' as const } },
    { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Checking both.' } } },
    { contentBlockStop: { contentBlockIndex: 0 } },
    { contentBlockStart: { contentBlockIndex: 1, start: { toolUse: { toolUseId: 't1', name: 'weather' } } } },
    { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '{"city":"Oslo"}' } } } },
    { contentBlockStop: { contentBlockIndex: 1 } },
    { contentBlockStart: { contentBlockIndex: 2, start: { toolUse: { toolUseId: 't2', name: 'weather' } } } },
    { contentBlockDelta: { contentBlockIndex: 2, delta: { toolUse: { input: '{"city":"Rome"}' } } } },
    { contentBlockStop: { contentBlockIndex: 2 } },
    { messageStop: { stopReason: 'tool_use' as const } },
    { metadata: { usage: { inputTokens: 10, outputTokens: 40, totalTokens: 50 }, metrics: { latencyMs: 1 } } },
  ];
  const run = (state: ConverseStreamState) => twoCalls.flatMap((e) => state.next(e));

  it('only the first call is streamed; the rest of the answer and its usage are kept', () => {
    const events = run(new ConverseStreamState({ singleToolCall: true }));
    expectWellFormedEvents(events);
    expect(fold(events)).toMatchObject({
      text: 'Checking both.',
      toolCalls: [{ id: 't1', name: 'weather', arguments: '{"city":"Oslo"}' }],
      finishReason: 'tool_use',
      usage: { outputTokens: 40 },
    });
    expect(fold(run(new ConverseStreamState())).toolCalls).toHaveLength(2);
  });

  it('the same for a non-streamed answer', () => {
    const res = {
      output: {
        message: {
          role: 'assistant' as const,
          content: [
            { toolUse: { toolUseId: 't1', name: 'weather', input: { city: 'Oslo' } } },
            { toolUse: { toolUseId: 't2', name: 'weather', input: { city: 'Rome' } } },
          ],
        },
      },
      stopReason: 'tool_use' as const,
      usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 },
    };
    expect(fold(converseResponseEvents(res, { singleToolCall: true })).toolCalls.map((c) => c.id)).toEqual(['t1']);
    expect(fold(converseResponseEvents(res)).toolCalls.map((c) => c.id)).toEqual(['t1', 't2']);
  });
});
