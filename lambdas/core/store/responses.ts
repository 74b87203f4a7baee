/**
 * Stored Responses API responses (`store: true`), kept for the key that created them until their `ttl`.
 *
 * Items (all with `ttl`, epoch seconds; reads ignore items past it, as emulators never delete them):
 *   pk `RESPONSE#<id>`, sk `RESPONSE`     head: key_id, created_at, parts, bytes
 *   pk `RESPONSE#<id>`, sk `PART#<nnnn>`  the body (opaque JSON, gzip), cut into parts of at most PART_BYTES
 *   pk `RESPONSEITEM#<item id>`, sk `ITEM` one output item (gzip JSON), with key_id and response_id, so that an
 *                                         `item_reference` resolves with one BatchGet
 * The body is the wire API's business (this module stores JSON and knows no Responses shapes). Reading a response is
 * one strongly consistent Query of its partition; the head is written last and deleted first, so a half-written or
 * half-deleted response is never seen. Another key's response reads exactly like a missing one.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { BatchGetCommand, BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { JsonValue } from '../json.js';
import { logger } from '../log.js';
import { deleteAll } from './batch.js';
import { db, tableName } from './table.js';
import { itemKeys } from './table-keys.js';

/** Compressed bytes per body part: far below DynamoDB's 400 KB item limit, with room for the attributes. */
export const PART_BYTES = 350_000;
/** Parts of one body at most (≈ 8 MB compressed; a /v1 request itself is at most 6 MB on Lambda). */
export const MAX_PARTS = 24;

export interface StoredResponse {
  id: string;
  keyId: number;
  /** Epoch milliseconds. */
  createdAt: number;
  body: JsonValue;
}

export interface StoredItem {
  id: string;
  value: JsonValue;
}

const epochSeconds = (ms: number) => Math.floor(ms / 1000);
const pack = (value: JsonValue) => gzipSync(Buffer.from(JSON.stringify(value), 'utf8'));
const unpack = (bytes: Uint8Array) => JSON.parse(gunzipSync(bytes).toString('utf8')) as JsonValue;

/**
 * Writes a response and its referencable items, kept for `ttlDays`. False (nothing readable written) when the body
 * is beyond MAX_PARTS; an item too large for one DynamoDB item is not made referencable (its response still is).
 */
export async function putResponse(r: StoredResponse, items: StoredItem[], ttlDays: number): Promise<boolean> {
  const body = pack(r.body);
  const parts = Math.max(1, Math.ceil(body.length / PART_BYTES));
  if (parts > MAX_PARTS) {
    logger.warn('a response is too large to store', { responseId: r.id, bytes: body.length });
    return false;
  }
  const ttl = epochSeconds(r.createdAt) + ttlDays * 86_400;
  const writes: Array<Record<string, unknown>> = [];
  for (let n = 0; n < parts; n++) {
    writes.push({
      ...itemKeys.responsePart(r.id, n),
      type: 'response-part',
      data: body.subarray(n * PART_BYTES, (n + 1) * PART_BYTES),
      ttl,
    });
  }
  for (const item of items) {
    const data = pack(item.value);
    if (data.length > PART_BYTES) continue;
    writes.push({
      ...itemKeys.responseItem(item.id),
      type: 'response-item',
      item_id: item.id,
      key_id: r.keyId,
      response_id: r.id,
      data,
      ttl,
    });
  }
  await batchPut(writes);
  // The head last: until it exists, the response does not.
  await batchPut([
    { ...itemKeys.response(r.id), type: 'response', key_id: r.keyId, created_at: r.createdAt, parts, bytes: body.length, ttl },
  ]);
  return true;
}

/** The response, if it exists, is not expired and belongs to this key. */
export async function getResponse(id: string, keyId: number, nowMs = Date.now()): Promise<StoredResponse | undefined> {
  const pk = itemKeys.response(id).pk;
  const rows: Array<Record<string, unknown>> = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ConsistentRead: true,
        ExclusiveStartKey,
      }),
    );
    rows.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  const head = rows.find((i) => i.sk === itemKeys.response(id).sk);
  if (!head || Number(head.key_id) !== keyId || Number(head.ttl) < epochSeconds(nowMs)) return undefined;
  const parts: Uint8Array[] = [];
  for (let n = 0; n < Number(head.parts); n++) {
    const part = rows.find((i) => i.sk === itemKeys.responsePart(id, n).sk);
    if (!(part?.data instanceof Uint8Array)) return undefined;
    parts.push(part.data);
  }
  return { id, keyId, createdAt: Number(head.created_at), body: unpack(Buffer.concat(parts)) };
}

/** Deletes the key's response (head first); false when there is none for this key. Items of it expire by TTL. */
export async function deleteResponse(id: string, keyId: number, itemIds: string[], nowMs = Date.now()): Promise<boolean> {
  const found = await getResponse(id, keyId, nowMs);
  if (!found) return false;
  const parts = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': itemKeys.response(id).pk },
      ProjectionExpression: 'pk, sk',
      ConsistentRead: true,
    }),
  );
  const keys = (parts.Items ?? []).map((i) => ({ pk: String(i.pk), sk: String(i.sk) }));
  const head = itemKeys.response(id);
  await deleteAll([head, ...keys.filter((k) => k.sk !== head.sk), ...itemIds.map((i) => itemKeys.responseItem(i))]);
  return true;
}

/** Output items of the key's stored responses, by id (missing, expired and other keys' ones are absent). */
export async function getItems(ids: string[], keyId: number, nowMs = Date.now()): Promise<Map<string, JsonValue>> {
  const out = new Map<string, JsonValue>();
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += 100) {
    let keys: Array<Record<string, unknown>> = unique.slice(i, i + 100).map((id) => ({ ...itemKeys.responseItem(id) }));
    for (let attempt = 0; keys.length > 0; attempt++) {
      const res = await db().send(new BatchGetCommand({ RequestItems: { [tableName()]: { Keys: keys, ConsistentRead: true } } }));
      for (const row of res.Responses?.[tableName()] ?? []) {
        if (Number(row.key_id) !== keyId || Number(row.ttl) < epochSeconds(nowMs) || !(row.data instanceof Uint8Array)) continue;
        out.set(String(row.item_id), unpack(row.data));
      }
      keys = res.UnprocessedKeys?.[tableName()]?.Keys ?? [];
      if (keys.length && attempt > 8) throw new Error('DynamoDB kept keys unprocessed');
      if (keys.length) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
  return out;
}

async function batchPut(items: Array<Record<string, unknown>>): Promise<void> {
  // BatchWrite takes at most 25 items and 16 MB; parts are ≤ 350 KB, so 25 of them stay far below it.
  for (let i = 0; i < items.length; i += 25) {
    let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      const out = await db().send(new BatchWriteCommand({ RequestItems: { [tableName()]: requests } }));
      requests = (out.UnprocessedItems?.[tableName()] ?? []) as typeof requests;
      if (requests.length && attempt > 8) throw new Error('DynamoDB kept items unprocessed');
      if (requests.length) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
}
