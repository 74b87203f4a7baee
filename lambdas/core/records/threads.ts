import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { money, moneyAttr, type Money } from '../money.js';
import { db, tableName } from '../store/table.js';
import { indexKeys, itemKeys, partitions } from '../store/table-keys.js';
import { countAll, countForKey } from './counts.js';
import { listPage, type Partition, type RecordPage, searchBudget, searchWindow, source } from './listing.js';
import { getSession } from './sessions.js';
import { str } from '../store/attributes.js';

export type { RecordPage } from './listing.js';

/** One recorded call (completion or embeddings): what was asked, answered, used and charged. */
export interface Thread {
  id: number;
  requestId: string;
  kind: 'chat' | 'embeddings';
  keyId: number;
  sessionId: number | null;
  model: string;
  modelId: number;
  prompt: string;
  completion: string;
  reasoning: string;
  toolCalls: unknown[];
  finishReason: string | null;
  tokensIn: number;
  tokensOut: number;
  tokensCacheRead: number;
  tokensCacheWrite: number;
  priceIn: Money;
  priceOut: Money;
  fee: Money;
  firstByteLatency: number | null;
  totalLatency: number;
  status: 'ok' | 'error' | 'interrupted';
  error: string | null;
  /** Models tried (or skipped) before the one in `model` answered: fallbacks. */
  attempts: Array<{ model: string; error: string }>;
  createdAt: string;
}

/** The error text of a fallback that was not tried (the key may not use it, it is gone, or no chat model). */
export const SKIPPED_PREFIX = 'skipped: ';

export function threadItem(t: Thread): Record<string, unknown> {
  return {
    ...itemKeys.thread(t.id),
    type: 'thread',
    id: t.id,
    request_id: t.requestId,
    kind: t.kind,
    key_id: t.keyId,
    session_id: t.sessionId,
    model: t.model,
    model_id: t.modelId,
    prompt: t.prompt,
    completion: t.completion,
    reasoning: t.reasoning,
    tool_calls: t.toolCalls,
    finish_reason: t.finishReason,
    tokens_in: t.tokensIn,
    tokens_out: t.tokensOut,
    tokens_cache_read: t.tokensCacheRead,
    tokens_cache_write: t.tokensCacheWrite,
    price_in: moneyAttr(t.priceIn),
    price_out: moneyAttr(t.priceOut),
    fee: moneyAttr(t.fee),
    first_byte_latency: t.firstByteLatency,
    total_latency: t.totalLatency,
    status: t.status,
    error: t.error,
    ...(t.attempts.length ? { attempts: t.attempts.map((a) => ({ model: a.model, error: a.error.slice(0, 500) })) } : {}),
    created_at: t.createdAt,
    // Lower-cased copy for q search (see docs/data-model.md, "Search and listing cost").
    search: searchText(t.prompt, t.completion),
    ...indexKeys.thread(t.id, t.keyId, t.sessionId),
  };
}

function threadFromItem(item: Record<string, unknown>): Thread {
  return {
    id: Number(item.id),
    requestId: str(item.request_id),
    kind: item.kind === 'embeddings' ? 'embeddings' : 'chat',
    keyId: Number(item.key_id),
    sessionId: item.session_id === null || item.session_id === undefined ? null : Number(item.session_id),
    model: str(item.model),
    modelId: Number(item.model_id ?? 0),
    prompt: str(item.prompt),
    completion: str(item.completion),
    reasoning: str(item.reasoning),
    toolCalls: (item.tool_calls as unknown[]) ?? [],
    finishReason: (item.finish_reason as string | null) ?? null,
    tokensIn: Number(item.tokens_in ?? 0),
    tokensOut: Number(item.tokens_out ?? 0),
    tokensCacheRead: Number(item.tokens_cache_read ?? 0),
    tokensCacheWrite: Number(item.tokens_cache_write ?? 0),
    priceIn: money(item.price_in),
    priceOut: money(item.price_out),
    fee: money(item.fee),
    firstByteLatency: item.first_byte_latency === null || item.first_byte_latency === undefined ? null : Number(item.first_byte_latency),
    totalLatency: Number(item.total_latency ?? 0),
    status: (item.status as Thread['status']) ?? 'ok',
    error: (item.error as string | null) ?? null,
    attempts: Array.isArray(item.attempts) ? (item.attempts as Array<{ model: string; error: string }>) : [],
    createdAt: str(item.created_at),
  };
}

export async function getThread(id: number): Promise<Thread | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: itemKeys.thread(id) }));
  return out.Item ? threadFromItem(out.Item) : undefined;
}

/** Characters of prompt and of completion that q search sees (each; the `search` attribute is ≤ 2 × this). */
const SEARCH_CHARS = 4000;

function searchText(prompt: string, completion: string): string {
  return `${prompt.slice(0, SEARCH_CHARS)}\n${completion.slice(0, SEARCH_CHARS)}`.toLowerCase();
}

export interface ThreadQuery {
  keyId?: number;
  sessionId?: number;
  /** Case-insensitive substring of the prompt or completion (their first SEARCH_CHARS characters). */
  q?: string;
  offset: number;
  limit: number;
  /** Continue a q search beyond a previous window (its nextCursor). */
  cursor?: number;
}

/**
 * Threads of one session (oldest first), of one key, or of everyone (newest first), each from one partition (never a
 * Scan): session → gsi3, key → gsi2, all → the table's THREADS#<n> shards. Totals come from counters (see counts.ts),
 * q totals from the window.
 */
export async function listThreads(query: ThreadQuery): Promise<RecordPage<Thread>> {
  let partition: Partition;
  let total: () => Promise<number>;
  if (query.sessionId !== undefined) {
    const session = await getSession(query.sessionId);
    if (!session || (query.keyId !== undefined && session.keyId !== query.keyId)) return { items: [], total: 0 };
    partition = source(partitions.threadsOfSession(query.sessionId), true);
    total = () => Promise.resolve(session.threadCount);
  } else if (query.keyId !== undefined) {
    partition = source(partitions.threadsOfKey(query.keyId), false);
    const keyId = query.keyId;
    total = () => countForKey('THREADS', keyId);
  } else {
    partition = source(partitions.threads, false);
    total = () => countAll('THREADS');
  }
  if (query.q) {
    const w = await searchWindow(
      partition,
      { expression: 'contains(#search, :q)', names: { '#search': 'search' }, values: { ':q': query.q.toLowerCase() } },
      { offset: query.offset, limit: query.limit, budget: searchBudget('threads'), cursor: query.cursor },
    );
    return {
      items: w.items.map(threadFromItem),
      total: w.total,
      search: { scanned: w.scanned, complete: w.complete, next_cursor: w.nextCursor },
    };
  }
  const [items, n] = await Promise.all([listPage(partition, query.offset, query.limit), total()]);
  return { items: items.map(threadFromItem), total: n };
}
