import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { listKeys, TERMS_REV_BUMP } from './keys.js';
import { db, isConditionFailure, nowIso, queryIndex, tableName } from './table.js';
import { type ItemKey, itemKeys, partitions } from './table-keys.js';

/** After a group is deleted: keys and models that named it lose the reference. */
export async function detachGroup(groupId: number): Promise<void> {
  const keys = (await listKeys({ groupId })).map((k) => itemKeys.apiKey(k.hash));
  const models = await queryIndex<ItemKey>(partitions.models, { expression: 'group_id = :g', values: { ':g': groupId } });
  for (const [items, isKey] of [
    [keys, true],
    [models.map(({ pk, sk }) => ({ pk, sk })), false],
  ] as const) {
    for (const Key of items) {
      try {
        await db().send(
          new UpdateCommand({
            TableName: tableName(),
            Key,
            UpdateExpression: isKey
              ? `SET group_id = :null, updated_at = :now, rev = rev + :one, ${TERMS_REV_BUMP}`
              : 'SET group_id = :null, updated_at = :now',
            ConditionExpression: 'attribute_exists(pk) AND group_id = :g',
            ExpressionAttributeValues: isKey
              ? { ':null': null, ':now': nowIso(), ':g': groupId, ':one': 1, ':zero': 0 }
              : { ':null': null, ':now': nowIso(), ':g': groupId },
          }),
        );
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
      }
    }
  }
}
