import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from './table.js';
import { itemKeys } from './table-keys.js';

/** Whether the table answers a read right now (one GetItem of a key that is never written). */
export async function storeReachable(): Promise<boolean> {
  try {
    await db().send(new GetCommand({ TableName: tableName(), Key: itemKeys.health() }));
    return true;
  } catch {
    return false;
  }
}
