import { moneyAttr, type Money } from '../money.js';
import type { TokenUsage } from '../providers/types.js';
import { tableName } from '../store/table.js';

/**
 * Daily usage aggregates, one item per (day, key, model), updated inside the charging transaction so that
 * statistics never need to scan threads. Listed by day range through gsi1 (`STATS`, `<day>#…`).
 */
export function statsUpdate(a: { day: string; keyId: number; model: string; usage: TokenUsage; fee: Money }) {
  const sk = `KEY#${a.keyId}#MODEL#${a.model}`;
  return {
    Update: {
      TableName: tableName(),
      Key: { pk: `STAT#${a.day}`, sk },
      UpdateExpression:
        'SET #day = :day, key_id = :k, model = :m, gsi1pk = :gp, gsi1sk = :gs, #type = :type ADD requests :one, tokens_in :i, tokens_out :o, tokens_cache_read :cr, tokens_cache_write :cw, fee :f',
      ExpressionAttributeNames: { '#day': 'day', '#type': 'type' },
      ExpressionAttributeValues: {
        ':day': a.day,
        ':k': a.keyId,
        ':m': a.model,
        ':gp': 'STATS',
        ':gs': `${a.day}#${sk}`,
        ':type': 'stat',
        ':one': 1,
        ':i': a.usage.inputTokens,
        ':o': a.usage.outputTokens,
        ':cr': a.usage.cacheReadTokens,
        ':cw': a.usage.cacheWriteTokens,
        ':f': moneyAttr(a.fee),
      },
    },
  };
}
