import { BatchGetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { errors } from '../errors.js';
import { bumpCacheEpoch } from './cache-epoch.js';
import { cancellationCodes, db, isConditionFailure, nowIso, queryAll, tableName } from './table.js';
import { GRANT_SK_PREFIX, type Grantee, itemKeys } from './table-keys.js';

/**
 * Model grants. A grant is two items written together: the forward one under the grantee's partition
 * (`GROUP#g` or `KEYID#k`, sk `GRANT#MODEL#<m>`) answers "may this key use M" with one BatchGet; the reverse one
 * under `MODEL#m` (sk `GRANTEE#GROUP#<g>` / `GRANTEE#KEY#<k>`) lets a model's deletion remove all its grants.
 */
export type { Grantee } from './table-keys.js';
const label = (g: Grantee) => (g.kind === 'group' ? `Group ${g.id}` : `API key ${g.id}`);

export async function bindModel(g: Grantee, modelId: number): Promise<void> {
  const now = nowIso();
  try {
    await db().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: tableName(),
              Key: itemKeys.grantee(g),
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
          {
            ConditionCheck: {
              TableName: tableName(),
              Key: itemKeys.model(modelId),
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
          {
            Put: {
              TableName: tableName(),
              Item: {
                ...itemKeys.grant(g, modelId),
                type: 'grant',
                model_id: modelId,
                grantee: g.kind,
                grantee_id: g.id,
                created_at: now,
              },
            },
          },
          {
            Put: {
              TableName: tableName(),
              Item: {
                ...itemKeys.reverseGrant(modelId, g),
                type: 'grant-reverse',
                model_id: modelId,
                grantee: g.kind,
                grantee_id: g.id,
                created_at: now,
              },
            },
          },
        ],
      }),
    );
  } catch (e) {
    const codes = cancellationCodes(e);
    if (codes?.[0] === 'ConditionalCheckFailed') throw errors.notFound(`${label(g)} not found.`);
    if (codes?.[1] === 'ConditionalCheckFailed') throw errors.notFound(`Model ${modelId} not found.`);
    throw e;
  }
  bumpCacheEpoch();
}

export async function unbindModel(g: Grantee, modelId: number): Promise<void> {
  try {
    await db().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Delete: {
              TableName: tableName(),
              Key: itemKeys.grant(g, modelId),
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
          { Delete: { TableName: tableName(), Key: itemKeys.reverseGrant(modelId, g) } },
        ],
      }),
    );
  } catch (e) {
    if (cancellationCodes(e)?.[0] === 'ConditionalCheckFailed')
      throw errors.notFound(`Model ${modelId} is not bound to ${label(g).toLowerCase()}.`);
    throw e;
  }
  // A model saved with this group_id no longer names it: its group_id said "authorized for this group".
  if (g.kind === 'group') await clearModelGroup(modelId, g.id);
  bumpCacheEpoch();
}

async function clearModelGroup(modelId: number, groupId: number): Promise<void> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: itemKeys.model(modelId),
        UpdateExpression: 'SET group_id = :null, updated_at = :now',
        ConditionExpression: 'attribute_exists(pk) AND group_id = :g',
        ExpressionAttributeValues: { ':null': null, ':now': nowIso(), ':g': groupId },
      }),
    );
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
  }
}

/** Model ids granted directly to a grantee (ascending). */
export async function grantedModelIds(g: Grantee): Promise<number[]> {
  const items = await queryAll<{ model_id: number }>({
    KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
    ExpressionAttributeValues: { ':p': itemKeys.grantee(g).pk, ':s': GRANT_SK_PREFIX },
  });
  return items.map((i) => Number(i.model_id));
}

/** Is model M granted to the key directly or through its group? One BatchGet of at most two items. */
export async function isGranted(keyId: number, groupId: number | null, modelId: number): Promise<boolean> {
  const keys = [itemKeys.grant({ kind: 'key', id: keyId }, modelId)];
  if (groupId !== null) keys.push(itemKeys.grant({ kind: 'group', id: groupId }, modelId));
  const out = await db().send(new BatchGetCommand({ RequestItems: { [tableName()]: { Keys: keys, ProjectionExpression: 'pk' } } }));
  if ((out.Responses?.[tableName()] ?? []).length > 0) return true;
  const unprocessed = out.UnprocessedKeys?.[tableName()]?.Keys;
  if (unprocessed?.length) {
    // Rare; fall back to the same question once more rather than refusing a permitted call.
    const again = await db().send(
      new BatchGetCommand({ RequestItems: { [tableName()]: { Keys: unprocessed, ProjectionExpression: 'pk' } } }),
    );
    return (again.Responses?.[tableName()] ?? []).length > 0;
  }
  return false;
}
