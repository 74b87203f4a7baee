import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { currentMonth, now } from '../clock.js';
import { errors } from '../errors.js';
import { moneyAttr, type Money } from '../money.js';
import { type ApiKey, fromItem, getKeyById, leaseAttribute } from '../store/keys.js';
import { db, fromWireItem, isConditionFailure, tableName } from '../store/table.js';
import { itemKeys } from '../store/table-keys.js';
import { MAX_CALL_SECONDS } from '../topology.js';
import { spendable } from './allowance.js';

/**
 * Burst-safe admission with leases. A user key's request is admitted only while the money held by in-flight
 * requests (`reserved`) is below what the key may spend; admission adds the request's estimate to `reserved` and
 * records a lease (`lease#<request id>` = amount, time) in one conditional update. Settlement (or release) removes
 * the lease and gives its amount back in the same write as the charge.
 *
 * A call that dies (Lambda timeout, crash, kill) never settles: its lease expires LEASE_SECONDS after admission
 * (longer than any function may run) and the next admission of the key sweeps expired leases in its own update,
 * conditioned on their still being there, so a crashed call cannot lock a key out and no amount is given back
 * twice. However many requests race, the key overspends by at most one request's estimate.
 */
export interface Reservation {
  keyId: number;
  /** The lease's name: the request id. */
  requestId: string;
  amount: Money;
}

/** A lease older than this belongs to a call that can no longer be running. */
export const LEASE_SECONDS = MAX_CALL_SECONDS + 60;

const MAX_ATTEMPTS = 25;
/** Expired leases one admission sweeps at most (a key rarely has more; the rest go with the next). */
const MAX_SWEEP = 20;

export async function admit(key: ApiKey, estimate: Money, requestId: string): Promise<Reservation> {
  if (key.role === 'admin') return { keyId: key.id, requestId, amount: 0n }; // costed and recorded, never refused
  let current: ApiKey | undefined = key;
  for (let attempt = 0; attempt < MAX_ATTEMPTS && current; attempt++) {
    const month = currentMonth();
    const limit = spendable(current, month);
    const nowS = Math.floor(now().getTime() / 1000);
    const expired = [...current.leases].filter(([, l]) => l.at < nowS - LEASE_SECONDS).slice(0, MAX_SWEEP);
    const swept = expired.reduce((sum, [, l]) => sum + l.amount, 0n);
    const reserved = current.reserved - swept;
    if (reserved >= limit) throw errors.insufficientQuota();
    // Slack: concurrent settlements keep raising month_fee / lowering balance. Instead of pinning their exact values
    // (which made every settlement landing meanwhile fail this update, and a busy key ran out of attempts and got
    // a false 429), tolerate a move of up to `s` in each and ask `reserved` to stay below limit − 2s. Since
    // spendable now ≥ limit − 2s, the admission rule (reserved < spendable) still holds exactly; with a quarter of
    // the headroom as slack a busy key with room to spare is admitted at once, and near the edge s → 0.
    const s = (limit - reserved) / 4n;
    const names: Record<string, string> = { '#lease': leaseAttribute(requestId) };
    const sweep = expired.map(([rid], i) => {
      names[`#x${i}`] = leaseAttribute(rid);
      return `#x${i}`;
    });
    try {
      await db().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: itemKeys.apiKey(current.hash),
          UpdateExpression: `SET #lease = :lease ADD reserved :delta, rev :one${sweep.length ? ` REMOVE ${sweep.join(', ')}` : ''}`,
          ConditionExpression: [
            'fee_month = :fm AND month_quota = :q AND month_fee <= :mfMax AND balance >= :bMin',
            '(attribute_not_exists(reserved) OR reserved < :limit)',
            'attribute_not_exists(#lease)',
            ...sweep.map((n) => `attribute_exists(${n})`),
          ].join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':lease': { a: moneyAttr(estimate), t: nowS },
            ':delta': moneyAttr(estimate - swept),
            ':one': 1,
            ':fm': current.feeMonth,
            ':mfMax': moneyAttr(current.monthFee + s),
            ':bMin': moneyAttr(current.balance - s),
            ':q': moneyAttr(current.monthQuota),
            // reserved − swept < limit − 2s, with the swept leases' amounts still inside `reserved`.
            ':limit': moneyAttr(limit - 2n * s + swept),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { keyId: current.id, requestId, amount: estimate };
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const old = (e as { Item?: Record<string, never> }).Item;
      // The item is gone (deleted or reset meanwhile): follow the id, or refuse as an unknown key.
      current = old ? fromItem(fromWireItem(old)) : await getKeyById(current.id);
      if (!current) throw errors.invalidApiKey();
      // Our own earlier attempt landed (its response was lost and the SDK retried): the request is admitted.
      if (current.leases.has(requestId)) return { keyId: current.id, requestId, amount: current.leases.get(requestId)!.amount };
      if (attempt > 3) await jitter(attempt);
    }
  }
  throw errors.insufficientQuota('Could not reserve quota for this request under heavy contention; retry shortly.');
}

function jitter(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 10 * attempt)));
}
