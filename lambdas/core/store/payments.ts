import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { errors } from '../errors.js';
import { formatMoney, MAX_AMOUNT, money, moneyAttr, type Money } from '../money.js';
import { nextId } from './counters.js';
import { type ApiKey, fromItem as keyFromItem, getKeyByHash, requireKeyById } from './keys.js';
import { cancellationCodes, db, fromWireItem, nowIso, queryAll, tableName } from './table.js';
import { indexKeys, itemKeys, partitions } from './table-keys.js';

export interface Payment {
  id: number;
  keyId: number;
  amount: Money;
  balanceAfter: Money;
  createdAt: string;
}

function fromItem(item: Record<string, unknown>): Payment {
  return {
    id: Number(item.id),
    keyId: Number(item.key_id),
    amount: money(item.amount),
    balanceAfter: money(item.balance_after),
    createdAt: String(item.created_at),
  };
}

export function paymentItem(p: Payment): Record<string, unknown> {
  return {
    ...itemKeys.payment(p.id),
    type: 'payment',
    id: p.id,
    key_id: p.keyId,
    amount: moneyAttr(p.amount),
    balance_after: moneyAttr(p.balanceAfter),
    created_at: p.createdAt,
    ...indexKeys.payment(p.id, p.keyId),
  };
}

/** Rounds a recharge may lose to the key's own calls before it answers 409 (each a few ms; see recharge()). */
const RECHARGE_ATTEMPTS = 30;

/**
 * Adds `amount` to a key's balance and writes the payment row in the same transaction. The new balance is
 * computed exactly from the read and guarded by that balance, so a concurrent charge to the balance makes us
 * retry rather than overwrite it. (`rev` still moves, so a concurrent reset notices the recharge.)
 */
export async function recharge(target: { id: number } | { hash: string }, amount: Money): Promise<Payment> {
  if (amount <= 0n) throw errors.badRequest('balance must be greater than 0.', 'balance');
  // The recharge pins the balance it read (the payment row states the balance after it, exactly). A key whose calls
  // draw on its balance moves it meanwhile: the refused write hands back the item as it is now (no second read),
  // and the recharge is rebuilt on that, with a growing random pause once it has lost a few rounds.
  let key: ApiKey | undefined = 'id' in target ? await requireKeyById(target.id) : await getKeyByHash(target.hash);
  let paymentId: number | undefined;
  for (let attempt = 0; attempt < RECHARGE_ATTEMPTS; attempt++) {
    if (!key) throw errors.notFound('API key not found.');
    if (attempt > 2) await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 5 * attempt)));
    if (key.balance + amount > MAX_AMOUNT) {
      throw errors.badRequest(`the balance after the recharge must be at most ${formatMoney(MAX_AMOUNT)}.`, 'balance');
    }
    // Taken once the recharge can happen: a refused one (unknown key, too much) uses up no payment id.
    paymentId ??= await nextId('payment');
    const now = nowIso();
    const payment: Payment = { id: paymentId, keyId: key.id, amount, balanceAfter: key.balance + amount, createdAt: now };
    try {
      await db().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: tableName(),
                Key: itemKeys.apiKey(key.hash),
                // Only the balance itself pins this write (balance_after is computed from it): admissions and
                // charges that fit the quota keep landing meanwhile without making the recharge retry.
                UpdateExpression: 'SET balance = :b, updated_at = :now ADD rev :one',
                ConditionExpression: 'balance = :old',
                ExpressionAttributeValues: {
                  ':b': moneyAttr(payment.balanceAfter),
                  ':now': now,
                  ':one': 1,
                  ':old': moneyAttr(key.balance),
                },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            { Put: { TableName: tableName(), Item: paymentItem(payment), ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      );
      return payment;
    } catch (e) {
      const codes = cancellationCodes(e);
      if (codes?.[0] === 'ConditionalCheckFailed') {
        const current = (e as { CancellationReasons?: Array<{ Item?: Record<string, unknown> }> }).CancellationReasons?.[0]?.Item;
        // Gone (deleted meanwhile): the next round says 404.
        key = current ? keyFromItem(fromWireItem(current as Record<string, never>)) : undefined;
        continue;
      }
      // Another transaction on the key at that instant (a settlement): read it again and retry.
      if (codes?.includes('TransactionConflict')) {
        key = await getKeyByHash(key.hash);
        continue;
      }
      throw e;
    }
  }
  throw errors.conflict('The key was busy; try the recharge again.');
}

/** Payments newest first, for one key or all. */
export async function listPayments(keyId?: number): Promise<Payment[]> {
  const p = keyId === undefined ? partitions.payments : partitions.paymentsOfKey(keyId);
  const items = await queryAll<Record<string, unknown>>({
    IndexName: p.index,
    KeyConditionExpression: `${p.index}pk = :p`,
    ExpressionAttributeValues: { ':p': p.pk },
    ScanIndexForward: false,
  });
  return items.map(fromItem);
}
