import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { db, pad, queryAll, tableName } from '../store/table.js';

/**
 * Exact list totals without counting items: one small counter item per key and kind, written in the same
 * transaction as the record it counts (threads: settle's charge transaction; sessions: session creation).
 *
 *   pk KEYCOUNT#<keyId>  sk THREADS | SESSIONS   n   gsi1 (THREADCOUNTS | SESSIONCOUNTS, pad(keyId))
 *
 * A key's total is one GetItem; the total over all keys is one Query over the small gsi1 partition (one item per
 * key that ever recorded anything). Counter items survive key deletion, as the records they count do.
 */
export type CountKind = 'THREADS' | 'SESSIONS';

const countPk = (keyId: number) => `KEYCOUNT#${keyId}`;

/** The transaction item that adds one record of `kind` for `keyId`. */
export function countUpdate(kind: CountKind, keyId: number) {
  return {
    Update: {
      TableName: tableName(),
      Key: { pk: countPk(keyId), sk: kind },
      UpdateExpression: 'SET #type = :type, key_id = :k, gsi1pk = :gp, gsi1sk = :gs ADD n :one',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: { ':type': 'count', ':k': keyId, ':gp': `${kind.slice(0, -1)}COUNTS`, ':gs': pad(keyId), ':one': 1 },
    },
  };
}

export async function countForKey(kind: CountKind, keyId: number): Promise<number> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: { pk: countPk(keyId), sk: kind } }));
  return Number(out.Item?.n ?? 0);
}

export async function countAll(kind: CountKind): Promise<number> {
  const items = await queryAll<{ n?: number }>({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :p',
    ExpressionAttributeValues: { ':p': `${kind.slice(0, -1)}COUNTS` },
    ProjectionExpression: 'n',
  });
  return items.reduce((sum, i) => sum + Number(i.n ?? 0), 0);
}
