import { GetCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { errors } from '../errors.js';
import { deleteAll } from './batch.js';
import { bumpCacheEpoch } from './cache-epoch.js';
import { detachGroup } from './detach-group.js';
import { nextId } from './counters.js';
import { type Limits, NO_LIMITS } from '../limits/types.js';
import { str } from './attributes.js';
import { cancellationCodes, db, nowIso, queryAll, queryIndex, tableName } from './table.js';
import { GRANT_SK_PREFIX, indexKeys, itemKeys, partitions } from './table-keys.js';

export interface Group {
  id: number;
  name: string;
  /** Default rate limits of the group's keys (a key's own value wins). */
  limits: Limits;
  createdAt: string;
  updatedAt: string;
}

const optInt = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function fromItem(item: Record<string, unknown>): Group {
  return {
    id: Number(item.id),
    name: str(item.name),
    limits: { rpm: optInt(item.rpm_limit), tpm: optInt(item.tpm_limit), maxParallel: optInt(item.max_parallel) },
    createdAt: str(item.created_at),
    updatedAt: str(item.updated_at),
  };
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

export interface GroupInput {
  id?: number;
  name: string;
  /** Omitted fields keep their value on update; null clears a limit. */
  limits?: Partial<Limits>;
}

/**
 * Creates (no id) or updates a group. Names are unique, case-insensitively, through a name lock item written in the
 * same transaction (a clash is a 409, as for model names), so running a setup script twice cannot make twins.
 */
export async function saveGroup(input: GroupInput): Promise<Group> {
  const now = nowIso();
  const existing = input.id === undefined ? undefined : await requireGroup(input.id);
  const id = existing?.id ?? (await nextId('group'));
  const group: Group = {
    id,
    name: input.name,
    limits: { ...(existing?.limits ?? NO_LIMITS), ...input.limits },
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  const renamed = !existing || existing.name.toLowerCase() !== input.name.toLowerCase();
  const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
    {
      Put: {
        TableName: tableName(),
        Item: {
          ...itemKeys.group(id),
          type: 'group',
          id,
          name: group.name,
          rpm_limit: group.limits.rpm,
          tpm_limit: group.limits.tpm,
          max_parallel: group.limits.maxParallel,
          created_at: group.createdAt,
          updated_at: now,
          ...indexKeys.group(id),
        },
        ConditionExpression: existing ? 'attribute_exists(pk)' : 'attribute_not_exists(pk)',
      },
    },
  ];
  if (renamed) {
    items.push({
      Put: {
        TableName: tableName(),
        Item: { ...itemKeys.groupName(group.name), type: 'group-name', group_id: id },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
    if (existing) items.push({ Delete: { TableName: tableName(), Key: itemKeys.groupName(existing.name) } });
  }
  try {
    await db().send(new TransactWriteCommand({ TransactItems: items }));
  } catch (e) {
    const codes = cancellationCodes(e);
    if (codes?.[1] === 'ConditionalCheckFailed') throw errors.conflict(`A group named '${input.name}' already exists.`);
    if (codes?.[0] === 'ConditionalCheckFailed') throw errors.notFound(`Group ${id} not found.`);
    throw e;
  }
  bumpCacheEpoch();
  return group;
}

/**
 * Deletes a group and its model grants (both sides). Keys and models that named the group are detached
 * (group_id → null) so that nothing points at a group that no longer exists.
 */
export async function deleteGroup(id: number): Promise<void> {
  const group = await requireGroup(id);
  const partition = await queryAll<{ pk: string; sk: string; model_id?: number }>({
    KeyConditionExpression: 'pk = :p',
    ExpressionAttributeValues: { ':p': itemKeys.group(id).pk },
  });
  const grantDeletes = partition
    .filter((i) => i.sk.startsWith(GRANT_SK_PREFIX))
    .flatMap((g) => [{ pk: g.pk, sk: g.sk }, itemKeys.reverseGrant(Number(g.model_id), { kind: 'group', id })]);
  await deleteAll([itemKeys.group(id), itemKeys.groupName(group.name), ...grantDeletes]);
  bumpCacheEpoch();
  await detachGroup(id);
}
