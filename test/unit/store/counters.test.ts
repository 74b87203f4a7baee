import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { nextId } from '../../../lambdas/core/store/counters.js';
import { itemKeys } from '../../../lambdas/core/store/table-keys.js';
import { db, tableName } from '../../../lambdas/core/store/table.js';
import { ensureTable } from '../../../local/table.js';

const stored = async (name: 'thread' | 'group') =>
  Number((await db().send(new GetCommand({ TableName: tableName(), Key: itemKeys.counter(name), ConsistentRead: true }))).Item?.value ?? 0);

beforeAll(async () => {
  await ensureTable(tableName());
});

describe('nextId', () => {
  it('thread ids come from a block per instance: unique and consecutive under concurrency, one counter write per 16', async () => {
    const before = await stored('thread');
    const ids = await Promise.all(Array.from({ length: 40 }, () => nextId('thread')));
    expect(new Set(ids).size).toBe(40);
    const sorted = [...ids].sort((a, b) => a - b);
    expect(sorted[39] - sorted[0]).toBe(39); // no gap inside one instance
    expect(sorted[0]).toBeGreaterThan(before);
    // 40 ids took three blocks of 16: the counter moved by 48, not 40.
    expect((await stored('thread')) - before).toBe(48);
  });

  it('another instance (a fresh counter read) never gets an id this one handed out', async () => {
    const mine = await Promise.all(Array.from({ length: 5 }, () => nextId('thread')));
    const counter = await stored('thread');
    expect(Math.max(...mine)).toBeLessThanOrEqual(counter);
  });

  it('other entities take one id at a time', async () => {
    const before = await stored('group');
    const [a, b] = [await nextId('group'), await nextId('group')];
    expect(b).toBe(a + 1);
    expect(await stored('group')).toBe(before + 2);
  });
});
