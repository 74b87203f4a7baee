import { describe, expect, it } from 'vitest';
import type { ChatEvent, FinishReason } from '../../../../lambdas/core/chat/events.js';
import { ChatFold } from '../../../../lambdas/core/chat/fold.js';
import { zeroUsage } from '../../../../lambdas/core/usage.js';
import {
  type CompletionMeta,
  encodeChatCompletion,
  OpenAIChatChunkEncoder,
  toOpenAIFinishReason,
  toOpenAIUsage,
} from '../../../../lambdas/core/wire/openai-chat/encode.js';
import type { ChatCompletionChunk } from '../../../../lambdas/core/wire/openai-chat/types.js';

const meta: CompletionMeta = { id: 'chatcmpl-abc', created: 1_700_000_123, model: 'my-model' };
const usage = { inputTokens: 10, outputTokens: 4, cacheReadTokens: 2, cacheWriteTokens: 0, reasoningTokens: 1 };

/** The chunks for a whole stream, as the route relays them: every event encoded, then end(). */
function encodeAll(events: ChatEvent[], includeUsage = false): ChatCompletionChunk[] {
  const encoder = new OpenAIChatChunkEncoder(meta, includeUsage);
  return [...events.flatMap((ev) => encoder.encode(ev)), ...encoder.end()];
}
const deltas = (chunks: ChatCompletionChunk[]) =>
  chunks.map((c) => (c.choices.length === 0 ? { usage: c.usage } : { delta: c.choices[0].delta, finish: c.choices[0].finish_reason }));
const fold = (events: ChatEvent[]) => {
  const f = new ChatFold();
  for (const ev of events) f.add(ev);
  return f.result();
};

const TEXT: ChatEvent[] = [
  { type: 'message_start' },
  { type: 'block_start', index: 0, block: { type: 'text' } },
  { type: 'text_delta', index: 0, text: 'Hel' },
  { type: 'text_delta', index: 0, text: 'lo' },
  { type: 'block_stop', index: 0 },
  { type: 'finish', reason: 'end_turn' },
  { type: 'usage', usage },
];

const EVERYTHING: ChatEvent[] = [
  { type: 'message_start', upstreamId: 'msg_9' },
  { type: 'block_start', index: 0, block: { type: 'redacted_reasoning', data: 'QUJD' } },
  { type: 'block_stop', index: 0 },
  { type: 'block_start', index: 1, block: { type: 'reasoning' } },
  { type: 'reasoning_delta', index: 1, text: 'Hmm.' },
  { type: 'signature_delta', index: 1, signature: 'sig' },
  { type: 'block_stop', index: 1 },
  { type: 'block_start', index: 2, block: { type: 'text' } },
  { type: 'text_delta', index: 2, text: 'Calling.' },
  { type: 'block_stop', index: 2 },
  { type: 'block_start', index: 3, block: { type: 'tool_use', id: 'call_a', name: 'f', toolIndex: 0 } },
  { type: 'tool_input_delta', index: 3, toolIndex: 0, json: '{"x":' },
  { type: 'tool_input_delta', index: 3, toolIndex: 0, json: '1}' },
  { type: 'block_stop', index: 3 },
  { type: 'block_start', index: 4, block: { type: 'tool_use', id: 'call_b', name: 'g', toolIndex: 1 } },
  { type: 'tool_input_delta', index: 4, toolIndex: 1, json: '{}' },
  { type: 'block_stop', index: 4 },
  { type: 'usage', usage: { ...usage, outputTokens: 1 } },
  { type: 'finish', reason: 'tool_use' },
  { type: 'usage', usage },
];

