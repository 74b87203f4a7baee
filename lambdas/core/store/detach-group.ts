import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, isConditionFailure, nowIso, queryAll, tableName } from './table.js';

/** After a group is deleted: keys and models that named it lose the reference. */
export async function detachGroup(groupId: number): Promise<void> {
  for (const index of ['APIKEYS', 'MODELS']) {
    const items = await queryAll<{ pk: string; sk: string }>({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      FilterExpression: 'group_id = :g',
      ExpressionAttributeValues: { ':p': index, ':g': groupId },
    });
    for (const item of items) {
      try {
        await db().send(
          new UpdateCommand({
            TableName: tableName(),
            Key: { pk: item.pk, sk: item.sk },
            UpdateExpression:
              index === 'APIKEYS' ? 'SET group_id = :null, updated_at = :now, rev = rev + :one' : 'SET group_id = :null, updated_at = :now',
            ConditionExpression: 'attribute_exists(pk) AND group_id = :g',
            ExpressionAttributeValues:
              index === 'APIKEYS'
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
