import type { Money } from '../money.js';
import { type ApiKey, currentMonthFee } from '../store/keys.js';

/**
 * The money model of a key. month_fee counts up to month_quota within one UTC month; what a charge does not fit
 * into the quota comes out of balance; total_fee grows forever. A stored month_fee from an earlier month counts
 * as zero (lazy reset: no cron, and the first request of a month starts from nothing).
 */
export interface Split {
  monthFee: Money;
  balance: Money;
}

/** How a charge of `fee` lands on the key, given its state now. */
export function applyCharge(key: ApiKey, fee: Money, month: string): Split {
  const used = key.feeMonth === month ? key.monthFee : 0n;
  const room = key.monthQuota > used ? key.monthQuota - used : 0n;
  const fromQuota = fee < room ? fee : room;
  return { monthFee: used + fromQuota, balance: key.balance - (fee - fromQuota) };
}

/** What the key may still spend: unused quota plus balance, less what in-flight requests hold. */
export function headroom(key: ApiKey, month: string): Money {
  const used = currentMonthFee(key, month);
  const room = key.monthQuota > used ? key.monthQuota - used : 0n;
  return room + key.balance - key.reserved;
}

/** Before reservations: the ceiling `reserved` must stay under for a new request to be admitted. */
export function spendable(key: ApiKey, month: string): Money {
  const used = currentMonthFee(key, month);
  const room = key.monthQuota > used ? key.monthQuota - used : 0n;
  return room + key.balance;
}
