import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { currentMonth } from '../clock.js';
import { moneyAttr, type Money } from '../money.js';
import { errors } from '../errors.js';
import { type ApiKey, fromItem, getKeyById, getKeyHashById } from '../store/keys.js';
import { itemKeys } from '../store/table-keys.js';
import { db, isConditionFailure, tableName } from '../store/table.js';
import { spendable } from './allowance.js';

/**
 * Burst-safe admission. A user key's request is admitted only while the money held by in-flight requests
 * (`reserved`) is below what the key may spend; admission adds the request's estimate to `reserved` in one
 * conditional update. Concurrent admissions only touch `reserved`, so they do not conflict with one another;
 * a concurrent settlement changes month_fee/balance and makes us re-check with the fresh item. However many
 * requests race, the key overspends by at most one request's estimate.
 */
export interface Reservation {
  keyId: number;
  amount: Money;
}

const MAX_ATTEMPTS = 25;

export async function admit(key: ApiKey, estimate: Money): Promise<Reservation> {
  if (key.role === 'admin') return { keyId: key.id, amount: 0n }; // costed and recorded, never refused
  let current: ApiKey | undefined = key;
  for (let attempt = 0; attempt < MAX_ATTEMPTS && current; attempt++) {
    const month = currentMonth();
    const limit = spendable(current, month);
    if (current.reserved >= limit) throw errors.insufficientQuota();
    // Slack: concurrent settlements keep raising month_fee / lowering balance. Instead of pinning their exact values
    // (which made every settlement landing meanwhile fail this update, and a busy key ran out of attempts and got
    // a false 429), tolerate a move of up to `s` in each and ask `reserved` to stay below limit − 2s. Since
    // spendable now ≥ limit − 2s, the admission rule (reserved < spendable) still holds exactly; with a quarter of
    // the headroom as slack a busy key with room to spare is admitted at once, and near the edge s → 0.
    const s = (limit - current.reserved) / 4n;
    try {
      await db().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: itemKeys.apiKey(current.hash),
          UpdateExpression: 'ADD reserved :e, rev :one',
          ConditionExpression:
            'fee_month = :fm AND month_quota = :q AND month_fee <= :mfMax AND balance >= :bMin AND (attribute_not_exists(reserved) OR reserved < :limit)',
          ExpressionAttributeValues: {
            ':e': moneyAttr(estimate),
            ':one': 1,
            ':fm': current.feeMonth,
            ':mfMax': moneyAttr(current.monthFee + s),
            ':bMin': moneyAttr(current.balance - s),
            ':q': moneyAttr(current.monthQuota),
            ':limit': moneyAttr(limit - 2n * s),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { keyId: current.id, amount: estimate };
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const old = (e as { Item?: Record<string, unknown> }).Item;
      // The item is gone (deleted or reset meanwhile): follow the id, or refuse as an unknown key.
      current = old ? fromItem(unwrap(old)) : await getKeyById(current.id);
      if (!current) throw errors.invalidApiKey();
      if (attempt > 3) await jitter(attempt);
    }
  }
  throw errors.insufficientQuota('Could not reserve quota for this request under heavy contention; retry shortly.');
}

/** Gives back a reservation that will not be settled (the call failed before any usage). */
export async function release(r: Reservation): Promise<void> {
  if (r.amount === 0n) return;
  const hash = await getKeyHashById(r.keyId);
  if (!hash) return;
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: itemKeys.apiKey(hash),
        UpdateExpression: 'ADD reserved :neg, rev :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':neg': moneyAttr(-r.amount), ':one': 1 },
      }),
    );
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
  }
}

/** ReturnValuesOnConditionCheckFailure items arrive in wire form ({S:..},{N:..}). */
export function unwrap(item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) {
    const av = v as Record<string, unknown>;
    if (av && typeof av === 'object' && !Array.isArray(av) && Object.keys(av).length === 1) {
      const [t, val] = Object.entries(av)[0];
      if (t === 'S') out[k] = val;
      else if (t === 'N')
        out[k] = val; // money parses decimal strings exactly
      else if (t === 'NULL') out[k] = null;
      else if (t === 'BOOL') out[k] = val;
      else out[k] = v;
    } else out[k] = v;
  }
  return out;
}

function jitter(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 10 * attempt)));
}
