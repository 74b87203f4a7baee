import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { errors } from '../errors.js';
import { deleteAll } from './batch.js';
import { bumpCacheEpoch } from './cache-epoch.js';
import { detachGroup } from './detach-group.js';
import { nextId } from './counters.js';
import { db, isConditionFailure, nowIso, queryAll, queryIndex, tableName } from './table.js';
import { GRANT_SK_PREFIX, indexKeys, itemKeys, partitions } from './table-keys.js';

export interface Group {
  id: number;
  name: string;
  createdAt: string;
  updatedAt: string;
}

function fromItem(item: Record<string, unknown>): Group {
  return { id: Number(item.id), name: String(item.name), createdAt: String(item.created_at), updatedAt: String(item.updated_at) };
}

export async function getGroup(id: number): Promise<Group | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: itemKeys.group(id), ConsistentRead: true }));
  return out.Item ? fromItem(out.Item) : undefined;
}

export async function requireGroup(id: number): Promise<Group> {
  const g = await getGroup(id);
  if (!g) throw errors.notFound(`Group ${id} not found.`);
  return g;
}

export async function listGroups(q?: string): Promise<Group[]> {
  const items = await queryIndex<Record<string, unknown>>(partitions.groups);
  const needle = q?.toLowerCase();
  return items
    .map(fromItem)
    .filter((g) => !needle || g.name.toLowerCase().includes(needle))
    .sort((a, b) => a.id - b.id);
}

export async function saveGroup(input: { id?: number; name: string }): Promise<Group> {
  const now = nowIso();
  if (input.id === undefined) {
    const id = await nextId('group');
    const item = {
      ...itemKeys.group(id),
      type: 'group',
      id,
      name: input.name,
      created_at: now,
      updated_at: now,
      ...indexKeys.group(id),
    };
    await db().send(new PutCommand({ TableName: tableName(), Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    return fromItem(item);
  }
  try {
    const out = await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: itemKeys.group(input.id),
        UpdateExpression: 'SET #n = :n, updated_at = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#n': 'name' },
        ExpressionAttributeValues: { ':n': input.name, ':now': now },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return fromItem(out.Attributes!);
  } catch (e) {
    if (isConditionFailure(e)) throw errors.notFound(`Group ${input.id} not found.`);
    throw e;
  }
}

/**
 * Deletes a group and its model grants (both sides). Keys and models that named the group are detached
 * (group_id → null) so that nothing points at a group that no longer exists.
 */
export async function deleteGroup(id: number): Promise<void> {
  await requireGroup(id);
  const partition = await queryAll<{ pk: string; sk: string; model_id?: number }>({
    KeyConditionExpression: 'pk = :p',
    ExpressionAttributeValues: { ':p': itemKeys.group(id).pk },
  });
  const grantDeletes = partition
    .filter((i) => i.sk.startsWith(GRANT_SK_PREFIX))
    .flatMap((g) => [{ pk: g.pk, sk: g.sk }, itemKeys.reverseGrant(Number(g.model_id), { kind: 'group', id })]);
  await deleteAll([itemKeys.group(id), ...grantDeletes]);
  bumpCacheEpoch();
  await detachGroup(id);
}
