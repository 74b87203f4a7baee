/**
 * The guarantees every chat provider gives about its event stream (lambdas/core/chat/events.ts), as a reusable
 * check: run it on whatever a provider (or a replayed fixture) produced.
 *
 * - `message_start` comes first, exactly once.
 * - A block is opened by `block_start` before any of its deltas, and closed by exactly one `block_stop`; nothing
 *   refers to a block after it is closed.
 * - Block indexes are dense from 0, in the order blocks start; `toolIndex` is dense from 0 among tool blocks only,
 *   and a tool block's input deltas carry its toolIndex.
 * - Each delta matches its block's kind (text → text, reasoning/signature → reasoning, tool input → tool_use).
 * - `finish` comes once, after every block is closed; no block starts or receives a delta after it. `usage` may
 *   come anywhere after `message_start`, any number of times.
 * - `error` (only the pipeline emits one) is the last event.
 *
 * A stream that failed (the provider's iterator threw after these events) is checked with `complete: false`: the
 * same ordering rules, but blocks may still be open and there is no finish.
 */
import { expect } from 'vitest';
import type { BlockKind, ChatEvent } from '../../lambdas/core/chat/events.js';

export interface CheckEventsOptions {
  /** The stream ended normally (default). false: it was cut short by a failure after these events. */
  complete?: boolean;
}

const DELTA_BLOCK: Record<'text_delta' | 'reasoning_delta' | 'signature_delta' | 'tool_input_delta', BlockKind['type']> = {
  text_delta: 'text',
  reasoning_delta: 'reasoning',
  signature_delta: 'reasoning',
  tool_input_delta: 'tool_use',
};

/** Every way `events` breaks the stream guarantees, as readable sentences; [] when it is well-formed. */
export function checkEvents(events: readonly ChatEvent[], opts: CheckEventsOptions = {}): string[] {
  const complete = opts.complete ?? true;
  const problems: string[] = [];
  const open = new Map<number, BlockKind>();
  const closed = new Set<number>();
  let nextIndex = 0;
  let nextToolIndex = 0;
  let starts = 0;
  let finishes = 0;
  let errored = false;

  events.forEach((ev, i) => {
    const at = `event ${i} (${ev.type})`;
    if (i === 0 && ev.type !== 'message_start') problems.push(`${at}: the first event must be message_start`);
    if (errored) problems.push(`${at}: comes after an error event`);
    switch (ev.type) {
      case 'message_start':
        starts += 1;
        if (i !== 0) problems.push(`${at}: message_start must be the first event`);
        break;
      case 'block_start': {
        if (finishes > 0) problems.push(`${at}: block ${ev.index} starts after finish`);
        if (open.has(ev.index) || closed.has(ev.index)) problems.push(`${at}: block ${ev.index} is started twice`);
        else if (ev.index !== nextIndex)
          problems.push(`${at}: block index ${ev.index}, expected ${nextIndex} (dense from 0, in start order)`);
        nextIndex = Math.max(nextIndex, ev.index + 1);
        if (ev.block.type === 'tool_use') {
          if (ev.block.toolIndex !== nextToolIndex) {
            problems.push(`${at}: toolIndex ${ev.block.toolIndex}, expected ${nextToolIndex} (dense from 0 among tool blocks)`);
          }
          nextToolIndex = Math.max(nextToolIndex, ev.block.toolIndex + 1);
        }
        open.set(ev.index, ev.block);
        break;
      }
      case 'text_delta':
      case 'reasoning_delta':
      case 'signature_delta':
      case 'tool_input_delta': {
        if (finishes > 0) problems.push(`${at}: delta after finish`);
        const block = open.get(ev.index);
        if (!block) {
          problems.push(`${at}: block ${ev.index} is ${closed.has(ev.index) ? 'already closed' : 'not open'}`);
          break;
        }
        if (block.type !== DELTA_BLOCK[ev.type]) problems.push(`${at}: a ${ev.type} for a ${block.type} block (${ev.index})`);
        else if (ev.type === 'tool_input_delta' && block.type === 'tool_use' && ev.toolIndex !== block.toolIndex) {
          problems.push(`${at}: toolIndex ${ev.toolIndex} on block ${ev.index}, which is tool ${block.toolIndex}`);
        }
        break;
      }
      case 'block_stop':
        if (!open.has(ev.index)) {
          problems.push(`${at}: block ${ev.index} is ${closed.has(ev.index) ? 'closed twice' : 'closed before it was started'}`);
        }
        open.delete(ev.index);
        closed.add(ev.index);
        break;
      case 'finish':
        finishes += 1;
        if (finishes > 1) problems.push(`${at}: a second finish`);
        if (open.size > 0) problems.push(`${at}: blocks ${[...open.keys()].join(', ')} are still open`);
        break;
      case 'usage':
        break;
      case 'error':
        errored = true;
        break;
    }
  });

  if (starts !== 1) problems.push(`message_start came ${starts} times, expected once`);
  if (complete && !errored) {
    if (open.size > 0) problems.push(`blocks ${[...open.keys()].join(', ')} were never closed`);
    if (finishes !== 1) problems.push(`finish came ${finishes} times, expected exactly once`);
  }
  return problems;
}

/** Fails the test with every violation listed. */
export function expectWellFormedEvents(events: readonly ChatEvent[], opts: CheckEventsOptions = {}): void {
  expect(checkEvents(events, opts)).toEqual([]);
}
