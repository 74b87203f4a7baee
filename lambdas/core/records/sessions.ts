import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { countAll, countForKey, countUpdate } from './counts.js';
import { listPage, type Partition, type RecordPage, searchBudget, searchWindow, source } from './listing.js';
import { money, type Money } from '../money.js';
import { nextId } from '../store/counters.js';
import { cancellationCodes, db, tableName } from '../store/table.js';
import { indexKeys, itemKeys, partitions } from '../store/table-keys.js';
import { str } from '../store/attributes.js';

/** A conversation named by the client's `Session-Id` header, per key. Totals grow with every charged thread. */
export interface Session {
  id: number;
  keyId: number;
  sessionKey: string;
  title: string;
  tokensIn: number;
  tokensOut: number;
  fee: Money;
  /** Threads recorded in this session (kept by settle's transaction). */
  threadCount: number;
  createdAt: string;
  updatedAt: string;
}

function sessionFromItem(item: Record<string, unknown>): Session {
  return {
    id: Number(item.id),
    keyId: Number(item.key_id),
    sessionKey: str(item.session_key),
    title: str(item.title),
    tokensIn: Number(item.tokens_in ?? 0),
    tokensOut: Number(item.tokens_out ?? 0),
    fee: money(item.fee),
    threadCount: Number(item.thread_count ?? 0),
    createdAt: str(item.created_at),
    updatedAt: str(item.updated_at),
  };
}

export async function getSession(id: number): Promise<Session | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: itemKeys.session(id) }));
  return out.Item ? sessionFromItem(out.Item) : undefined;
}

/**
 * The session id for (key, Session-Id), created on first use with a title from the first prompt and the time `at` of
 * the call that opens it (the time its settlement writes as updated_at: created_at never comes after it).
 */
export async function sessionIdFor(keyId: number, sessionKey: string, firstPrompt: string, at: string): Promise<number> {
  const pointer = itemKeys.sessionPointer(keyId, sessionKey);
  const found = await db().send(new GetCommand({ TableName: tableName(), Key: pointer, ConsistentRead: true }));
  if (found.Item) return Number(found.Item.session_id);
  const id = await nextId('session');
  for (let attempt = 0; ; attempt++) {
    try {
      await db().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: tableName(),
                Item: { ...pointer, type: 'session-key', session_id: id, key_id: keyId },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: tableName(),
                Item: {
                  ...itemKeys.session(id),
                  type: 'session',
                  id,
                  key_id: keyId,
                  session_key: sessionKey,
                  title: titleFrom(firstPrompt),
                  title_lc: titleFrom(firstPrompt).toLowerCase(),
                  tokens_in: 0,
                  tokens_out: 0,
                  fee: 0,
                  thread_count: 0,
                  created_at: at,
                  updated_at: at,
                  ...indexKeys.session(id, keyId),
                },
              },
            },
            countUpdate('SESSIONS', keyId),
          ],
        }),
      );
      return id;
    } catch (e) {
      const codes = cancellationCodes(e);
      if (codes?.[0] === 'ConditionalCheckFailed') {
        // A concurrent first call created it.
        const again = await db().send(new GetCommand({ TableName: tableName(), Key: pointer, ConsistentRead: true }));
        return Number(again.Item!.session_id);
      }
      // Another new session of this key bumped the counter at the same moment: try again.
      if (codes?.includes('TransactionConflict') && attempt < 20) {
        await new Promise((r) => setTimeout(r, Math.random() * 10 * (attempt + 1)));
        continue;
      }
      throw e;
    }
  }
}

export interface SessionQuery {
  keyId?: number;
  /** Case-insensitive substring of the title. */
  q?: string;
  offset: number;
  limit: number;
  cursor?: number;
}

/** Sessions newest first, of one key (gsi2) or of everyone (the table's SESSIONS#<n> shards). */
export async function listSessions(query: SessionQuery): Promise<RecordPage<Session>> {
  const partition: Partition =
    query.keyId === undefined ? source(partitions.sessions, false) : source(partitions.sessionsOfKey(query.keyId), false);
  if (query.q) {
    const w = await searchWindow(
      partition,
      // The title (case-insensitive), or the session id the client named (as it sent it).
      { expression: 'contains(title_lc, :q) OR contains(session_key, :key)', values: { ':q': query.q.toLowerCase(), ':key': query.q } },
      { offset: query.offset, limit: query.limit, budget: searchBudget('sessions'), cursor: query.cursor },
    );
    return {
      items: w.items.map(sessionFromItem),
      total: w.total,
      search: { scanned: w.scanned, complete: w.complete, next_cursor: w.nextCursor },
    };
  }
  const [items, total] = await Promise.all([
    listPage(partition, query.offset, query.limit),
    query.keyId === undefined ? countAll('SESSIONS') : countForKey('SESSIONS', query.keyId),
  ]);
  return { items: items.map(sessionFromItem), total };
}

/**
 * Blocks agents put in front of the user's words: Claude Code's `<system-reminder>`, `<command-name>`…, Codex's
 * `<environment_context>`, `<user_instructions>`… (a tag with a dash or an underscore, so not an HTML one).
 */
const AGENT_BLOCK = /<([a-z][a-z0-9]*[-_][a-z0-9_-]*)(?:\s[^>]*)?>[\s\S]*?<\/\1>|<[a-z][a-z0-9]*[-_][a-z0-9_-]*\s*\/>/g;

/** A session's title: its first prompt on one line, without agents' context blocks when words remain. */
export function titleFrom(prompt: string): string {
  const words = prompt.replace(AGENT_BLOCK, ' ').trim();
  const oneLine = (words || prompt).replace(/\s+/g, ' ').trim();
  return oneLine.length > 80 ? `${oneLine.slice(0, 79)}…` : oneLine || '(untitled)';
}
