import { beforeAll, describe, expect, it } from 'vitest';
import { appendTurn, loadTurns, MAX_STORED_CHARS, resetChat } from '../../../lambdas/core/feishu/chat-memory.js';
import { tableName } from '../../../lambdas/core/store/table.js';
import { ensureTable } from '../../../local/table.js';

beforeAll(async () => {
  await ensureTable(tableName());
});

let n = 0;
const chat = () => `oc_mem_${process.pid}_${++n}`;
const HOUR = 3600_000;

describe('chat memory', () => {
  it('returns the last N exchanges, oldest first', async () => {
    const c = chat();
    const t0 = Date.now() - 10_000;
    for (let i = 0; i < 5; i++)
      await appendTurn(1, c, { messageId: `om_${i}`, user: `q${i}`, assistant: `a${i}` }, { windowMs: HOUR }, t0 + i);
    const turns = await loadTurns(1, c, { maxTurns: 3, windowMs: HOUR });
    expect(turns.map((t) => [t.user, t.assistant])).toEqual([
      ['q2', 'a2'],
      ['q3', 'a3'],
      ['q4', 'a4'],
    ]);
    expect(await loadTurns(2, c, { maxTurns: 3, windowMs: HOUR })).toEqual([]); // per bot
    expect(await loadTurns(1, c, { maxTurns: 0, windowMs: HOUR })).toEqual([]);
  });

  it('forgets exchanges outside the time window', async () => {
    const c = chat();
    const now = Date.now();
    await appendTurn(1, c, { messageId: 'om_old', user: 'old', assistant: 'x' }, { windowMs: HOUR }, now - 2 * HOUR);
    await appendTurn(1, c, { messageId: 'om_new', user: 'new', assistant: 'y' }, { windowMs: HOUR }, now - 1000);
    expect((await loadTurns(1, c, { maxTurns: 10, windowMs: HOUR }, now)).map((t) => t.user)).toEqual(['new']);
  });

  it('reset starts over: earlier exchanges are ignored, later ones count', async () => {
    const c = chat();
    const now = Date.now();
    await appendTurn(1, c, { messageId: 'om_a', user: 'before', assistant: 'x' }, { windowMs: HOUR }, now - 2000);
    await resetChat(1, c, now - 1000);
    expect(await loadTurns(1, c, { maxTurns: 10, windowMs: HOUR }, now)).toEqual([]);
    await appendTurn(1, c, { messageId: 'om_b', user: 'after', assistant: 'y' }, { windowMs: HOUR }, now - 500);
    expect((await loadTurns(1, c, { maxTurns: 10, windowMs: HOUR }, now)).map((t) => t.user)).toEqual(['after']);
  });

  it('caps what it stores', async () => {
    const c = chat();
    await appendTurn(1, c, { messageId: 'om_big', user: 'u'.repeat(MAX_STORED_CHARS + 10), assistant: 'a' }, { windowMs: HOUR });
    const [t] = await loadTurns(1, c, { maxTurns: 1, windowMs: HOUR });
    expect(t.user.length).toBe(MAX_STORED_CHARS + 1);
  });
});
