import { z } from 'zod';
import { currentMonth } from '../clock.js';
import { dropEmpty, parse, zId, zName, zPage, zQuery } from '../validate.js';
import { moneyToJson, type Money } from '../money.js';
import { errors } from '../errors.js';
import { requireGroup } from '../store/groups.js';
import { listKeys } from '../store/keys.js';
import { LIST_TEXT_CHARS, sessionView, statView, threadView } from './views.js';
import { getSession, listSessions, type Session } from '../records/sessions.js';
import { listStats } from '../records/stats.js';
import { getThread, listThreads, type RecordPage, type Thread } from '../records/threads.js';

/**
 * The record routes' shared halves (admin sees everything, a user only its own key; see lambdas/admin/routes/records.ts
 * and lambdas/user/routes.ts). Lists come from GSI queries only; see docs/data-model.md, "Search and listing cost".
 */

/** Thread lists are capped per page: items can be large, and a response must stay far below Lambda's 6 MB. */
const MAX_THREAD_PAGE = 200;

// As long as what it may name: a session's Session-Id, a model name (≤ MAX_NAME), like every list's q.
const zQ = zQuery.optional();

export const sessionListSchema = zPage.extend({ q: zQ, key_id: zId.optional(), cursor: zId.optional() });
export const threadListSchema = zPage.extend({ q: zQ, key_id: zId.optional(), session_id: zId.optional(), cursor: zId.optional() });
export const idParams = z.object({ id: zId });

export function parseQuery<S extends z.ZodType>(schema: S, query: Record<string, string | undefined>): z.output<S> {
  return parse(schema, dropEmpty(query));
}

function envelope<T, V>(page: RecordPage<T>, view: (t: T) => V, limit: number, offset: number) {
  return { items: page.items.map(view), total: page.total, limit, offset, ...(page.search ? { search: page.search } : {}) };
}

export async function sessionList(q: z.output<typeof sessionListSchema>) {
  const page = await listSessions({ keyId: q.key_id, q: q.q || undefined, offset: q.offset, limit: q.limit, cursor: q.cursor });
  return envelope(page, sessionView, q.limit, q.offset);
}

/** `forOwner`: a /user route's list (see threadView). */
export async function threadList(q: z.output<typeof threadListSchema>, forOwner = false) {
  const limit = Math.min(q.limit, MAX_THREAD_PAGE);
  const page = await listThreads({
    keyId: q.key_id,
    sessionId: q.session_id,
    q: q.q || undefined,
    offset: q.offset,
    limit,
    cursor: q.cursor,
  });
  return envelope(page, (t: Thread) => threadView(t, { previewChars: LIST_TEXT_CHARS, forOwner }), limit, q.offset);
}

/** How many of its threads a session's detail view carries (the rest: thread/list?session_id=&offset=). */
const SESSION_DETAIL_THREADS = 50;

/**
 * A session with its first SESSION_DETAIL_THREADS threads (oldest first, texts shortened as in lists) as a list
 * envelope, so `threads.total` tells whether `thread/list?session_id=` has more. `ownerKeyId` as in requireSession.
 */
export async function sessionDetail(id: number, ownerKeyId?: number) {
  const session = await requireSession(id, ownerKeyId);
  const threads = await listThreads({ sessionId: session.id, offset: 0, limit: SESSION_DETAIL_THREADS });
  return {
    ...sessionView(session),
    threads: envelope(
      threads,
      (t: Thread) => threadView(t, { previewChars: LIST_TEXT_CHARS, forOwner: ownerKeyId !== undefined }),
      SESSION_DETAIL_THREADS,
      0,
    ),
  };
}

/** A session by id; with `ownerKeyId`, anything not owned by that key is indistinguishable from missing (404). */
export async function requireSession(id: number, ownerKeyId?: number): Promise<Session> {
  const s = await getSession(id);
  if (!s || (ownerKeyId !== undefined && s.keyId !== ownerKeyId)) throw errors.notFound(`Session ${id} not found.`);
  return s;
}

export async function requireThread(id: number, ownerKeyId?: number): Promise<Thread> {
  const t = await getThread(id);
  if (!t || (ownerKeyId !== undefined && t.keyId !== ownerKeyId)) throw errors.notFound(`Thread ${id} not found.`);
  return t;
}

// ---------------------------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------------------------

const MAX_STATS_DAYS = 366;

const zDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine(
    (d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10) === d,
    'is not a valid date',
  );

export const usageSchema = z.object({
  from: zDay.optional(),
  to: zDay.optional(),
  key_id: zId.optional(),
  group_id: zId.optional(),
  model: zName.optional(),
});

/** The days of the current UTC month: first to last. */
function currentMonthRange(month = currentMonth()): { from: string; to: string } {
  const [y, m] = month.split('-').map(Number);
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return { from: `${month}-01`, to: `${month}-${String(last).padStart(2, '0')}` };
}

export async function usage(input: z.output<typeof usageSchema>) {
  const month = currentMonthRange();
  const from = input.from ?? (input.to ? input.to.slice(0, 8) + '01' : month.from);
  const to = input.to ?? (from <= month.to ? month.to : from);
  if (from > to) throw errors.badRequest("'from' must not be after 'to'.", 'from');
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1;
  if (days > MAX_STATS_DAYS) throw errors.badRequest(`The range may span at most ${MAX_STATS_DAYS} days.`, 'to');

  let keyIds: Set<number> | undefined;
  if (input.group_id !== undefined) {
    await requireGroup(input.group_id);
    keyIds = new Set((await listKeys({ groupId: input.group_id })).map((k) => k.id));
  }
  const rows = (await listStats({ from, to }))
    .filter(
      (r) =>
        (input.key_id === undefined || r.keyId === input.key_id) &&
        (!keyIds || keyIds.has(r.keyId)) &&
        (!input.model || r.model === input.model),
    )
    .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.keyId - b.keyId || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0)));

  let fee: Money = 0n;
  const totals = { requests: 0, tokens_in: 0, tokens_out: 0, tokens_cache_read: 0, tokens_cache_write: 0, fee: 0 };
  for (const r of rows) {
    totals.requests += r.requests;
    totals.tokens_in += r.tokensIn;
    totals.tokens_out += r.tokensOut;
    totals.tokens_cache_read += r.tokensCacheRead;
    totals.tokens_cache_write += r.tokensCacheWrite;
    fee += r.fee;
  }
  totals.fee = moneyToJson(fee);
  return { from, to, items: rows.map(statView), totals };
}
