import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from './table.js';
import { itemKeys } from './table-keys.js';

export type CounterName = 'apikey' | 'group' | 'model' | 'payment' | 'session' | 'thread' | 'bot';

/** Next small numeric id for an entity: one atomic ADD on the counter item (ids are never reused). */
export async function nextId(name: CounterName): Promise<number> {
  const out = await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: itemKeys.counter(name),
      UpdateExpression: 'ADD #v :one',
      ExpressionAttributeNames: { '#v': 'value' },
      ExpressionAttributeValues: { ':one': 1 },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return Number(out.Attributes?.value);
}
