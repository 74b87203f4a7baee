/**
 * The Anthropic encoder on core events from both providers' recorded-style fixtures: Claude's own stream
 * (test/fixtures/anthropic, through ClaudeStreamState) and Converse streams of other models (test/fixtures/converse,
 * through ConverseStreamState). On every scenario the SSE follows Anthropic's wire rules, and the stream, added up
 * the way Anthropic's SDK adds it up, is exactly the non-streaming message of the same events.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import type { ChatEvent } from '../../../../lambdas/core/chat/events.js';
import { ConverseStreamState } from '../../../../lambdas/core/providers/bedrock-converse/stream-state.js';
import { zeroUsage } from '../../../../lambdas/core/usage.js';
import {
  AnthropicStreamEncoder,
  encodeAnthropicMessage,
  type MessageMeta,
} from '../../../../lambdas/core/wire/anthropic-messages/encode.js';
import type { Message, StreamEvent } from '../../../../lambdas/core/wire/anthropic-messages/types.js';
import {
  FAILING as CLAUDE_FAILING,
  FIXTURES as CLAUDE_FIXTURES,
  fold,
  replay as replayClaude,
} from '../../providers/bedrock-anthropic/fixtures.js';

const META: MessageMeta = { id: 'msg_gateway_1', model: 'claude-sonnet' };
const CONVERSE_DIR = new URL('../../../fixtures/converse/', import.meta.url);
const CONVERSE_FIXTURES = readdirSync(CONVERSE_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5))
  .sort();
const CONVERSE_FAILING = new Set(['missing-message-stop']);

function converseEvents(name: string): { events: ChatEvent[]; failed: boolean } {
  const state = new ConverseStreamState();
  const events: ChatEvent[] = [];
  try {
    for (const e of JSON.parse(readFileSync(new URL(`${name}.json`, CONVERSE_DIR), 'utf8')) as ConverseStreamOutput[])
      events.push(...state.next(e));
    events.push(...state.end());
    return { events, failed: false };
  } catch {
    return { events, failed: true };
  }
}

/** What the route sends: the encoded events, then (if the call ended well) the closing message_delta and message_stop. */
function encode(events: ChatEvent[], complete: boolean): StreamEvent[] {
  const encoder = new AnthropicStreamEncoder(META);
  const out = events.flatMap((e) => encoder.encode(e));
  return complete ? [...out, ...encoder.end()] : out;
}

/** Anthropic's wire rules (REFERENCE §5) as sentences; [] when the stream follows them. */
function wireProblems(stream: StreamEvent[], complete: boolean): string[] {
  const problems: string[] = [];
  if (stream[0]?.type !== 'message_start') problems.push('the first event is not message_start');
  if (stream[1]?.type !== 'ping') problems.push('no ping right after message_start');
  const open = new Map<number, string>();
  const signed = new Set<number>();
  let next = 0;
  let delta = 0;
  stream.forEach((e, i) => {
    const at = `event ${i} (${e.type})`;
    if (e.type === 'message_start' && i !== 0) problems.push(`${at}: a second message_start`);
    if (delta > 0 && e.type !== 'message_stop') problems.push(`${at}: after message_delta`);
    if (e.type === 'content_block_start') {
      if (e.index !== next++) problems.push(`${at}: index ${e.index} is not dense`);
      open.set(e.index, e.content_block.type);
    } else if (e.type === 'content_block_delta') {
      const kind = open.get(e.index);
      const expected = {
        text_delta: 'text',
        citations_delta: 'text',
        thinking_delta: 'thinking',
        signature_delta: 'thinking',
        input_json_delta: 'tool_use',
      }[e.delta.type];
      if (kind !== expected) problems.push(`${at}: a ${e.delta.type} for a ${kind ?? 'closed'} block`);
      if (e.delta.type === 'signature_delta' && e.delta.signature) signed.add(e.index);
    } else if (e.type === 'content_block_stop') {
      if (open.get(e.index) === 'thinking' && !signed.has(e.index)) problems.push(`${at}: a thinking block without a signature`);
      if (!open.delete(e.index)) problems.push(`${at}: block ${e.index} is not open`);
    } else if (e.type === 'message_delta') {
      delta++;
      if (open.size > 0) problems.push(`${at}: blocks still open`);
    }
  });
  if (complete) {
    if (delta !== 1) problems.push(`message_delta came ${delta} times`);
    if (stream.at(-1)?.type !== 'message_stop') problems.push('the last event is not message_stop');
  } else if (stream.some((e) => e.type === 'message_stop' || e.type === 'message_delta'))
    problems.push('a failed stream closes like a good one');
  return problems;
}

