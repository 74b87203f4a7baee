import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { errors } from '../errors.js';
import { deleteAll } from './batch.js';
import { bumpCacheEpoch } from './cache-epoch.js';
import { detachGroup } from './detach-group.js';
import { nextId } from './counters.js';
import { db, isConditionFailure, nowIso, pad, queryAll, tableName } from './table.js';

export interface Group {
  id: number;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export const groupPk = (id: number) => `GROUP#${id}`;
const GROUP_SK = 'GROUP';

function fromItem(item: Record<string, unknown>): Group {
  return { id: Number(item.id), name: String(item.name), createdAt: String(item.created_at), updatedAt: String(item.updated_at) };
}

export async function getGroup(id: number): Promise<Group | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: { pk: groupPk(id), sk: GROUP_SK }, ConsistentRead: true }));
  return out.Item ? fromItem(out.Item) : undefined;
}

export async function requireGroup(id: number): Promise<Group> {
  const g = await getGroup(id);
  if (!g) throw errors.notFound(`Group ${id} not found.`);
  return g;
}

export async function listGroups(q?: string): Promise<Group[]> {
  const items = await queryAll<Record<string, unknown>>({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :p',
    ExpressionAttributeValues: { ':p': 'GROUPS' },
  });
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
      pk: groupPk(id),
      sk: GROUP_SK,
      type: 'group',
      id,
      name: input.name,
      created_at: now,
      updated_at: now,
      gsi1pk: 'GROUPS',
      gsi1sk: pad(id),
    };
    await db().send(new PutCommand({ TableName: tableName(), Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    return fromItem(item);
  }
  try {
    const out = await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { pk: groupPk(input.id), sk: GROUP_SK },
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
    ExpressionAttributeValues: { ':p': groupPk(id) },
  });
  const grantDeletes = partition
    .filter((i) => i.sk.startsWith('GRANT#MODEL#'))
    .flatMap((g) => [
      { pk: g.pk, sk: g.sk },
      { pk: `MODEL#${g.model_id}`, sk: `GRANTEE#GROUP#${pad(id)}` },
    ]);
  await deleteAll([{ pk: groupPk(id), sk: GROUP_SK }, ...grantDeletes]);
  bumpCacheEpoch();
  await detachGroup(id);
}
