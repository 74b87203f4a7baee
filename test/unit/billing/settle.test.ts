import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { admit } from '../../../lambdas/core/billing/admission.js';
import { settle, type UsageRecord } from '../../../lambdas/core/billing/settle.js';
import { formatMoney, money, moneyAttr, type Money } from '../../../lambdas/core/money.js';
import { getThread, listThreads } from '../../../lambdas/core/records/threads.js';
import { listStats } from '../../../lambdas/core/records/stats.js';
import { currentDay } from '../../../lambdas/core/clock.js';
import { createKey, getKeyByHash, getKeyById, leaseAttribute, leaseOf, type ApiKey } from '../../../lambdas/core/store/keys.js';
import type { Model } from '../../../lambdas/core/store/models.js';
import { nextId } from '../../../lambdas/core/store/counters.js';
import { db, tableName } from '../../../lambdas/core/store/table.js';
import { itemKeys } from '../../../lambdas/core/store/table-keys.js';
import { ensureTable } from '../../../local/table.js';

const model: Model = {
  id: 7,
  name: 'settle-model',
  groupId: null,
  multiple: false,
  provider: 'bedrock-converse',
  config: {},
  priceIn: money('3'),
  priceOut: money('15'),
  priceCacheRead: undefined,
  priceCacheWrite: undefined,
  free: false,
  createdAt: '',
  updatedAt: '',
};