/** The stream added up as @anthropic-ai/sdk's MessageStream does (finalMessage()). */
function accumulate(stream: StreamEvent[]): Message {
  let message: Message | undefined;
  const json = new Map<number, string>();
  for (const e of stream) {
    if (e.type === 'message_start') message = structuredClone(e.message);
    else if (e.type === 'content_block_start') message!.content.push(structuredClone(e.content_block));
    else if (e.type === 'content_block_delta') {
      const b = message!.content[e.index];
      if (e.delta.type === 'text_delta' && b.type === 'text') b.text += e.delta.text;
      else if (e.delta.type === 'citations_delta' && b.type === 'text') (b.citations ??= []).push(e.delta.citation);
      else if (e.delta.type === 'thinking_delta' && b.type === 'thinking') b.thinking += e.delta.thinking;
      else if (e.delta.type === 'signature_delta' && b.type === 'thinking') b.signature = e.delta.signature;
      else if (e.delta.type === 'input_json_delta' && b.type === 'tool_use')
        json.set(e.index, (json.get(e.index) ?? '') + e.delta.partial_json);
    } else if (e.type === 'content_block_stop') {
      const b = message!.content[e.index];
      if (b.type === 'tool_use' && json.has(e.index)) b.input = JSON.parse(json.get(e.index)!);
    } else if (e.type === 'message_delta') {
      message!.stop_reason = e.delta.stop_reason;
      message!.stop_sequence = e.delta.stop_sequence;
      message!.usage = { ...message!.usage, ...e.usage };
    }
  }
  return message!;
}

const scenarios: Array<[string, () => { events: ChatEvent[]; complete: boolean }]> = [
  ...CLAUDE_FIXTURES.map((n): [string, () => { events: ChatEvent[]; complete: boolean }] => [
    `anthropic/${n}`,
    () => ({ events: replayClaude(n).events, complete: !CLAUDE_FAILING.has(n) }),
  ]),
  ...CONVERSE_FIXTURES.map((n): [string, () => { events: ChatEvent[]; complete: boolean }] => [
    `converse/${n}`,
    () => {
      const r = converseEvents(n);
      expect(r.failed).toBe(CONVERSE_FAILING.has(n));
      return { events: r.events, complete: !r.failed };
    },
  ]),
];

describe('AnthropicStreamEncoder on every fixture', () => {
  it.each(scenarios)('%s: Anthropic’s wire rules hold', (_name, load) => {
    const { events, complete } = load();
    expect(wireProblems(encode(events, complete), complete)).toEqual([]);
  });

  it.each(
    scenarios.filter(
      ([name]) => !CLAUDE_FAILING.has(name.slice('anthropic/'.length)) && !CONVERSE_FAILING.has(name.slice('converse/'.length)),
    ),
  )('%s: the stream adds up to exactly the non-stream message', (_name, load) => {
    const { events } = load();
    expect(accumulate(encode(events, true))).toEqual(encodeAnthropicMessage(fold(events), META));
  });
});

