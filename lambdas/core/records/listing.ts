import { config } from '../config.js';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../store/table.js';
import { type IndexName, type IndexPartition, pad } from '../store/table-keys.js';

/**
 * Reading records a page at a time from one GSI partition (never a Scan). Two modes:
 *
 * - `listPage`: the items at [offset, offset+limit) in the partition's order. Reads exactly offset+limit items.
 * - `searchWindow`: a substring filter (q) evaluated over a bounded window of the partition: at most
 *   `budget.items` items and `budget.pages` pages (each ≤ 1 MB), so one search reads at most ~pages MB whatever the
 *   table holds. `total` counts the matches inside the window; `complete` says whether the window reached the end
 *   of the partition; `nextCursor` continues the search past the window.
 *
 * Sort keys of record indexes are pad(id), so an id cursor is a key condition, not a filter.
 */
export type Index = IndexName;

export interface Partition extends IndexPartition {
  /** true: oldest first (threads of one session); false: newest first. */
  ascending: boolean;
}

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

function keyCondition(p: Partition, cursor: number | undefined) {
  const pkName = `${p.index}pk`;
  const skName = `${p.index}sk`;
  const values: Item = { ':pk': p.pk };
  let expression = `${pkName} = :pk`;
  if (cursor !== undefined) {
    expression += ` AND ${skName} ${p.ascending ? '>' : '<'} :cursor`;
    values[':cursor'] = pad(cursor);
  }
  return { expression, values, skName };
}

export async function listPage(p: Partition, offset: number, limit: number): Promise<Item[]> {
  const want = offset + limit;
  const kc = keyCondition(p, undefined);
  const out: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await db().send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: p.index,
        KeyConditionExpression: kc.expression,
        ExpressionAttributeValues: kc.values,
        ScanIndexForward: p.ascending,
        Limit: want - out.length,
        ExclusiveStartKey: start,
      }),
    );
    out.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey as Item | undefined;
  } while (start && out.length < want);
  return out.slice(offset, want);
}

export async function searchWindow(
  p: Partition,
  filter: Filter,
  opts: { offset: number; limit: number; budget: SearchBudget; cursor?: number },
): Promise<Window<Item>> {
  const kc = keyCondition(p, opts.cursor);
  const items: Item[] = [];
  let total = 0;
  let scanned = 0;
  let pages = 0;
  let start: Item | undefined;
  do {
    const page = await db().send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: p.index,
        KeyConditionExpression: kc.expression,
        FilterExpression: filter.expression,
        ExpressionAttributeNames: filter.names,
        ExpressionAttributeValues: { ...kc.values, ...filter.values },
        ScanIndexForward: p.ascending,
        // Limit bounds the items *evaluated* (read and paid for), before the filter.
        Limit: Math.max(1, opts.budget.items - scanned),
        ExclusiveStartKey: start,
      }),
    );
    pages++;
    scanned += page.ScannedCount ?? 0;
    for (const item of (page.Items ?? []) as Item[]) {
      if (total >= opts.offset && total < opts.offset + opts.limit) items.push(item);
      total++;
    }
    start = page.LastEvaluatedKey as Item | undefined;
  } while (start && scanned < opts.budget.items && pages < opts.budget.pages);
  const complete = start === undefined;
  return { items, total, scanned, complete, nextCursor: complete ? null : Number(start![kc.skName]) };
}

/** Search budgets (items evaluated, 1 MB pages) per request; SEARCH_SCAN_BUDGET overrides the item budget. */
export function searchBudget(kind: 'threads' | 'sessions'): SearchBudget {
  const items = config().searchScanBudget ?? (kind === 'threads' ? 2000 : 10_000);
  return { items, pages: 8 };
}
