/**
 * admitKey() on a key recalled from this instance's memory (store/key-cache.ts): its write is the confirmation.
 * Against DynamoDB Local: confirmed when the item and its terms are as remembered (even when the remembered money is
 * stale), left unconfirmed and refused — so the caller starts over on a read — when the item is
 * gone or its terms changed, and never written through to another item.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { admit, admitKey } from '../../../lambdas/core/billing/admission.js';
import { money } from '../../../lambdas/core/money.js';
import { isUnconfirmed, recallKey, rememberKey } from '../../../lambdas/core/store/key-cache.js';
import { createKey, getKeyById, leaseOf, resetKey, updateKey, type ApiKey } from '../../../lambdas/core/store/keys.js';
import { ensureTable } from '../../../local/table.js';

beforeAll(async () => {
  await ensureTable(process.env.TABLE_NAME!);
});

async function recalled(name: string, tweak: (k: ApiKey) => ApiKey = (k) => k): Promise<{ id: number; copy: ApiKey }> {
  const { key } = await createKey({ name, role: 'user', monthQuota: money('1') });
  rememberKey(tweak(key));
  const copy = recallKey(key.hash)!;
  expect(isUnconfirmed(copy)).toBe(true);
  return { id: key.id, copy };
}

describe('admitKey on a recalled key', () => {
  it('as remembered: one write confirms it and reserves the call', async () => {
    const { id, copy } = await recalled('recalled-fresh');
    const { reservation, key } = await admitKey(copy, money('0.01'), 'req-recalled-fresh');
    expect(isUnconfirmed(copy)).toBe(false);
    expect(reservation.leased).toBe(true);
    expect(key.id).toBe(id);
    const stored = (await getKeyById(id))!;
    expect(stored.reserved).toBe(money('0.01'));
    expect(leaseOf(stored, 'req-recalled-fresh')).toBeDefined();
  });

  it('remembered with stale money (an older fee month): the failed condition reads the item, which confirms it; admitted', async () => {
    const { id, copy } = await recalled('recalled-stale', (k) => ({ ...k, feeMonth: '2000-01', monthFee: money('0.5') }));
    const { key } = await admitKey(copy, money('0.01'), 'req-recalled-stale');
    expect(isUnconfirmed(copy)).toBe(false);
    expect(key.id).toBe(id);
    expect(leaseOf((await getKeyById(id))!, 'req-recalled-stale')).toBeDefined();
  });

  it('its terms changed since (disabled): refused, still unconfirmed, nothing written', async () => {
    const { id, copy } = await recalled('recalled-disabled');
    await updateKey(id, { status: 'disabled' });
    await expect(admitKey(copy, money('0.01'), 'req-recalled-disabled')).rejects.toMatchObject({ status: 401 });
    expect(isUnconfirmed(copy)).toBe(true);
    const now = (await getKeyById(id))!;
    expect(now.reserved).toBe(0n);
    expect(now.leases.size).toBe(0);
  });

  it('reset since (the item moved to a new hash): refused, and the new item is not written', async () => {
    const { id, copy } = await recalled('recalled-reset');
    await resetKey(id);
    await expect(admitKey(copy, money('0.01'), 'req-recalled-reset')).rejects.toMatchObject({ status: 401 });
    expect(isUnconfirmed(copy)).toBe(true);
    expect((await getKeyById(id))!.leases.size).toBe(0);
  });

  it('its own write landed (reply lost, SDK retried) and the terms changed just after: admitted once, on that lease', async () => {
    const { id, copy } = await recalled('recalled-landed');
    await admit((await getKeyById(id))!, money('0.02'), 'req-recalled-landed'); // the write that landed
    await updateKey(id, { name: 'renamed-after' });
    const { reservation } = await admitKey(copy, money('0.02'), 'req-recalled-landed');
    expect(isUnconfirmed(copy)).toBe(false);
    expect(reservation.amount).toBe(money('0.02'));
    const now = (await getKeyById(id))!;
    expect(now.reserved).toBe(money('0.02'));
    expect(now.leases.size).toBe(1);
  });

  it('a recalled copy is a copy: confirming one leaves the next recall unconfirmed', async () => {
    const { copy } = await recalled('recalled-twice');
    await admitKey(copy, money('0.01'), 'req-recalled-twice');
    const again = recallKey(copy.hash)!;
    expect(again).not.toBe(copy);
    expect(isUnconfirmed(again)).toBe(true);
  });
});
