/** The event-stream checker (test/support/check-events.ts) must catch every broken guarantee, or it proves nothing. */
import { describe, expect, it } from 'vitest';
import type { ChatEvent } from '../../../lambdas/core/chat/events.js';
import { errors } from '../../../lambdas/core/errors.js';
import { zeroUsage } from '../../../lambdas/core/usage.js';
import { checkEvents } from '../../support/check-events.js';

const start: ChatEvent = { type: 'message_start' };
const text = (index: number): ChatEvent[] => [
  { type: 'block_start', index, block: { type: 'text' } },
  { type: 'text_delta', index, text: 'x' },
  { type: 'block_stop', index },
];
const tool = (index: number, toolIndex: number): ChatEvent[] => [
  { type: 'block_start', index, block: { type: 'tool_use', id: `t${toolIndex}`, name: 'f', toolIndex } },
  { type: 'tool_input_delta', index, toolIndex, json: '{}' },
  { type: 'block_stop', index },
];
const finish: ChatEvent = { type: 'finish', reason: 'end_turn' };
const usage: ChatEvent = { type: 'usage', usage: zeroUsage() };

describe('checkEvents', () => {
  it('accepts a well-formed stream, with usage before and after the finish', () => {
    expect(checkEvents([start, usage, ...text(0), ...tool(1, 0), ...text(2), ...tool(3, 1), finish, usage])).toEqual([]);
    expect(checkEvents([start, finish])).toEqual([]);
  });

  it.each<[string, ChatEvent[], RegExp]>([
    ['message_start missing', [...text(0), finish], /first event must be message_start/],
    ['message_start twice', [start, start, finish], /message_start must be the first event/],
    ['a delta before its block starts', [start, { type: 'text_delta', index: 0, text: 'x' }, finish], /block 0 is not open/],
    [
      'a delta after its block stops',
      [start, ...text(0), { type: 'text_delta', index: 0, text: 'x' }, finish],
      /block 0 is already closed/,
    ],
    ['a block closed twice', [start, ...text(0), { type: 'block_stop', index: 0 }, finish], /closed twice/],
    ['a block never closed', [start, { type: 'block_start', index: 0, block: { type: 'text' } }], /never closed/],
    [
      'a block open at finish',
      [start, { type: 'block_start', index: 0, block: { type: 'text' } }, finish, { type: 'block_stop', index: 0 }],
      /still open/,
    ],
    ['block indexes with a gap', [start, ...text(0), ...text(2), finish], /block index 2, expected 1/],
    ['block indexes not from 0', [start, ...text(1), finish], /block index 1, expected 0/],
    ['a block index reused', [start, ...text(0), ...text(0), finish], /started twice/],
    ['toolIndex counting all blocks', [start, ...text(0), ...tool(1, 1), finish], /toolIndex 1, expected 0/],
    ['toolIndex repeated', [start, ...tool(0, 0), ...tool(1, 0), finish], /toolIndex 0, expected 1/],
    [
      'a tool delta with another toolIndex',
      [
        start,
        { type: 'block_start', index: 0, block: { type: 'tool_use', id: 't', name: 'f', toolIndex: 0 } },
        { type: 'tool_input_delta', index: 0, toolIndex: 3, json: '' },
        { type: 'block_stop', index: 0 },
        finish,
      ],
      /toolIndex 3 on block 0/,
    ],
    [
      'a delta of the wrong kind',
      [
        start,
        { type: 'block_start', index: 0, block: { type: 'text' } },
        { type: 'reasoning_delta', index: 0, text: 'r' },
        { type: 'block_stop', index: 0 },
        finish,
      ],
      /reasoning_delta for a text block/,
    ],
    ['no finish', [start, ...text(0)], /finish came 0 times/],
    ['two finishes', [start, finish, finish], /a second finish/],
    ['a block after the finish', [start, finish, ...text(0)], /starts after finish/],
    ['an event after an error', [start, { type: 'error', error: errors.internal() }, usage], /after an error/],
  ])('refuses %s', (_, events, problem) => {
    const problems = checkEvents(events);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toMatch(problem);
  });

  it('a stream cut short (complete: false) may end with an open block and no finish, but keeps the other rules', () => {
    const cut: ChatEvent[] = [
      start,
      { type: 'block_start', index: 0, block: { type: 'text' } },
      { type: 'text_delta', index: 0, text: 'par' },
    ];
    expect(checkEvents(cut, { complete: false })).toEqual([]);
    expect(checkEvents(cut)).not.toEqual([]);
    expect(checkEvents([start, ...text(1)], { complete: false }).join()).toMatch(/expected 0/);
  });

  it("the pipeline's final error event ends a stream without a finish", () => {
    expect(
      checkEvents([start, { type: 'block_start', index: 0, block: { type: 'text' } }, { type: 'error', error: errors.internal() }]),
    ).toEqual([]);
  });
});
