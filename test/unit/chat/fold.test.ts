import { describe, expect, it } from 'vitest';
import type { ChatEvent } from '../../../lambdas/core/chat/events.js';
import { ChatFold, foldEvents } from '../../../lambdas/core/chat/fold.js';
import { errors } from '../../../lambdas/core/errors.js';
import { zeroUsage } from '../../../lambdas/core/usage.js';

const usage = (inputTokens: number, outputTokens: number) => ({ ...zeroUsage(), inputTokens, outputTokens });

/** A typical answer: reasoning with a signature, text in two blocks around two tool calls, usage after finish. */
const ANSWER: ChatEvent[] = [
  { type: 'message_start', upstreamId: 'msg_1' },
  { type: 'block_start', index: 0, block: { type: 'reasoning' } },
  { type: 'reasoning_delta', index: 0, text: 'Think ' },
  { type: 'reasoning_delta', index: 0, text: 'first.' },
  { type: 'signature_delta', index: 0, signature: 'sig-' },
  { type: 'signature_delta', index: 0, signature: 'A' },
  { type: 'block_stop', index: 0 },
  { type: 'block_start', index: 1, block: { type: 'text' } },
  { type: 'text_delta', index: 1, text: 'Checking ' },
  { type: 'block_stop', index: 1 },
  { type: 'block_start', index: 2, block: { type: 'tool_use', id: 'call_1', name: 'weather', toolIndex: 0 } },
  { type: 'tool_input_delta', index: 2, toolIndex: 0, json: '{"city":' },
  { type: 'tool_input_delta', index: 2, toolIndex: 0, json: '"Paris"}' },
  { type: 'block_stop', index: 2 },
  { type: 'block_start', index: 3, block: { type: 'tool_use', id: 'call_2', name: 'weather', toolIndex: 1 } },
  { type: 'tool_input_delta', index: 3, toolIndex: 1, json: '{}' },
  { type: 'block_stop', index: 3 },
  { type: 'block_start', index: 4, block: { type: 'text' } },
  { type: 'text_delta', index: 4, text: 'both.' },
  { type: 'block_stop', index: 4 },
  { type: 'finish', reason: 'tool_use' },
  { type: 'usage', usage: usage(10, 20) },
];

async function* stream(events: ChatEvent[], failAfter?: Error) {
  for (const ev of events) {
    await Promise.resolve();
    yield ev;
  }
  if (failAfter) throw failAfter;
}

const folded = (events: ChatEvent[]) => {
  const f = new ChatFold();
  for (const ev of events) f.add(ev);
  return f.result();
};

