import { money, moneyAttr, type Money } from '../money.js';
import type { TokenUsage } from '../usage.js';
import { indexNameOf, queryAll, tableName } from '../store/table.js';
import { itemKeys, keyNames, partitions } from '../store/table-keys.js';

/**
 * Daily usage aggregates, one item per (day, key, model), updated inside the charging transaction so that
 * statistics never need to scan threads. They live in the key's statistics shard (`STATS#<kid mod 8>`), ordered by
 * `<day>#…`, so a day range is one Query per shard and writing one costs no index write.
 */
export function statsUpdate(a: { day: string; keyId: number; model: string; usage: TokenUsage; fee: Money }) {
  return {
    Update: {
      TableName: tableName(),
      Key: itemKeys.stat(a.day, a.keyId, a.model),
      UpdateExpression:
        'SET #day = :day, key_id = :k, model = :m, #type = :type ADD requests :one, tokens_in :i, tokens_out :o, tokens_cache_read :cr, tokens_cache_write :cw, fee :f',
      ExpressionAttributeNames: { '#day': 'day', '#type': 'type' },
      ExpressionAttributeValues: {
        ':day': a.day,
        ':k': a.keyId,
        ':m': a.model,
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
 * Aggregates of the days from..to (inclusive, YYYY-MM-DD): one Query per statistics shard `STATS#<shard>` between
 * `<from>#` and `<to>#~`. Reads one small item per (day, key, model) that saw traffic — never a thread.
 */
export async function listStats(range: { from: string; to: string }): Promise<StatRow[]> {
  const r = partitions.statsRange(range.from, range.to);
  const shards = await Promise.all(
    partitions.stats.map((p) =>
      queryAll<Record<string, unknown>>({
        IndexName: indexNameOf(p),
        KeyConditionExpression: `${keyNames(p.index).pk} = :p AND ${keyNames(p.index).sk} BETWEEN :from AND :to`,
        ExpressionAttributeValues: { ':p': p.pk, ':from': r.from, ':to': r.to },
      }),
    ),
  );
  return shards.flat().map(statFromItem);
}
