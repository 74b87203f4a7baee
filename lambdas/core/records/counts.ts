import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { db, queryIndex, tableName } from '../store/table.js';
import { type CountKind, itemKeys, partitions } from '../store/table-keys.js';

/**
 * Exact list totals without counting items: one small counter item per key and kind, written in the same
 * transaction as the record it counts (threads: settle's charge transaction; sessions: session creation).
 *
 *   pk THREADCOUNTS#<keyId mod 8> | SESSIONCOUNTS#<keyId mod 8>   sk pad(keyId)   n
 *
 * A key's total is one GetItem; the total over all keys is one Query per shard of these small partitions (one item
 * per key that ever recorded anything), and writing one costs no index write. Counter items survive key deletion,
 * as the records they count do.
 */
export type { CountKind } from '../store/table-keys.js';

/** The transaction item that adds one record of `kind` for `keyId`. */
export function countUpdate(kind: CountKind, keyId: number) {
  return {
    Update: {
      TableName: tableName(),
      Key: itemKeys.count(keyId, kind),
      UpdateExpression: 'SET #type = :type, key_id = :k ADD n :one',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: { ':type': 'count', ':k': keyId, ':one': 1 },
    },
  };
}

export async function countForKey(kind: CountKind, keyId: number): Promise<number> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: itemKeys.count(keyId, kind) }));
  return Number(out.Item?.n ?? 0);
}

export async function countAll(kind: CountKind): Promise<number> {
  const shards = await Promise.all(partitions.counts(kind).map((p) => queryIndex<{ n?: number }>(p)));
  return shards.flat().reduce((sum, i) => sum + Number(i.n ?? 0), 0);
}
