import { GetCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { errors } from '../errors.js';
import { money, moneyAttr, type Money } from '../money.js';
import { deleteAll } from './batch.js';
import { bumpCacheEpoch } from './cache-epoch.js';
import { nextId } from './counters.js';
import { cancellationCodes, db, nowIso, pad, queryAll, tableName } from './table.js';

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
  createdAt: string;
  updatedAt: string;
}

export const modelPk = (id: number) => `MODEL#${id}`;
const MODEL_SK = 'MODEL';
const namePk = (name: string) => `MODELNAME#${name}`;
const NAME_SK = 'MODELNAME';

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
    createdAt: String(item.created_at),
    updatedAt: String(item.updated_at),
  };
}

function toItem(m: Model): Record<string, unknown> {
  return {
    pk: modelPk(m.id),
    sk: MODEL_SK,
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
    created_at: m.createdAt,
    updated_at: m.updatedAt,
    gsi1pk: 'MODELS',
    gsi1sk: pad(m.id),
  };
}

export async function getModel(id: number): Promise<Model | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: { pk: modelPk(id), sk: MODEL_SK }, ConsistentRead: true }));
  return out.Item ? fromItem(out.Item) : undefined;
}

export async function requireModel(id: number): Promise<Model> {
  const m = await getModel(id);
  if (!m) throw errors.notFound(`Model ${id} not found.`);
  return m;
}

export async function getModelByName(name: string): Promise<Model | undefined> {
  const lock = await db().send(new GetCommand({ TableName: tableName(), Key: { pk: namePk(name), sk: NAME_SK }, ConsistentRead: true }));
  if (!lock.Item) return undefined;
  return getModel(Number(lock.Item.model_id));
}

export async function listModels(q?: string): Promise<Model[]> {
  const items = await queryAll<Record<string, unknown>>({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :p',
    ExpressionAttributeValues: { ':p': 'MODELS' },
  });
  const needle = q?.toLowerCase();
  return items
    .map(fromItem)
    .filter(
      (m) =>
        !needle ||
        m.name.toLowerCase().includes(needle) ||
        String(m.config.modelId ?? '')
          .toLowerCase()
          .includes(needle),
    )
    .sort((a, b) => a.id - b.id);
}

/** What an admin saves: a model without its timestamps; no id creates one, absent cache prices keep the stored ones. */
export type ModelInput = Omit<Model, 'id' | 'createdAt' | 'updatedAt' | 'priceCacheRead' | 'priceCacheWrite'> & {
  id?: number;
  priceCacheRead?: Money;
  priceCacheWrite?: Money;
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
    priceCacheRead: input.priceCacheRead ?? existing?.priceCacheRead,
    priceCacheWrite: input.priceCacheWrite ?? existing?.priceCacheWrite,
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
        Item: { pk: namePk(model.name), sk: NAME_SK, type: 'model-name', model_id: id },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
    if (existing) {
      items.push({
        Delete: {
          TableName: tableName(),
          Key: { pk: namePk(existing.name), sk: NAME_SK },
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
        Key: { pk: `GROUP#${model.groupId}`, sk: 'GROUP' },
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
  const partition = await queryAll<{ pk: string; sk: string }>({
    KeyConditionExpression: 'pk = :p',
    ExpressionAttributeValues: { ':p': modelPk(id) },
  });
  const grantDeletes = partition
    .filter((i) => i.sk.startsWith('GRANTEE#'))
    .flatMap((i) => {
      const [, kind, other] = i.sk.split('#');
      const forward = kind === 'GROUP' ? `GROUP#${Number(other)}` : `KEYID#${Number(other)}`;
      return [
        { pk: i.pk, sk: i.sk },
        { pk: forward, sk: `GRANT#MODEL#${pad(id)}` },
      ];
    });
  await deleteAll([{ pk: modelPk(id), sk: MODEL_SK }, { pk: namePk(model.name), sk: NAME_SK }, ...grantDeletes]);
  bumpCacheEpoch();
}
