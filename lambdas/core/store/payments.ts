import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { errors } from '../errors.js';
import { formatMoney, MAX_AMOUNT, money, moneyAttr, type Money } from '../money.js';
import { nextId } from './counters.js';
import { type ApiKey, getKeyByHash, requireKeyById } from './keys.js';
import { cancellationCodes, db, nowIso, queryAll, tableName } from './table.js';
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

/**
 * Adds `amount` to a key's balance and writes the payment row in the same transaction. The new balance is
 * computed exactly from the read and guarded by that balance, so a concurrent charge to the balance makes us
 * retry rather than overwrite it. (`rev` still moves, so a concurrent reset notices the recharge.)
 */
export async function recharge(target: { id: number } | { hash: string }, amount: Money): Promise<Payment> {
  if (amount <= 0n) throw errors.badRequest('balance must be greater than 0.', 'balance');
  const paymentId = await nextId('payment');
  for (let attempt = 0; attempt < 8; attempt++) {
    const key: ApiKey | undefined = 'id' in target ? await requireKeyById(target.id) : await getKeyByHash(target.hash);
    if (!key) throw errors.notFound('API key not found.');
    if (key.balance + amount > MAX_AMOUNT) {
      throw errors.badRequest(`the balance after the recharge must be at most ${formatMoney(MAX_AMOUNT)}.`, 'balance');
    }
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
              },
            },
            { Put: { TableName: tableName(), Item: paymentItem(payment), ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      );
      return payment;
    } catch (e) {
      if (cancellationCodes(e)?.[0] === 'ConditionalCheckFailed') continue;
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
