/**
 * Write units by DynamoDB's billing rules, for the calls the counting proxy saw. DynamoDB Local's ConsumedCapacity
 * does not follow them for transactions: it reports a TransactWriteItems call as one write of the sum of its items
 * (twice), where DynamoDB bills each item on its own, rounded up to 1 KB, twice. So the bench prints both.
 *
 * The rules (DynamoDB developer guide, "Capacity unit consumption"): a write costs 1 WCU per KB of the item, rounded
 * up, for each item — an update on the larger of the item before and after, a delete on the item deleted; each item
 * of a transaction 2 WCU per KB; and each global secondary index that holds the item one more write of its entry
 * (projection ALL: the whole item). Item size: attribute names and values in bytes (strings in UTF-8, numbers about
 * one byte per two significant digits plus one, 1 byte for a boolean or null, 3 bytes plus 1 per element for a map
 * or a list).
 *
 * What is sized here is the item as it is once the calls are over (read back), which for the items of a call made
 * one at a time is the item it wrote. Index entries: see indexUnits().
 */
import { DescribeTableCommand, DynamoDBClient, GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DdbCall, WireItem } from './ddb-proxy.js';

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

function numberSize(n: string): number {
  const digits = n.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** The size of one attribute value as DynamoDB counts it. */
export function valueSize(v: Record<string, unknown>): number {
  const [type, x] = Object.entries(v)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return utf8(String(x));
    case 'N':
      return numberSize(String(x));
    case 'B':
      return typeof x === 'string' ? Buffer.from(x, 'base64').length : (x as Uint8Array).length;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return (x as string[]).reduce((n, e) => n + utf8(e), 0);
    case 'NS':
      return (x as string[]).reduce((n, e) => n + numberSize(e), 0);
    case 'BS':
      return (x as string[]).reduce((n, e) => n + Buffer.from(e, 'base64').length, 0);
    case 'L':
      return 3 + (x as Array<Record<string, unknown>>).reduce((n, e) => n + 1 + valueSize(e), 0);
    case 'M':
      return 3 + Object.entries(x as WireItem).reduce((n, [k, e]) => n + 1 + utf8(k) + valueSize(e), 0);
    default:
      return 0;
  }
}

/** The size of an item: its attribute names and values. */
export function itemSize(item: WireItem): number {
  return Object.entries(item).reduce((n, [name, v]) => n + utf8(name) + valueSize(v), 0);
}

const kb = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

interface Index {
  keys: string[];
  projection: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  include: string[];
}

/**
 * What an index entry of this item costs to write (0 when the item is not in the index). Simplified where the
 * gateway's table cannot tell: every write is counted as writing the entry (exact for projection ALL, the table's
 * only kind; a KEYS_ONLY or INCLUDE entry is written only when a projected attribute changes), and an update that
 * moves an item to another index key (two entries: a delete and a put) is counted once — no call does that.
 */
function indexUnits(item: WireItem, tableKeys: string[], index: Index): number {
  if (!index.keys.every((k) => k in item)) return 0;
  if (index.projection === 'ALL') return kb(itemSize(item));
  const kept = new Set([...tableKeys, ...index.keys, ...(index.projection === 'INCLUDE' ? index.include : [])]);
  return kb(itemSize(Object.fromEntries(Object.entries(item).filter(([k]) => kept.has(k)))));
}

export interface Biller {
  /** Write units of these calls by DynamoDB's rules (calls answered with an error count nothing here). */
  writeUnits(calls: DdbCall[]): Promise<number>;
  close(): void;
}

export async function startBiller(endpoint: string): Promise<Biller> {
  const client = new DynamoDBClient({ endpoint, maxAttempts: 2 });
  const tables = new Map<string, { keys: string[]; indexes: Index[] }>();
  const table = async (name: string) => {
    let t = tables.get(name);
    if (!t) {
      const d = (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
      t = {
        keys: (d?.KeySchema ?? []).map((k) => k.AttributeName ?? ''),
        indexes: (d?.GlobalSecondaryIndexes ?? []).map((g) => ({
          keys: (g.KeySchema ?? []).map((k) => k.AttributeName ?? ''),
          projection: g.Projection?.ProjectionType ?? 'ALL',
          include: g.Projection?.NonKeyAttributes ?? [],
        })),
      };
      tables.set(name, t);
    }
    return t;
  };
  return {
    async writeUnits(calls) {
      let units = 0;
      for (const call of calls) {
        if (call.status !== 200) continue;
        for (const w of call.writes) {
          const t = await table(w.table);
          const item =
            w.item ??
            ((
              await client.send(
                new GetItemCommand({ TableName: w.table, Key: w.key as unknown as Record<string, AttributeValue>, ConsistentRead: true }),
              )
            ).Item as WireItem | undefined) ??
            w.key ??
            {};
          units += kb(itemSize(item)) * (w.transactional ? 2 : 1);
          for (const index of t.indexes) units += indexUnits(item, t.keys, index);
        }
      }
      return units;
    },
    close: () => client.destroy(),
  };
}
