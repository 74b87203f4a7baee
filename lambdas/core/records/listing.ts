import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../config.js';
import { db, indexNameOf, tableName } from '../store/table.js';
import { type IndexPartition, keyNames, pad } from '../store/table-keys.js';

/**
 * Reading records a page at a time from table or index partitions (never a Scan). A source is one partition (a key's or a
 * session's records) or the shards of a global list (every thread, every session: see LIST_SHARDS), which are
 * read alike and merged by id. Two modes:
 *
 * - `listPage`: the items at [offset, offset+limit) in the source's order. Reads offset+limit items from each
 *   partition of the source (so a global list costs LIST_SHARDS × that; deep pages should use `cursor`).
 * - `searchWindow`: a substring filter (q) evaluated over a bounded window of the source: at most `budget.items`
 *   items and `budget.pages` pages (each ≤ 1 MB) in all, so one search reads at most ~pages MB whatever the table
 *   holds. `total` counts the matches inside the window; `complete` says whether the window reached the end of the
 *   source; `nextCursor` continues the search past the window.
 *
 * Sort keys of record partitions are pad(id), so an id cursor is a key condition, not a filter.
 */

export interface Partition {
  /** One partition, or the shards of one list. */
  parts: IndexPartition[];
  /** true: oldest first (threads of one session); false: newest first. */
  ascending: boolean;
}

export const source = (parts: IndexPartition | IndexPartition[], ascending: boolean): Partition => ({
  parts: Array.isArray(parts) ? parts : [parts],
  ascending,
});

/** One page of records, with its total (and, for q searches, how much was read). */
export interface RecordPage<T> {
  items: T[];
  total: number;
  /** Present for q searches: how much was read, and whether the whole partition was covered. */
  search?: { scanned: number; complete: boolean; next_cursor: number | null };
}

export interface Filter {
  expression: string;
  names?: Record<string, string>;
  values: Record<string, unknown>;
}

export interface SearchBudget {
  items: number;
  pages: number;
}

export interface Window<T> {
  items: T[];
  total: number;
  /** Items the window evaluated (each one was read and paid for). */
  scanned: number;
  complete: boolean;
  /** Pass back as `cursor` to search beyond this window (null when complete). */
  nextCursor: number | null;
}

type Item = Record<string, unknown>;

function keyCondition(p: IndexPartition, ascending: boolean, cursor: number | undefined) {
  const { pk: pkName, sk: skName } = keyNames(p.index);
  const values: Item = { ':pk': p.pk };
  let expression = `${pkName} = :pk`;
  if (cursor !== undefined) {
    expression += ` AND ${skName} ${ascending ? '>' : '<'} :cursor`;
    values[':cursor'] = pad(cursor);
  }
  return { expression, values, skName };
}

/** Merges per-partition results (each already in order) by their sort key. */
function merged(lists: Item[][], skName: string, ascending: boolean): Item[] {
  const all = lists.flat();
  all.sort((a, b) => {
    const x = String(a[skName]);
    const y = String(b[skName]);
    return x === y ? 0 : x < y === ascending ? -1 : 1;
  });
  return all;
}

async function firstItems(p: IndexPartition, ascending: boolean, want: number): Promise<Item[]> {
  const kc = keyCondition(p, ascending, undefined);
  const out: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await db().send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: indexNameOf(p),
        KeyConditionExpression: kc.expression,
        ExpressionAttributeValues: kc.values,
        ScanIndexForward: ascending,
        Limit: want - out.length,
        ExclusiveStartKey: start,
      }),
    );
    out.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey as Item | undefined;
  } while (start && out.length < want);
  return out;
}

export async function listPage(src: Partition, offset: number, limit: number): Promise<Item[]> {
  const want = offset + limit;
  const lists = await Promise.all(src.parts.map((p) => firstItems(p, src.ascending, want)));
  const skName = keyNames(src.parts[0].index).sk;
  return (lists.length === 1 ? lists[0] : merged(lists, skName, src.ascending)).slice(offset, want);
}

interface ShardWindow {
  items: Item[];
  scanned: number;
  /** The sort key the read stopped before (undefined: the partition is exhausted). */
  stoppedAt: string | undefined;
}

async function windowOf(
  p: IndexPartition,
  ascending: boolean,
  filter: Filter,
  budget: SearchBudget,
  cursor: number | undefined,
): Promise<ShardWindow> {
  const kc = keyCondition(p, ascending, cursor);
  const items: Item[] = [];
  let scanned = 0;
  let pages = 0;
  let start: Item | undefined;
  do {
    const page = await db().send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: indexNameOf(p),
        KeyConditionExpression: kc.expression,
        FilterExpression: filter.expression,
        ExpressionAttributeNames: filter.names,
        ExpressionAttributeValues: { ...kc.values, ...filter.values },
        ScanIndexForward: ascending,
        // Limit bounds the items *evaluated* (read and paid for), before the filter.
        Limit: Math.max(1, budget.items - scanned),
        ExclusiveStartKey: start,
      }),
    );
    pages++;
    scanned += page.ScannedCount ?? 0;
    items.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey as Item | undefined;
  } while (start && scanned < budget.items && pages < budget.pages);
  return { items, scanned, stoppedAt: start ? String(start[kc.skName]) : undefined };
}

export async function searchWindow(
  src: Partition,
  filter: Filter,
  opts: { offset: number; limit: number; budget: SearchBudget; cursor?: number },
): Promise<Window<Item>> {
  const n = src.parts.length;
  const share: SearchBudget = {
    items: Math.max(1, Math.ceil(opts.budget.items / n)),
    pages: Math.max(1, Math.ceil(opts.budget.pages / n)),
  };
  const windows = await Promise.all(src.parts.map((p) => windowOf(p, src.ascending, filter, share, opts.cursor)));
  const skName = keyNames(src.parts[0].index).sk;
  // Across shards the window is complete only up to the nearest point where a shard stopped reading: matches past
  // it in other shards are left for the next window (the cursor), so every match is counted exactly once.
  const stops = windows.flatMap((w) => (w.stoppedAt === undefined ? [] : [w.stoppedAt]));
  const boundary =
    stops.length === 0 ? undefined : src.ascending ? stops.reduce((a, b) => (a < b ? a : b)) : stops.reduce((a, b) => (a > b ? a : b));
  const inWindow = (item: Item) => {
    if (boundary === undefined) return true;
    const sk = String(item[skName]);
    return src.ascending ? sk <= boundary : sk >= boundary;
  };
  const matches = merged(
    windows.map((w) => w.items.filter(inWindow)),
    skName,
    src.ascending,
  );
  const complete = boundary === undefined;
  return {
    items: matches.slice(opts.offset, opts.offset + opts.limit),
    total: matches.length,
    scanned: windows.reduce((s, w) => s + w.scanned, 0),
    complete,
    // The boundary item itself was evaluated; the cursor is exclusive, so the next window starts just past it.
    nextCursor: complete ? null : Number(boundary),
  };
}

/** Search budgets (items evaluated, 1 MB pages) per request; SEARCH_SCAN_BUDGET overrides the item budget. */
export function searchBudget(kind: 'threads' | 'sessions'): SearchBudget {
  const items = config().searchScanBudget ?? (kind === 'threads' ? 2000 : 10_000);
  return { items, pages: 8 };
}