describe('OpenAIChatChunkEncoder', () => {
  it('a text stream: the role chunk first, one chunk per delta, one finish chunk; no usage unless asked', () => {
    const chunks = encodeAll(TEXT);
    expect(deltas(chunks)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { content: 'Hel' }, finish: null },
      { delta: { content: 'lo' }, finish: null },
      { delta: {}, finish: 'stop' },
    ]);
    for (const c of chunks) {
      expect(c).toMatchObject({ id: 'chatcmpl-abc', object: 'chat.completion.chunk', created: 1_700_000_123, model: 'my-model' });
      expect(c.choices[0]).toMatchObject({ index: 0, logprobs: null });
    }
  });

  it('include_usage: the last usage event becomes one last chunk with choices []', () => {
    const chunks = encodeAll(EVERYTHING, true);
    expect(chunks.at(-1)).toEqual({
      id: 'chatcmpl-abc',
      object: 'chat.completion.chunk',
      created: 1_700_000_123,
      model: 'my-model',
      choices: [],
      usage: {
        prompt_tokens: 12,
        completion_tokens: 4,
        total_tokens: 16,
        prompt_tokens_details: { cached_tokens: 2 },
        completion_tokens_details: { reasoning_tokens: 1 },
      },
    });
    expect(chunks.filter((c) => c.choices.length === 0)).toHaveLength(1);
  });

  it('reasoning, its signature, text and tool calls: ids and names on the first tool delta only; redacted reasoning is not sent', () => {
    expect(deltas(encodeAll(EVERYTHING))).toEqual([
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { reasoning_content: 'Hmm.' }, finish: null },
      { delta: { reasoning_signature: 'sig' }, finish: null },
      { delta: { content: 'Calling.' }, finish: null },
      { delta: { tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '' } }] }, finish: null },
      { delta: { tool_calls: [{ index: 0, function: { arguments: '{"x":' } }] }, finish: null },
      { delta: { tool_calls: [{ index: 0, function: { arguments: '1}' } }] }, finish: null },
      { delta: { tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'g', arguments: '' } }] }, finish: null },
      { delta: { tool_calls: [{ index: 1, function: { arguments: '{}' } }] }, finish: null },
      { delta: {}, finish: 'tool_calls' },
    ]);
  });

  it('tool_calls are numbered by toolIndex, not by block index', () => {
    const chunks = encodeAll(EVERYTHING);
    expect(chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).map((t) => t.index)).toEqual([0, 0, 0, 1, 1]);
  });

  it('exactly one finish chunk, even if the events repeat it', () => {
    const chunks = encodeAll([...TEXT.slice(0, 6), { type: 'finish', reason: 'max_tokens' }]);
    expect(chunks.filter((c) => c.choices[0]?.finish_reason != null).map((c) => c.choices[0].finish_reason)).toEqual(['stop']);
  });

  it('the role chunk comes once, also when the first event has no OpenAI form, and end() alone opens the stream', () => {
    const encoder = new OpenAIChatChunkEncoder(meta, true);
    expect(encoder.encode({ type: 'message_start' })).toEqual([
      {
        id: 'chatcmpl-abc',
        object: 'chat.completion.chunk',
        created: 1_700_000_123,
        model: 'my-model',
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null }],
      },
    ]);
    expect(encoder.encode({ type: 'block_stop', index: 0 })).toEqual([]);
    expect(encoder.end()).toEqual([]); // no usage arrived: nothing to send
    expect(deltas(new OpenAIChatChunkEncoder(meta, false).end())).toEqual([{ delta: { role: 'assistant', content: '' }, finish: null }]);
  });

  it('each encoder has its own state', () => {
    const a = new OpenAIChatChunkEncoder(meta, false);
    const b = new OpenAIChatChunkEncoder({ ...meta, id: 'chatcmpl-other' }, false);
    a.encode({ type: 'message_start' });
    expect(b.encode({ type: 'text_delta', index: 0, text: 'x' }).map((c) => [c.id, c.choices[0].delta])).toEqual([
      ['chatcmpl-other', { role: 'assistant', content: '' }],
      ['chatcmpl-other', { content: 'x' }],
    ]);
  });
});

describe('encodeChatCompletion (the same events folded)', () => {
  it('a text answer', () => {
    expect(encodeChatCompletion(fold(TEXT), meta)).toEqual({
      id: 'chatcmpl-abc',
      object: 'chat.completion',
      created: 1_700_000_123,
      model: 'my-model',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello', refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: toOpenAIUsage(usage),
    });
  });

  it('reasoning with its signature, text, tool calls; content and tool calls match what the stream sent', () => {
    const completion = encodeChatCompletion(fold(EVERYTHING), meta);
    expect(completion.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: 'Calling.',
        refusal: null,
        reasoning_content: 'Hmm.',
        reasoning_signature: 'sig',
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
          { id: 'call_b', type: 'function', function: { name: 'g', arguments: '{}' } },
        ],
      },
      finish_reason: 'tool_calls',
      logprobs: null,
    });
    const streamed = encodeAll(EVERYTHING, true);
    const text = streamed.map((c) => c.choices[0]?.delta.content ?? '').join('');
    const args = streamed
      .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
      .reduce<string[]>((acc, t) => {
        acc[t.index] = (acc[t.index] ?? '') + t.function.arguments;
        return acc;
      }, []);
    expect(text).toBe(completion.choices[0].message.content);
    expect(args).toEqual(completion.choices[0].message.tool_calls!.map((t) => t.function.arguments));
    expect(streamed.at(-1)!.usage).toEqual(completion.usage);
  });

  it('content is null with only tool calls; an answer with no finish reads as stop', () => {
    const toolOnly = fold([
      { type: 'message_start' },
      { type: 'block_start', index: 0, block: { type: 'tool_use', id: 't', name: 'f', toolIndex: 0 } },
      { type: 'tool_input_delta', index: 0, toolIndex: 0, json: '{}' },
      { type: 'block_stop', index: 0 },
      { type: 'finish', reason: 'tool_use' },
    ]);
    expect(encodeChatCompletion(toolOnly, meta).choices[0].message.content).toBeNull();
    const unfinished = encodeChatCompletion(fold([{ type: 'message_start' }]), meta);
    expect(unfinished.choices[0]).toMatchObject({ message: { content: '' }, finish_reason: 'stop' });
    expect(unfinished.usage).toEqual(toOpenAIUsage(zeroUsage()));
  });
});

describe('OpenAI vocabularies', () => {
  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['content_filter', 'content_filter'],
    ['refusal', 'content_filter'],
    ['pause_turn', 'stop'],
  ] as const)('finish %s → %s', (reason: FinishReason, openai) => {
    expect(toOpenAIFinishReason(reason)).toBe(openai);
  });

  it('usage: cached input counts inside prompt_tokens; cache writes are reported only when there were some', () => {
    expect(toOpenAIUsage({ inputTokens: 10, outputTokens: 4, cacheReadTokens: 2048, cacheWriteTokens: 512, reasoningTokens: 0 })).toEqual({
      prompt_tokens: 10 + 2048 + 512,
      completion_tokens: 4,
      total_tokens: 10 + 2048 + 512 + 4,
      prompt_tokens_details: { cached_tokens: 2048, cache_write_tokens: 512 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    expect(toOpenAIUsage(zeroUsage()).prompt_tokens_details).toEqual({ cached_tokens: 0 });
  });
});
