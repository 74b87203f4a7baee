import { describe, expect, it } from 'vitest';
import type { ChatEvent } from '../../../../lambdas/core/chat/events.js';
import { GatewayError } from '../../../../lambdas/core/errors.js';
import { mapBedrockError } from '../../../../lambdas/core/providers/bedrock-errors.js';
import { claudeMessageEvents } from '../../../../lambdas/core/providers/bedrock-anthropic/map-response.js';
import { ClaudeStreamState } from '../../../../lambdas/core/providers/bedrock-anthropic/stream-state.js';
import { messageSchema } from '../../../../lambdas/core/providers/bedrock-anthropic/wire-types.js';
import { zeroUsage } from '../../../../lambdas/core/usage.js';
import { checkEvents, expectWellFormedEvents } from '../../../support/check-events.js';
import { FAILING, FIXTURES, fold, loadAnthropicEvents, replay } from './fixtures.js';

const lastUsage = (events: ChatEvent[]) => events.filter((e) => e.type === 'usage').at(-1);

describe('ClaudeStreamState on recorded-style InvokeModelWithResponseStream fixtures', () => {
  it('covers every fixture file', () => {
    expect(FIXTURES).toEqual(
      expect.arrayContaining([
        'text',
        'tool-use',
        'parallel-tools',
        'thinking-signature',
        'redacted-thinking',
        'max-tokens',
        'refusal',
        'cache-usage',
        'mid-stream-exception',
      ]),
    );
  });

  it.each(FIXTURES)('%s: the events keep the core guarantees', (name) => {
    const { events, error } = replay(name);
    expect(checkEvents(events, { complete: !FAILING.has(name) })).toEqual([]);
    expect(error === undefined).toBe(!FAILING.has(name));
  });

  it('text: message_start with Claude’s id, one text block, the stop reason, usage as it grows', () => {
    const { events } = replay('text');
    expect(events).toEqual([
      { type: 'message_start', upstreamId: 'msg_bdrk_01TEXT' },
      { type: 'usage', usage: { ...zeroUsage(), inputTokens: 25, outputTokens: 1 } },
      { type: 'block_start', index: 0, block: { type: 'text' } },
      { type: 'text_delta', index: 0, text: 'Hello' },
      { type: 'text_delta', index: 0, text: ', world.' },
      { type: 'block_stop', index: 0 },
      { type: 'finish', reason: 'end_turn' },
      { type: 'usage', usage: { ...zeroUsage(), inputTokens: 25, outputTokens: 12 } },
      { type: 'usage', usage: { ...zeroUsage(), inputTokens: 25, outputTokens: 12 } },
    ]);
  });

  it('tool use: numbered calls, input as JSON fragments (an empty first fragment dropped)', () => {
    const { events, result } = replay('tool-use');
    expect(events.filter((e) => e.type === 'tool_input_delta')).toEqual([
      { type: 'tool_input_delta', index: 1, toolIndex: 0, json: '{"city": ' },
      { type: 'tool_input_delta', index: 1, toolIndex: 0, json: '"Paris"}' },
    ]);
    expect(result.toolCalls).toEqual([{ id: 'toolu_bdrk_01A', name: 'get_weather', arguments: '{"city": "Paris"}' }]);
    expect(result.finishReason).toBe('tool_use');
  });

  it('parallel tools: dense tool indexes from 0', () => {
    const { result } = replay('parallel-tools');
    expect(result.blocks.map((b) => (b.type === 'tool_use' ? [b.toolIndex, b.name, JSON.parse(b.json)] : b.type))).toEqual([
      [0, 'get_weather', { city: 'Paris' }],
      [1, 'get_time', { tz: 'CET' }],
    ]);
  });

  it('thinking: a block marked signed, its text and signature exactly as Claude sent them', () => {
    const { events, result } = replay('thinking-signature');
    expect(events.find((e) => e.type === 'block_start')).toEqual({
      type: 'block_start',
      index: 0,
      block: { type: 'reasoning', signed: true },
    });
    expect(result.blocks[0]).toEqual({
      type: 'reasoning',
      text: 'The user greets me. Reply briefly.',
      signature: 'EqQBCkgIARABGAIiQL0sigFromClaude==',
    });
    expect(result.text).toBe('Hi there!');
  });

  it('redacted thinking: its opaque data on the block start, then the blocks after it', () => {
    const { result } = replay('redacted-thinking');
    expect(result.blocks.map((b) => b.type)).toEqual(['redacted_reasoning', 'reasoning', 'text']);
    expect(result.blocks[0]).toMatchObject({ data: expect.stringMatching(/^EmwKAhgB/) });
  });

  it('max_tokens, refusal and stop_sequence map to the neutral reasons (with the stop sequence)', () => {
    expect(replay('max-tokens').result.finishReason).toBe('max_tokens');
    expect(replay('refusal').result.finishReason).toBe('refusal');
    expect(replay('stop-sequence').result).toMatchObject({ finishReason: 'stop_sequence', stopSequence: 'END' });
  });

  it('cache usage on message_start and again in the invocation metrics is counted once', () => {
    const { events } = replay('cache-usage');
    expect(lastUsage(events)).toEqual({
      type: 'usage',
      usage: { inputTokens: 12, outputTokens: 9, cacheReadTokens: 2048, cacheWriteTokens: 512, reasoningTokens: 0 },
    });
  });

  it('cache usage only in the invocation metrics (message_stop) is taken from there', () => {
    expect(lastUsage(replay('cache-usage-in-metrics').events)).toEqual({
      type: 'usage',
      usage: { inputTokens: 12, outputTokens: 9, cacheReadTokens: 4096, cacheWriteTokens: 128, reasoningTokens: 0 },
    });
  });

  it('server-side blocks (web search) have no core form: skipped, the rest numbered densely', () => {
    const { events, result } = replay('server-tool-skipped');
    expectWellFormedEvents(events);
    // the text block's citation of the search result passes through as Claude sent it
    expect(result.blocks).toEqual([
      { type: 'text', text: 'Found nothing.', citations: [{ type: 'web_search_result_location', url: 'https://example.com' }] },
    ]);
    expect(result.toolCalls).toEqual([]);
  });

  it('a mid-stream exception frame: the text so far, then a GatewayError (502) from the one Bedrock error map', () => {
    const { events, error } = replay('mid-stream-exception');
    expect(fold(events).text).toBe('Partial an');
    const mapped = mapBedrockError(error);
    expect(mapped).toMatchObject({ status: 502, code: 'upstream_error' });
  });

  it('a stream cut off before the stop reason is a 502 upstream_stream_incomplete, never a made-up end_turn', () => {
    const { error } = replay('truncated');
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 502, code: 'upstream_stream_incomplete' });
  });

  it('an Anthropic error event inside the stream maps like the Bedrock exception it stands for', () => {
    const state = new ClaudeStreamState();
    state.next({ type: 'message_start', message: { id: 'm', content: [] } });
    expect(() => state.next({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })).toThrow(
      expect.objectContaining({ status: 503, kind: 'overloaded' }),
    );
  });

  it('a chunk that is not JSON is a 502; an event type from the future is skipped', () => {
    const state = new ClaudeStreamState();
    expect(state.nextChunk(new TextEncoder().encode('{"type":"brand_new_event","x":1}'))).toEqual([{ type: 'message_start' }]);
    expect(() => state.nextChunk(new TextEncoder().encode('{not json'))).toThrow(expect.objectContaining({ status: 502 }));
  });
});