describe('what Anthropic clients see', () => {
  const claude = (name: string) => encode(replayClaude(name).events, true);

  it('Claude’s message id and input usage are in message_start; the final usage, cache included, on message_delta', () => {
    const stream = claude('cache-usage');
    expect(stream[0]).toEqual({
      type: 'message_start',
      message: {
        id: 'msg_bdrk_01CACHE',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 12, output_tokens: 1, cache_creation_input_tokens: 512, cache_read_input_tokens: 2048 },
      },
    });
    expect(stream.at(-2)).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 12, output_tokens: 9, cache_creation_input_tokens: 512, cache_read_input_tokens: 2048 },
    });
  });

  it('Converse usage (known only at the end) is all on message_delta; the gateway’s id stands in for a missing upstream one', () => {
    const stream = encode(converseEvents('cache-usage').events, true);
    expect(stream[0]).toMatchObject({ message: { id: 'msg_gateway_1', usage: { input_tokens: 0, output_tokens: 0 } } });
    expect(stream.at(-2)).toMatchObject({
      usage: { input_tokens: 10, output_tokens: 4, cache_read_input_tokens: 2048, cache_creation_input_tokens: 512 },
    });
  });

  it('thinking streams live when the provider marks it signed: start, thinking_delta…, signature_delta, stop', () => {
    const stream = claude('thinking-signature');
    expect(stream.slice(2, 7)).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'The user greets me. ' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Reply briefly.' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'EqQBCkgIARABGAIiQL0sigFromClaude==' } },
      { type: 'content_block_stop', index: 0 },
    ]);
  });

  it('reasoning not known to be signed is held to its end, shown if a signature came, and left out if none did', () => {
    const reasoning = (signature?: string): ChatEvent[] => [
      { type: 'message_start' },
      { type: 'block_start', index: 0, block: { type: 'reasoning' } },
      { type: 'reasoning_delta', index: 0, text: 'thinking…' },
      ...(signature ? [{ type: 'signature_delta' as const, index: 0, signature }] : []),
      { type: 'block_stop', index: 0 },
      { type: 'block_start', index: 1, block: { type: 'text' } },
      { type: 'text_delta', index: 1, text: 'answer' },
      { type: 'block_stop', index: 1 },
      { type: 'finish', reason: 'end_turn' },
      { type: 'usage', usage: zeroUsage() },
    ];
    const signed = accumulate(encode(reasoning('SIG'), true));
    expect(signed.content).toEqual([
      { type: 'thinking', thinking: 'thinking…', signature: 'SIG' },
      { type: 'text', text: 'answer' },
    ]);
    const unsigned = encode(reasoning(), true);
    expect(wireProblems(unsigned, true)).toEqual([]);
    expect(accumulate(unsigned).content).toEqual([{ type: 'text', text: 'answer' }]); // index 0 is the text now
    expect(encodeAnthropicMessage(fold(reasoning()), META).content).toEqual([{ type: 'text', text: 'answer' }]);
  });

  it('redacted thinking, tools, max_tokens, refusal and stop sequences in Anthropic’s words', () => {
    expect(accumulate(claude('redacted-thinking')).content[0]).toMatchObject({
      type: 'redacted_thinking',
      data: expect.stringMatching(/^EmwK/),
    });
    expect(accumulate(claude('parallel-tools')).content).toEqual([
      { type: 'tool_use', id: 'toolu_bdrk_01P1', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'toolu_bdrk_01P2', name: 'get_time', input: { tz: 'CET' } },
    ]);
    expect(accumulate(claude('parallel-tools')).stop_reason).toBe('tool_use');
    expect(accumulate(claude('max-tokens')).stop_reason).toBe('max_tokens');
    expect(accumulate(claude('refusal')).stop_reason).toBe('refusal');
    expect(accumulate(claude('stop-sequence'))).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'END' });
    // A guardrail that stopped another model is a refusal to an Anthropic client.
    expect(accumulate(encode(converseEvents('guardrail-intervened').events, true)).stop_reason).toBe('refusal');
  });

  it('flush(): a held message_start goes out when asked (the keep-alive asks), once', () => {
    const encoder = new AnthropicStreamEncoder(META);
    expect(encoder.flush()).toEqual([]);
    expect(encoder.encode({ type: 'message_start' })).toEqual([]);
    expect(encoder.flush().map((e) => e.type)).toEqual(['message_start', 'ping']);
    expect(encoder.flush()).toEqual([]);
    expect(encoder.encode({ type: 'block_start', index: 0, block: { type: 'text' } }).map((e) => e.type)).toEqual(['content_block_start']);
  });

  it('a failed stream ends where it failed: no message_delta, no message_stop (the route adds `event: error`)', () => {
    const stream = encode(replayClaude('mid-stream-exception').events, false);
    expect(stream.map((e) => e.type)).toEqual(['message_start', 'ping', 'content_block_start', 'content_block_delta']);
  });
});
