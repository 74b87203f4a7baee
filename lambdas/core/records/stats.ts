import { money, moneyAttr, type Money } from '../money.js';
import type { TokenUsage } from '../usage.js';
import { queryAll, tableName } from '../store/table.js';
import { indexKeys, itemKeys, partitions } from '../store/table-keys.js';

/**
 * Daily usage aggregates, one item per (day, key, model), updated inside the charging transaction so that
 * statistics never need to scan threads. Listed by day range through gsi1 (`STATS`, `<day>#…`).
 */
export function statsUpdate(a: { day: string; keyId: number; model: string; usage: TokenUsage; fee: Money }) {
  const index = indexKeys.stat(a.day, a.keyId, a.model);
  return {
    Update: {
      TableName: tableName(),
      Key: itemKeys.stat(a.day, a.keyId, a.model),
      UpdateExpression:
        'SET #day = :day, key_id = :k, model = :m, gsi1pk = :gp, gsi1sk = :gs, #type = :type ADD requests :one, tokens_in :i, tokens_out :o, tokens_cache_read :cr, tokens_cache_write :cw, fee :f',
      ExpressionAttributeNames: { '#day': 'day', '#type': 'type' },
      ExpressionAttributeValues: {
        ':day': a.day,
        ':k': a.keyId,
        ':m': a.model,
        ':gp': index.gsi1pk,
        ':gs': index.gsi1sk,
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

export interface StatRow {
  day: string;
  keyId: number;
  model: string;
  requests: number;
  tokensIn: number;
  tokensOut: number;
  tokensCacheRead: number;
  tokensCacheWrite: number;
  fee: Money;
}

function statFromItem(item: Record<string, unknown>): StatRow {
  return {
    day: String(item.day),
    keyId: Number(item.key_id),
    model: String(item.model),
    requests: Number(item.requests ?? 0),
    tokensIn: Number(item.tokens_in ?? 0),
    tokensOut: Number(item.tokens_out ?? 0),
    tokensCacheRead: Number(item.tokens_cache_read ?? 0),
    tokensCacheWrite: Number(item.tokens_cache_write ?? 0),
    fee: money(item.fee),
  };
}

/**
 * Aggregates of the days from..to (inclusive, YYYY-MM-DD): one Query per shard of gsi1 `STATS#<shard>` between
 * `<from>#` and `<to>#~`. Reads one small item per (day, key, model) that saw traffic — never a thread.
 */
export async function listStats(range: { from: string; to: string }): Promise<StatRow[]> {
  const r = partitions.statsRange(range.from, range.to);
  const shards = await Promise.all(
    partitions.stats.map((p) =>
      queryAll<Record<string, unknown>>({
        IndexName: p.index,
        KeyConditionExpression: `${p.index}pk = :p AND ${p.index}sk BETWEEN :from AND :to`,
        ExpressionAttributeValues: { ':p': p.pk, ':from': r.from, ':to': r.to },
      }),
    ),
  );
  return shards.flat().map(statFromItem);
}
