import { GetCommand, ScanCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { cancellationCodes, db, tableName } from './table.js';
import { itemKeys, type ItemKey } from './table-keys.js';

/**
 * Moves records of the first layout (2026-11) to the present one. Threads, sessions, daily statistics and record
 * counters used to sit in their own partitions (`THREAD#<id>`, `SESSION#<id>`, `STAT#<day>`, `KEYCOUNT#<kid>`) with
 * gsi1 entries for the global lists; they now sit in the sharded partitions those lists read (table-keys.ts), so
 * every call writes no gsi1 entry at all. Run once after deploying (`npm run migrate`; docs/data-model.md,
 * "Migrations"); it may run while the gateway serves, and again: every moved item is one transaction (write the new
 * item, delete the old one if it still holds the totals read), and what the new code already wrote under a new key is
 * merged, not overwritten — running totals (statistics, counters, session totals) are added, other attributes kept;
 * a thread under both keys is one call, kept as it is.
 *
 * This is the one place that Scans the table.
 */
export interface MigrationReport {
  scanned: number;
  moved: Record<'thread' | 'session' | 'stat' | 'count', number>;
}

type Item = Record<string, unknown>;
type Kind = keyof MigrationReport['moved'];

/** Attributes that accumulate (ADDed by settlements): merged by adding when the new item exists already. */
const RUNNING_TOTALS = new Set([
  'n',
  'requests',
  'tokens_in',
  'tokens_out',
  'tokens_cache_read',
  'tokens_cache_write',
  'fee',
  'thread_count',
]);

const OLD_PREFIXES: Array<[Kind, string]> = [
  ['thread', 'THREAD#'],
  ['session', 'SESSION#'],
  ['stat', 'STAT#'],
  ['count', 'KEYCOUNT#'],
];

/** The present key of an item of the first layout, or undefined when the item is not one. */
function newKeyOf(item: Item): { kind: Kind; key: ItemKey } | undefined {
  const pk = String(item.pk);
  const sk = String(item.sk);
  const kind = OLD_PREFIXES.find(([, prefix]) => pk.startsWith(prefix))?.[0];
  const rest = (prefix: string) => pk.slice(prefix.length);
  switch (kind) {
    case 'thread':
      return sk === 'THREAD' ? { kind, key: itemKeys.thread(Number(rest('THREAD#'))) } : undefined;
    case 'session':
      return sk === 'SESSION' ? { kind, key: itemKeys.session(Number(rest('SESSION#'))) } : undefined;
    case 'stat': {
      const m = /^KEY#(\d+)#MODEL#(.*)$/s.exec(sk);
      return m ? { kind, key: itemKeys.stat(rest('STAT#'), Number(m[1]), m[2]) } : undefined;
    }
    case 'count':
      return sk === 'THREADS' || sk === 'SESSIONS' ? { kind, key: itemKeys.count(Number(rest('KEYCOUNT#')), sk) } : undefined;
    default:
      return undefined;
  }
}

const isNumber = (v: unknown) => typeof v === 'number' || (typeof v === 'object' && v !== null && 'value' in v);

/**
 * Write `old` under `key` (merged into what is there) and delete the old item, in one transaction. The delete is
 * conditioned on the old item's running totals being what was read, so an ADD that old code still running made
 * in between fails the move (it is read again and retried) instead of being lost.
 */
async function move(kind: Kind, old: Item, key: ItemKey): Promise<void> {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const set: string[] = [];
  const add: string[] = [];
  // The delete's condition: the item is there, with the running totals read (its own names and values).
  const check = { expression: ['attribute_exists(pk)'], names: {} as Record<string, string>, values: {} as Record<string, unknown> };
  let i = 0;
  for (const [attr, value] of Object.entries(old)) {
    // The old gsi1 entry named the global list's shard: the item's own key does that now.
    if (attr === 'pk' || attr === 'sk' || attr === 'gsi1pk' || attr === 'gsi1sk' || value === undefined) continue;
    const n = `#a${i}`;
    const v = `:v${i}`;
    i++;
    names[n] = attr;
    values[v] = value;
    // A thread is written whole, once: what exists under its new key already is the same call (never added to).
    if (kind !== 'thread' && RUNNING_TOTALS.has(attr) && isNumber(value)) {
      add.push(`${n} ${v}`);
      check.expression.push(`${n} = ${v}`);
      check.names[n] = attr;
      check.values[v] = value;
    } else set.push(`${n} = if_not_exists(${n}, ${v})`);
  }
  const expression = [set.length ? `SET ${set.join(', ')}` : '', add.length ? `ADD ${add.join(', ')}` : ''].join(' ').trim();
  const del = {
    Delete: {
      TableName: tableName(),
      Key: { pk: old.pk, sk: old.sk },
      ConditionExpression: check.expression.join(' AND '),
      ...(add.length ? { ExpressionAttributeNames: check.names, ExpressionAttributeValues: check.values } : {}),
    },
  };
  // An item of nothing but keys (never written so) has nothing to move: it is only deleted.
  const update = expression
    ? [
        {
          Update: {
            TableName: tableName(),
            Key: key,
            UpdateExpression: expression,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          },
        },
      ]
    : [];
  await db().send(new TransactWriteCommand({ TransactItems: [...update, del] }));
}

export async function migrateRecordLayout(onProgress?: (r: MigrationReport) => void): Promise<MigrationReport> {
  const report: MigrationReport = { scanned: 0, moved: { thread: 0, session: 0, stat: 0, count: 0 } };
  let start: Item | undefined;
  do {
    const page = await db().send(
      new ScanCommand({
        TableName: tableName(),
        FilterExpression: OLD_PREFIXES.map((_, i) => `begins_with(pk, :p${i})`).join(' OR '),
        ExpressionAttributeValues: Object.fromEntries(OLD_PREFIXES.map(([, prefix], i) => [`:p${i}`, prefix])),
        ExclusiveStartKey: start,
      }),
    );
    report.scanned += page.ScannedCount ?? 0;
    for (const item of (page.Items ?? []) as Item[]) {
      const target = newKeyOf(item);
      if (!target) continue;
      let current: Item | undefined = item;
      for (let attempt = 0; current; attempt++) {
        try {
          await move(target.kind, current, target.key);
          report.moved[target.kind]++;
          break;
        } catch (e) {
          const codes = cancellationCodes(e);
          if (!codes || attempt >= 20) throw e;
          // The old item changed since the Scan (old code still running added to it) or is gone (a concurrent run
          // moved it): read it again, consistently, and move what is there now, if anything.
          if (codes.at(-1) === 'ConditionalCheckFailed') {
            const oldKey = { pk: current.pk, sk: current.sk };
            const again: { Item?: Item } = await db().send(new GetCommand({ TableName: tableName(), Key: oldKey, ConsistentRead: true }));
            current = again.Item;
            continue;
          }
          // A settlement wrote the new item at the same moment: try again.
          if (codes.includes('TransactionConflict')) {
            await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
            continue;
          }
          throw e;
        }
      }
    }
    onProgress?.(report);
    start = page.LastEvaluatedKey as Item | undefined;
  } while (start);
  return report;
}
