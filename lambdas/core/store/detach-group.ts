import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, isConditionFailure, nowIso, queryIndex, tableName } from './table.js';
import { partitions } from './table-keys.js';

/** After a group is deleted: keys and models that named it lose the reference. */
export async function detachGroup(groupId: number): Promise<void> {
  for (const partition of [partitions.apiKeys, partitions.models]) {
    const isKey = partition === partitions.apiKeys;
    const items = await queryIndex<{ pk: string; sk: string }>(partition, { expression: 'group_id = :g', values: { ':g': groupId } });
    for (const item of items) {
      try {
        await db().send(
          new UpdateCommand({
            TableName: tableName(),
            Key: { pk: item.pk, sk: item.sk },
            UpdateExpression: isKey
              ? 'SET group_id = :null, updated_at = :now, rev = rev + :one'
              : 'SET group_id = :null, updated_at = :now',
            ConditionExpression: 'attribute_exists(pk) AND group_id = :g',
            ExpressionAttributeValues: isKey
              ? { ':null': null, ':now': nowIso(), ':g': groupId, ':one': 1 }
              : { ':null': null, ':now': nowIso(), ':g': groupId },
          }),
        );
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
      }
    }
  }
}
