import { GetCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { errors } from '../errors.js';
import { money, moneyAttr, type Money } from '../money.js';
import { deleteAll } from './batch.js';
import { str } from './attributes.js';
import { bumpCacheEpoch } from './cache-epoch.js';
import { nextId } from './counters.js';
import { cancellationCodes, db, nowIso, queryAll, queryIndex, tableName } from './table.js';
import { GRANTEE_SK_PREFIX, indexKeys, itemKeys, partitions } from './table-keys.js';

export interface Model {
  id: number;
  name: string;
  groupId: number | null;
  multiple: boolean;
  provider: string;
  config: Record<string, unknown>;
  /** USD per 1M tokens. */
  priceIn: Money;
  priceOut: Money;
  /** Explicit cache prices; undefined → derived from priceIn (see billing/cost.ts). */
  priceCacheRead: Money | undefined;
  priceCacheWrite: Money | undefined;
  /**
   * The admin's explicit choice that calls are not charged (prices all 0). Saving a model with a zero or missing price
   * without it is a 400 (admin/routes/model.ts), so a typo never makes a model free. Rows saved before the flag
   * existed read as free when both prices are 0, which is what they billed.
   */
  free: boolean;
  createdAt: string;
  updatedAt: string;
}

function fromItem(item: Record<string, unknown>): Model {
  return {
    id: Number(item.id),
    name: String(item.name),
    groupId: item.group_id === null || item.group_id === undefined ? null : Number(item.group_id),
    multiple: Boolean(item.multiple),
    provider: String(item.provider),
    config: (item.config ?? {}) as Record<string, unknown>,
    priceIn: money(item.price_in),
    priceOut: money(item.price_out),
    priceCacheRead: item.price_cache_read === undefined || item.price_cache_read === null ? undefined : money(item.price_cache_read),
    priceCacheWrite: item.price_cache_write === undefined || item.price_cache_write === null ? undefined : money(item.price_cache_write),
    free: typeof item.free === 'boolean' ? item.free : money(item.price_in) === 0n && money(item.price_out) === 0n,
    createdAt: String(item.created_at),
    updatedAt: String(item.updated_at),
  };
}

function toItem(m: Model): Record<string, unknown> {
  return {
    ...itemKeys.model(m.id),
    type: 'model',
    id: m.id,
    name: m.name,
    group_id: m.groupId,
    multiple: m.multiple,
    provider: m.provider,
    config: m.config,
    price_in: moneyAttr(m.priceIn),
    price_out: moneyAttr(m.priceOut),
    price_cache_read: m.priceCacheRead === undefined ? undefined : moneyAttr(m.priceCacheRead),
    price_cache_write: m.priceCacheWrite === undefined ? undefined : moneyAttr(m.priceCacheWrite),
    free: m.free,
    created_at: m.createdAt,
    updated_at: m.updatedAt,
    ...indexKeys.model(m.id),
  };
}

export async function getModel(id: number): Promise<Model | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: itemKeys.model(id), ConsistentRead: true }));
  return out.Item ? fromItem(out.Item) : undefined;
}

export async function requireModel(id: number): Promise<Model> {
  const m = await getModel(id);
  if (!m) throw errors.notFound(`Model ${id} not found.`);
  return m;
}

export async function getModelByName(name: string): Promise<Model | undefined> {
  const lock = await db().send(new GetCommand({ TableName: tableName(), Key: itemKeys.modelName(name), ConsistentRead: true }));
  if (!lock.Item) return undefined;
  return getModel(Number(lock.Item.model_id));
}

export async function listModels(q?: string): Promise<Model[]> {
  const items = await queryIndex<Record<string, unknown>>(partitions.models);
  const needle = q?.toLowerCase();
  return items
    .map(fromItem)
    .filter((m) => !needle || m.name.toLowerCase().includes(needle) || str(m.config.modelId).toLowerCase().includes(needle))
    .sort((a, b) => a.id - b.id);
}

/**
 * What an admin saves: a model without its timestamps; no id creates one, absent cache prices keep the stored ones,
 * null ones go back to the default.
 */