describe('claudeMessageEvents: a non-streaming answer replayed as the events its stream would have produced', () => {
  it.each(FIXTURES.filter((n) => !FAILING.has(n)))('%s: the same fold as the stream', (name) => {
    // Build the InvokeModel response the stream adds up to, the way Anthropic's SDK accumulates a stream.
    const message = accumulate(loadAnthropicEvents(name));
    const events = claudeMessageEvents(messageSchema.parse(message.body), message.metrics);
    expectWellFormedEvents(events);
    const streamed = replay(name).result;
    const replayed = fold(events);
    expect(replayed.blocks).toEqual(
      streamed.blocks.map((b) => (b.type === 'tool_use' ? { ...b, json: JSON.stringify(JSON.parse(b.json || '{}')) } : b)),
    );
    expect([replayed.finishReason, replayed.stopSequence, replayed.usage]).toEqual([
      streamed.finishReason,
      streamed.stopSequence,
      streamed.usage,
    ]);
    expect(replayed.upstreamId).toBe(streamed.upstreamId);
  });
});

describe('citations', () => {
  const citation = { type: 'char_location', cited_text: 'x', document_index: 0, start_char_index: 0, end_char_index: 1 };

  it('a non-streaming cited text block folds to its text and citations; an uncited one has none', () => {
    const message = messageSchema.parse({
      content: [
        { type: 'text', text: 'cited', citations: [citation] },
        { type: 'text', text: 'plain' },
      ],
      stop_reason: 'end_turn',
    });
    const result = fold(claudeMessageEvents(message));
    expect(result.blocks).toEqual([
      { type: 'text', text: 'cited', citations: [citation] },
      { type: 'text', text: 'plain' },
    ]);
  });

  it('a streamed citations_delta becomes a citation_delta of its block', () => {
    const state = new ClaudeStreamState();
    const events = [
      { type: 'message_start', message: { content: [] } },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '', citations: [] } },
      { type: 'content_block_delta', index: 0, delta: { type: 'citations_delta', citation } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'a' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'end_turn' } },
    ].flatMap((e) => state.nextChunk(new TextEncoder().encode(JSON.stringify(e))));
    expect(events).toContainEqual({ type: 'block_start', index: 0, block: { type: 'text', cited: true } });
    expect(fold(events).blocks).toEqual([{ type: 'text', text: 'a', citations: [citation] }]);
  });
});

type Ev = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- fixture JSON

function accumulate(events: Ev[]): { body: Ev; metrics: Ev | undefined } {
  let message: Ev = {};
  let metrics: Ev | undefined;
  const json: Record<number, string> = {};
  for (const e of events) {
    if (e['amazon-bedrock-invocationMetrics']) metrics = e['amazon-bedrock-invocationMetrics'];
    if (e.type === 'message_start') message = structuredClone(e.message);
    else if (e.type === 'content_block_start') message.content[e.index] = structuredClone(e.content_block);
    else if (e.type === 'content_block_delta') {
      const b = message.content[e.index];
      if (e.delta.type === 'text_delta') b.text += e.delta.text;
      if (e.delta.type === 'citations_delta') (b.citations ??= []).push(e.delta.citation);
      if (e.delta.type === 'thinking_delta') b.thinking += e.delta.thinking;
      if (e.delta.type === 'signature_delta') b.signature += e.delta.signature;
      if (e.delta.type === 'input_json_delta') json[e.index] = (json[e.index] ?? '') + e.delta.partial_json;
    } else if (e.type === 'content_block_stop' && json[e.index] !== undefined) message.content[e.index].input = JSON.parse(json[e.index]);
    else if (e.type === 'message_delta') {
      message.stop_reason = e.delta.stop_reason;
      message.stop_sequence = e.delta.stop_sequence;
      message.usage = { ...message.usage, ...e.usage };
    }
  }
  return { body: message, metrics };
}