describe('ChatFold', () => {
  it('folds blocks in order: text joined, reasoning joined with its signature, tool calls with their streamed JSON', () => {
    expect(folded(ANSWER)).toEqual({
      blocks: [
        { type: 'reasoning', text: 'Think first.', signature: 'sig-A' },
        { type: 'text', text: 'Checking ' },
        { type: 'tool_use', id: 'call_1', name: 'weather', toolIndex: 0, json: '{"city":"Paris"}' },
        { type: 'tool_use', id: 'call_2', name: 'weather', toolIndex: 1, json: '{}' },
        { type: 'text', text: 'both.' },
      ],
      text: 'Checking both.',
      reasoning: 'Think first.',
      toolCalls: [
        { id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}' },
        { id: 'call_2', name: 'weather', arguments: '{}' },
      ],
      finishReason: 'tool_use',
      usage: usage(10, 20),
      upstreamId: 'msg_1',
      usageReported: true,
    });
  });

  it('an empty answer: no blocks, no finish, zero usage, nothing reported', () => {
    expect(folded([{ type: 'message_start' }])).toEqual({
      blocks: [],
      text: '',
      reasoning: '',
      toolCalls: [],
      finishReason: null,
      usage: zeroUsage(),
      usageReported: false,
    });
  });

  it('the partial answer is available at any point (a stream cut short)', () => {
    const f = new ChatFold();
    for (const ev of ANSWER.slice(0, 13)) f.add(ev);
    expect(f.result()).toMatchObject({
      text: 'Checking ',
      reasoning: 'Think first.',
      toolCalls: [{ id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}' }],
      finishReason: null,
      usageReported: false,
    });
    for (const ev of ANSWER.slice(13)) f.add(ev);
    expect(f.result().text).toBe('Checking both.');
  });

  it('a result is a snapshot: later events and edits to it do not leak into each other', () => {
    const f = new ChatFold();
    for (const ev of ANSWER.slice(0, 10)) f.add(ev);
    const early = f.result();
    (early.blocks[1] as { text: string }).text = 'edited';
    early.usage.inputTokens = 999;
    for (const ev of ANSWER.slice(10)) f.add(ev);
    const late = f.result();
    expect(early.text).toBe('Checking ');
    expect(late.blocks[1]).toEqual({ type: 'text', text: 'Checking ' });
    expect(late.usage.inputTokens).toBe(10);
  });

  it('the last usage counts (usage carries cumulative totals)', () => {
    const r = folded([
      { type: 'message_start' },
      { type: 'usage', usage: usage(5, 1) },
      { type: 'finish', reason: 'end_turn' },
      { type: 'usage', usage: usage(5, 9) },
    ]);
    expect(r.usage).toEqual(usage(5, 9));
    expect(r.usageReported).toBe(true);
  });

  it('the first finish counts, with its stop sequence', () => {
    const r = folded([
      { type: 'message_start' },
      { type: 'finish', reason: 'stop_sequence', stopSequence: 'END' },
      { type: 'finish', reason: 'max_tokens' },
    ]);
    expect(r).toMatchObject({ finishReason: 'stop_sequence', stopSequence: 'END' });
    expect(folded([{ type: 'message_start' }, { type: 'finish', reason: 'end_turn' }])).not.toHaveProperty('stopSequence');
  });

  it('redacted reasoning is kept as a block but adds no reasoning text', () => {
    const r = folded([
      { type: 'message_start' },
      { type: 'block_start', index: 0, block: { type: 'redacted_reasoning', data: 'QUJD' } },
      { type: 'block_stop', index: 0 },
    ]);
    expect(r.blocks).toEqual([{ type: 'redacted_reasoning', data: 'QUJD' }]);
    expect(r.reasoning).toBe('');
  });

  it('ignores deltas for unknown blocks and deltas of the wrong kind', () => {
    const r = folded([
      { type: 'message_start' },
      { type: 'block_start', index: 0, block: { type: 'text' } },
      { type: 'text_delta', index: 7, text: 'nowhere' },
      { type: 'reasoning_delta', index: 0, text: 'not reasoning' },
      { type: 'tool_input_delta', index: 0, toolIndex: 0, json: '{}' },
      { type: 'signature_delta', index: 0, signature: 's' },
      { type: 'text_delta', index: 0, text: 'kept' },
    ]);
    expect(r.blocks).toEqual([{ type: 'text', text: 'kept' }]);
    expect(r).toMatchObject({ text: 'kept', reasoning: '', toolCalls: [] });
  });

  it('keys deltas by the event index, not by position', () => {
    const r = folded([
      { type: 'message_start' },
      { type: 'block_start', index: 0, block: { type: 'text' } },
      { type: 'block_start', index: 1, block: { type: 'text' } },
      { type: 'text_delta', index: 1, text: 'B' },
      { type: 'text_delta', index: 0, text: 'A' },
    ]);
    expect(r.blocks).toEqual([
      { type: 'text', text: 'A' },
      { type: 'text', text: 'B' },
    ]);
    expect(r.text).toBe('AB');
  });
});

describe('foldEvents', () => {
  it('folds a whole stream (the non-streaming path)', async () => {
    expect(await foldEvents(stream(ANSWER))).toEqual(folded(ANSWER));
  });

  it('a failure thrown by the stream propagates', async () => {
    const failure = errors.badRequest('nope');
    await expect(foldEvents(stream(ANSWER.slice(0, 5), failure))).rejects.toBe(failure);
  });

  it("an error event (the pipeline's) is thrown as its error", async () => {
    const failure = errors.internal();
    await expect(foldEvents(stream([...ANSWER.slice(0, 3), { type: 'error', error: failure }]))).rejects.toBe(failure);
  });
});