function record(key: ApiKey, requestId: string, reserved: Money = 0n): UsageRecord {
  return {
    requestId,
    kind: 'chat',
    keyId: key.id,
    key,
    model,
    prompt: 'p',
    completion: 'c',
    reasoning: '',
    toolCalls: [],
    finishReason: 'stop',
    usage: { inputTokens: 11, outputTokens: 7, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
    status: 'ok',
    error: null,
    firstByteLatency: 1,
    totalLatency: 2,
    reservation: { keyId: key.id, requestId, amount: reserved },
  };
}

beforeAll(async () => {
  await ensureTable(process.env.TABLE_NAME!);
});

describe('settle', () => {
  it('charges a request id exactly once, however often settlement is retried', async () => {
    const { key } = await createKey({ name: 'once', role: 'user', monthQuota: money('1') });
    const first = await settle(record(key, 'req-once'));
    const again = await settle(record(key, 'req-once'));
    expect(formatMoney(first.fee)).toBe('0.000138');
    expect(again.threadId).toBe(first.threadId);
    const after = (await getKeyById(key.id))!;
    expect(formatMoney(after.totalFee)).toBe('0.000138');
    expect(formatMoney(after.monthFee)).toBe('0.000138');
    const threads = await listThreads({ keyId: key.id, offset: 0, limit: 10 });
    expect(threads.total).toBe(1);
    expect(threads.items.map((t) => t.id)).toEqual([first.threadId]);
  });

  it('100 concurrent settlements of 0.000138 add up to exactly 0.0138, split quota-then-balance, reservations released', async () => {
    const { key } = await createKey({ name: 'many', role: 'user', monthQuota: money('0.01'), balance: money('1') });
    const estimate = money('0.0002');
    const reservations = await Promise.all(Array.from({ length: 100 }, (_, i) => admit(key, estimate, `req-many-${i}`)));
    expect(formatMoney((await getKeyById(key.id))!.reserved)).toBe('0.02');
    await Promise.all(reservations.map((r, i) => settle(record(key, `req-many-${i}`, r.amount))));
    const after = (await getKeyById(key.id))!;
    expect(formatMoney(after.totalFee)).toBe('0.0138');
    expect(formatMoney(after.monthFee)).toBe('0.01');
    expect(formatMoney(after.balance)).toBe('0.9962');
    expect(after.reserved).toBe(0n);
    const stat = (await listStats({ from: currentDay(), to: currentDay() })).find((s) => s.keyId === key.id)!;
    expect(stat.requests).toBe(100);
    expect(formatMoney(stat.fee)).toBe('0.0138');
    expect((await listThreads({ keyId: key.id, offset: 0, limit: 1 })).total).toBe(100);
  });

  it('admissions are not refused while settlements of the same key land (plenty of headroom)', async () => {
    const { key } = await createKey({ name: 'busy', role: 'user', monthQuota: money('0.001'), balance: money('10') });
    const estimate = money('0.0002');
    const first = await Promise.all(Array.from({ length: 60 }, (_, i) => admit(key, estimate, `req-busy-${i}`)));
    // 60 settlements (crossing the quota into the balance) race 60 new admissions that all read the stale key.
    const results = await Promise.allSettled([
      ...first.map((r, i) => settle(record(key, `req-busy-${i}`, r.amount))),
      ...Array.from({ length: 60 }, (_, i) => admit(key, estimate, `req-busy-more-${i}`)),
    ]);
    expect(results.filter((r) => r.status === 'rejected').map((r) => String(r.reason))).toEqual([]);
    const after = (await getKeyById(key.id))!;
    expect(formatMoney(after.reserved)).toBe('0.012'); // the 60 new ones still held
    expect(formatMoney(after.totalFee)).toBe('0.00828');
    expect(formatMoney(after.monthFee)).toBe('0.001');
    expect(formatMoney(after.balance)).toBe('9.99272');
  });

  it('a charge or an admission based on a key read before other charges landed goes through at the first attempt', async () => {
    const { key: stale } = await createKey({ name: 'stale', role: 'user', monthQuota: money('0.01'), balance: money('1') });
    await settle(record(stale, 'req-stale-0'));
    await settle(record(stale, 'req-stale-1'));
    const calls: string[] = [];
    const send = db().send.bind(db());
    const spy = vi.spyOn(db(), 'send').mockImplementation(((command: object, ...rest: unknown[]) => {
      calls.push(command.constructor.name);
      return (send as (...a: unknown[]) => unknown)(command, ...rest);
    }) as never);
    try {
      await settle(record(stale, 'req-stale-2')); // month_fee moved since `stale` was read
      await admit(stale, money('0.0002'), 'req-stale-admit');
    } finally {
      spy.mockRestore();
    }
    expect(calls.filter((c) => c === 'TransactWriteCommand')).toHaveLength(1);
    // One admission, and the thread-id counter only when this instance's block of ids ran out (store/counters.ts).
    expect(calls.filter((c) => c === 'UpdateCommand').length).toBeGreaterThanOrEqual(1);
    expect(calls.filter((c) => c === 'UpdateCommand').length).toBeLessThanOrEqual(2);
    const after = (await getKeyById(stale.id))!;
    expect(formatMoney(after.totalFee)).toBe('0.000414');
    expect(formatMoney(after.reserved)).toBe('0.0002');
  });
});

/** Runs `fn` while the store refuses the settlement transaction of `requestId` (a server error). */
async function whileTransactionFails<T>(requestId: string, fn: () => Promise<T>): Promise<T> {
  const client = db();
  const original = client.send.bind(client);
  const spy = vi.spyOn(client, 'send').mockImplementation(((cmd: { constructor: { name: string }; input: unknown }, ...rest: []) => {
    if (cmd.constructor.name === 'TransactWriteCommand' && JSON.stringify(cmd.input).includes(`CHARGE#${requestId}`)) {
      return Promise.reject(Object.assign(new Error('injected'), { name: 'InternalServerError' }));
    }
    return original(cmd as never, ...rest);
  }) as typeof client.send);
  try {
    return await fn();
  } finally {
    spy.mockRestore();
  }
}

describe('settlement failures', () => {
  it("a failed settlement keeps the call's lease; its retry charges and releases exactly once", async () => {
    const { key } = await createKey({ name: 'fails', role: 'user', monthQuota: money('1') });
    const reservation = await admit(key, money('0.05'), 'req-fails');
    expect((await getKeyById(key.id))!.reserved).toBe(money('0.05'));
    await expect(whileTransactionFails('req-fails', () => settle({ ...record(key, 'req-fails'), reservation }))).rejects.toThrow(
      'injected',
    );
    // Nothing charged, and the reservation still held by its lease (a deferred retry will settle it).
    const held = (await getKeyById(key.id))!;
    expect(held.reserved).toBe(money('0.05'));
    expect(leaseOf(held, 'req-fails')).toBeDefined();
    expect(held.totalFee).toBe(0n);

    // The retry: charged once, lease released once; a further retry changes nothing.
    await settle({ ...record(held, 'req-fails'), reservation });
    await settle({ ...record(held, 'req-fails'), reservation });
    const settled = (await getKeyById(key.id))!;
    expect(settled.reserved).toBe(0n);
    expect(settled.leases.size).toBe(0);
    expect(formatMoney(settled.totalFee)).toBe('0.000138');
  });

  it('with its thread id fixed up front, a settlement whose transaction failed after its thread landed leaves one thread, charged once', async () => {
    const { key } = await createKey({ name: 'fixed-id', role: 'user', monthQuota: money('1') });
    const reservation = await admit(key, money('0.05'), 'req-fixed');
    const threadId = await nextId('thread');
    await expect(whileTransactionFails('req-fixed', () => settle({ ...record(key, 'req-fixed'), reservation, threadId }))).rejects.toThrow(
      'injected',
    );
    // The thread is on record (its write is beside the transaction); the money is not charged yet.
    expect((await getThread(threadId))?.requestId).toBe('req-fixed');
    expect((await getKeyById(key.id))!.totalFee).toBe(0n);

    const held = (await getKeyById(key.id))!;
    for (let i = 0; i < 2; i++) expect((await settle({ ...record(held, 'req-fixed'), reservation, threadId })).threadId).toBe(threadId);
    const threads = await listThreads({ keyId: key.id, offset: 0, limit: 10 });
    expect(threads.items.map((t) => t.id)).toEqual([threadId]);
    expect(threads.total).toBe(1);
    const settled = (await getKeyById(key.id))!;
    expect(formatMoney(settled.totalFee)).toBe('0.000138');
    expect(settled.leases.size).toBe(0);
  });

  it('a thread write that fails while the transaction still runs fails the settlement (to be retried), and nothing crashes', async () => {
    const { key } = await createKey({ name: 'early-put', role: 'user', monthQuota: money('1') });
    const reservation = await admit(key, money('0.05'), 'req-early-put');
    const threadId = await nextId('thread');
    const client = db();
    const original = client.send.bind(client);
    // Replaced by hand, not with vi.spyOn: a spy attaches its own handlers to the promises it returns (to record how
    // they settled), which would hide the very unhandled rejection this test is about.
    type Send = (cmd: { constructor: { name: string }; input: unknown }, ...rest: []) => Promise<unknown>;
    const patched = client as unknown as { send: Send };
    patched.send = (cmd, ...rest) => {
      const body = JSON.stringify(cmd.input);
      if (cmd.constructor.name === 'PutCommand' && body.includes('req-early-put')) {
        return Promise.reject(Object.assign(new Error('thread write refused'), { name: 'ProvisionedThroughputExceededException' }));
      }
      if (cmd.constructor.name === 'TransactWriteCommand' && body.includes('CHARGE#req-early-put')) {
        // The transaction is slow: the thread's failure arrives while it runs.
        return new Promise((r) => setTimeout(r, 50)).then(() => original(cmd as never, ...rest));
      }
      return original(cmd as never, ...rest);
    };
    // In Lambda an unhandled rejection ends the process (here the test runner would only note it): watch for one.
    const unhandled: unknown[] = [];
    const watch = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', watch);
    try {
      await expect(settle({ ...record(key, 'req-early-put'), reservation, threadId })).rejects.toThrow('thread write refused');
    } finally {
      // The prototype's send again (the replacement was an own property).
      delete (client as unknown as { send?: Send }).send;
      expect(typeof client.send).toBe('function');
      process.off('unhandledRejection', watch);
    }
    expect(unhandled).toEqual([]);
    // The retry finds the charge made and writes the thread: one thread, charged once.
    const held = (await getKeyById(key.id))!;
    expect(formatMoney(held.totalFee)).toBe('0.000138');
    await settle({ ...record(held, 'req-early-put'), reservation, threadId });
    expect((await listThreads({ keyId: key.id, offset: 0, limit: 10 })).items.map((t) => t.id)).toEqual([threadId]);
    expect(formatMoney((await getKeyById(key.id))!.totalFee)).toBe('0.000138');
  });
});

describe('lease layout', () => {
  it('a lease is a short attribute (l# and 12 characters), not named by the whole request id', async () => {
    const { key } = await createKey({ name: 'short-lease', role: 'user', monthQuota: money('1') });
    const requestId = `req-${'x'.repeat(60)}`;
    await admit(key, money('0.05'), requestId);
    const raw = await db().send(new GetCommand({ TableName: tableName(), Key: itemKeys.apiKey(key.hash), ConsistentRead: true }));
    const names = Object.keys(raw.Item ?? {}).filter((n) => n.startsWith('l#') || n.startsWith('lease#'));
    expect(names).toEqual([leaseAttribute(requestId)]);
    expect(names[0]).toMatch(/^l#[A-Za-z0-9_-]{12}$/);
  });

  it('a lease written in the earlier layout (lease#<request id>) is still found, settled and released once', async () => {
    const { key } = await createKey({ name: 'legacy-lease', role: 'user', monthQuota: money('1') });
    const requestId = 'req-legacy-lease';
    // What an admission of the previous release left on the item.
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: itemKeys.apiKey(key.hash),
        UpdateExpression: 'SET #l = :l ADD reserved :a, inflight :one, rev :one',
        ExpressionAttributeNames: { '#l': `lease#${requestId}` },
        ExpressionAttributeValues: {
          ':l': { a: moneyAttr(money('0.05')), t: Math.floor(Date.now() / 1000) },
          ':a': moneyAttr(money('0.05')),
          ':one': 1,
        },
      }),
    );
    const held = (await getKeyByHash(key.hash))!;
    expect(leaseOf(held, requestId)?.amount).toBe(money('0.05'));
    const reservation = { keyId: key.id, requestId, amount: money('0.05'), leased: true };
    await settle({ ...record(held, requestId), reservation });
    await settle({ ...record(held, requestId), reservation });
    const settled = (await getKeyById(key.id))!;
    expect(settled.leases.size).toBe(0);
    expect(settled.reserved).toBe(0n);
    expect(settled.parallel).toBe(0);
    expect(formatMoney(settled.totalFee)).toBe('0.000138');
  });
});