export type ModelInput = Omit<Model, 'id' | 'createdAt' | 'updatedAt' | 'priceCacheRead' | 'priceCacheWrite'> & {
  id?: number;
  priceCacheRead?: Money | null;
  priceCacheWrite?: Money | null;
};

type Items = NonNullable<TransactWriteCommandInput['TransactItems']>;

/** Creates or updates a model. The name is unique (a lock item per name, moved on rename): a clash is 409. */
export async function saveModel(input: ModelInput): Promise<Model> {
  const now = nowIso();
  const existing = input.id === undefined ? undefined : await requireModel(input.id);
  const id = existing?.id ?? (await nextId('model'));
  const model: Model = {
    id,
    name: input.name,
    groupId: input.groupId,
    multiple: input.multiple,
    provider: input.provider,
    config: input.config,
    priceIn: input.priceIn,
    priceOut: input.priceOut,
    priceCacheRead: input.priceCacheRead === null ? undefined : (input.priceCacheRead ?? existing?.priceCacheRead),
    priceCacheWrite: input.priceCacheWrite === null ? undefined : (input.priceCacheWrite ?? existing?.priceCacheWrite),
    free: input.free,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  const items: Items = [
    existing
      ? { Put: { TableName: tableName(), Item: toItem(model), ConditionExpression: 'attribute_exists(pk)' } }
      : { Put: { TableName: tableName(), Item: toItem(model), ConditionExpression: 'attribute_not_exists(pk)' } },
  ];
  let nameIndex = -1;
  if (!existing || existing.name !== model.name) {
    nameIndex = items.length;
    items.push({
      Put: {
        TableName: tableName(),
        Item: { ...itemKeys.modelName(model.name), type: 'model-name', model_id: id },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
    if (existing) {
      items.push({
        Delete: {
          TableName: tableName(),
          Key: itemKeys.modelName(existing.name),
          ConditionExpression: 'model_id = :id',
          ExpressionAttributeValues: { ':id': id },
        },
      });
    }
  }
  let groupIndex = -1;
  if (model.groupId !== null) {
    groupIndex = items.length;
    items.push({
      ConditionCheck: {
        TableName: tableName(),
        Key: itemKeys.group(model.groupId),
        ConditionExpression: 'attribute_exists(pk)',
      },
    });
  }
  try {
    await db().send(new TransactWriteCommand({ TransactItems: items }));
  } catch (e) {
    const codes = cancellationCodes(e);
    if (codes && nameIndex >= 0 && codes[nameIndex] === 'ConditionalCheckFailed')
      throw errors.conflict(`A model named '${model.name}' already exists.`);
    if (codes && groupIndex >= 0 && codes[groupIndex] === 'ConditionalCheckFailed')
      throw errors.notFound(`Group ${model.groupId} not found.`);
    if (codes && codes[0] === 'ConditionalCheckFailed') throw errors.notFound(`Model ${input.id} not found.`);
    throw e;
  }
  bumpCacheEpoch();
  return model;
}

/** Deletes a model, its name lock and every grant of it (group and key sides). */
export async function deleteModel(id: number): Promise<void> {
  const model = await requireModel(id);
  const partition = await queryAll<{ pk: string; sk: string; grantee?: string; grantee_id?: number }>({
    KeyConditionExpression: 'pk = :p',
    ExpressionAttributeValues: { ':p': itemKeys.model(id).pk },
  });
  // Reverse grant items name their grantee, so both sides of each grant go.
  const grantDeletes = partition
    .filter((i) => i.sk.startsWith(GRANTEE_SK_PREFIX))
    .flatMap((i) => [
      { pk: i.pk, sk: i.sk },
      itemKeys.grant({ kind: i.grantee === 'group' ? 'group' : 'key', id: Number(i.grantee_id) }, id),
    ]);
  await deleteAll([itemKeys.model(id), itemKeys.modelName(model.name), ...grantDeletes]);
  bumpCacheEpoch();
}
