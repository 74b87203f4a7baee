import { GetCommand, PutCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { currentDay, currentMonth } from '../clock.js';
import { logger } from '../log.js';
import { emitCallMetrics } from '../metrics.js';
import { moneyAttr, type Money } from '../money.js';
import { SETTLE_QUEUE_RETENTION_DAYS } from '../topology.js';
import { boundedUsage, promptTokensOf, type TokenUsage } from '../usage.js';
import { type ApiKey, fromItem, getKeyByHash, getKeyById, leaseAttribute, leaseNameOf, leaseNames } from '../store/keys.js';
import { itemKeys } from '../store/table-keys.js';
import type { Model } from '../store/models.js';
import { nextId } from '../store/counters.js';
import { cancellationCodes, db, fromWireItem, nowIso, tableName } from '../store/table.js';
import { sessionIdFor } from '../records/sessions.js';
import { threadItem, type Thread } from '../records/threads.js';
import { capJson, capText } from '../records/limits.js';
import { statsUpdate } from '../records/stats.js';
import { countUpdate } from '../records/counts.js';
import type { Reservation } from './admission.js';
import { applyCharge } from './allowance.js';
import { costOf, pricesOf } from './cost.js';

/** Everything one finished (or failed, or interrupted) call leaves behind. */
export interface UsageRecord {
  requestId: string;
  kind: 'chat' | 'embeddings';
  keyId: number;
  /** The key as the call saw it; undefined when it was deleted before a late settlement (recorded, not charged). */
  key: ApiKey | undefined;
  model: Model;
  sessionKey?: string;
  prompt: string;
  completion: string;
  reasoning: string;
  toolCalls: unknown[];
  finishReason: string | null;
  usage: TokenUsage;
  status: Thread['status'];
  error: string | null;
  firstByteLatency: number | null;
  totalLatency: number;
  reservation: Reservation;
  /** When the call happened (ISO); default now. A deferred settlement keeps the call's own time. */
  at?: string;
  /** Models tried (or skipped) before the one that answered, with why. */
  attempts?: Array<{ model: string; error: string }>;
  /**
   * The thread's id, chosen once per call (settleReliably) so that every attempt of its settlement, deferred ones
   * included, writes the same thread. Without one, settle() picks one and writes the thread after the charge.
   */
  threadId?: number;
}

/** Longer than a deferred settlement can wait in the settle queues, so a late redelivery still finds its marker. */
const CHARGE_MARKER_TTL_S = (SETTLE_QUEUE_RETENTION_DAYS + 1) * 24 * 3600;
const MAX_ATTEMPTS = 40;

/**
 * Charges a call exactly once and records it. The key's money (and the release of the call's lease), the session
 * totals, the daily statistics and the thread count are written in ONE transaction of small items, together with a
 * marker item named by the request id, so a retried settlement can never charge twice — even when an earlier
 * attempt's transaction committed and only its response was lost. The thread itself (the call's prompt and answer,
 * often many KB) is written beside the transaction, by a plain PutItem of its own id, which every attempt may repeat:
 * a transaction bills every item twice, and the thread is most of the bytes (docs/data-model.md, "Capacity"). With a
 * thread id chosen up front the two writes go in parallel; without one the marker of the attempt that charged names
 * the thread's id, so a retry never leaves two threads behind. The quota/balance split is computed from the key as
 * read and guarded by conditions on those very figures; a concurrent charge makes us re-read and try again. A store
 * fault is thrown: see settleReliably() for what happens then.
 */
export async function settle(given: UsageRecord): Promise<{ threadId: number; fee: Money }> {
  // Whatever a provider reported, the books see whole, non-negative, bounded counts (usage.ts): a -100000 must not
  // credit the key, nor a 10.5 or 1e30 make the settlement fail on every retry.
  const rec: UsageRecord = { ...given, usage: boundedUsage(given.usage) };
  const prices = pricesOf(rec.model);
  const fee = costOf(rec.usage, prices);
  const now = rec.at ?? nowIso();
  // A new session is born at the call's time, which its totals' updated_at is set to below.
  const sessionId = rec.sessionKey ? await sessionIdFor(rec.keyId, rec.sessionKey, rec.prompt, now) : null;
  const threadId = rec.threadId ?? (await nextId('thread'));
  const thread: Thread = {
    id: threadId,
    requestId: rec.requestId,
    kind: rec.kind,
    keyId: rec.keyId,
    sessionId,
    model: rec.model.name,
    modelId: rec.model.id,
    prompt: capText(rec.prompt),
    completion: capText(rec.completion),
    reasoning: capText(rec.reasoning),
    toolCalls: capJson(rec.toolCalls),
    finishReason: rec.finishReason,
    tokensIn: rec.usage.inputTokens,
    tokensOut: rec.usage.outputTokens,
    tokensCacheRead: rec.usage.cacheReadTokens,
    tokensCacheWrite: rec.usage.cacheWriteTokens,
    priceIn: prices.in,
    priceOut: prices.out,
    fee,
    firstByteLatency: rec.firstByteLatency,
    totalLatency: rec.totalLatency,
    status: rec.status,
    error: rec.error,
    attempts: rec.attempts ?? [],
    createdAt: now,
  };
  const putThread = (id: number) =>
    db().send(new PutCommand({ TableName: tableName(), Item: threadItem(id === thread.id ? thread : { ...thread, id }) }));
  // If either write fails, the settlement fails (once both are done) and is retried whole: both are idempotent.
  const early = rec.threadId === undefined ? undefined : putThread(threadId);
  // Awaited below; a handler now, so that a failure arriving while the transaction still runs is not unhandled.
  early?.catch(() => undefined);
  let charged: { threadId: number };
  try {
    charged = await charge(rec, { threadId, fee, sessionId, now, promptTokens: promptTokensOf(rec.usage) });
  } catch (e) {
    await early?.catch(() => undefined);
    throw e;
  }
  await (early ?? putThread(charged.threadId));
  return { threadId: charged.threadId, fee };
}

/** The transaction of settle(): marker, statistics, count, session totals and the key's money. */
async function charge(
  rec: UsageRecord,
  c: { threadId: number; fee: Money; sessionId: number | null; now: string; promptTokens: number },
): Promise<{ threadId: number }> {
  const { threadId, fee, sessionId, now } = c;
  let key: ApiKey | undefined = rec.key && asAdmitted(rec.key, rec.reservation);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const month = currentMonth();
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
      {
        Put: {
          TableName: tableName(),
          Item: {
            ...itemKeys.charge(rec.requestId),
            type: 'charge',
            thread_id: threadId,
            ttl: Math.floor(Date.now() / 1000) + CHARGE_MARKER_TTL_S,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      statsUpdate({ day: rec.at ? rec.at.slice(0, 10) : currentDay(), keyId: rec.keyId, model: rec.model.name, usage: rec.usage, fee }),
      // Exact list totals without counting items (records/counts.ts).
      countUpdate('THREADS', rec.keyId),
    ];
    if (sessionId !== null) {
      // A session has no cache columns: its tokens_in counts every prompt token, like OpenAI's prompt_tokens.
      const promptTokens = rec.usage.inputTokens + rec.usage.cacheReadTokens + rec.usage.cacheWriteTokens;
      items.push({
        Update: {
          TableName: tableName(),
          Key: itemKeys.session(sessionId),
          // The owner too, if missing: a session of the first layout not yet migrated is otherwise born ownerless here.
          UpdateExpression:
            'ADD tokens_in :i, tokens_out :o, fee :f, thread_count :one SET updated_at = :now, id = if_not_exists(id, :sid), key_id = if_not_exists(key_id, :k), #type = if_not_exists(#type, :type)',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: {
            ':i': promptTokens,
            ':o': rec.usage.outputTokens,
            ':f': moneyAttr(fee),
            ':now': now,
            ':one': 1,
            ':sid': sessionId,
            ':k': rec.keyId,
            ':type': 'session',
          },
        },
      });
    }
    const keyIndex = items.length;
    if (key) items.push(chargeKeyUpdate(key, fee, month, rec.reservation, c.promptTokens + rec.usage.outputTokens));
    try {
      await db().send(new TransactWriteCommand({ TransactItems: items }));
      emitCallMetrics({
        kind: rec.kind,
        model: rec.model.name,
        status: rec.status,
        usage: rec.usage,
        fee,
        firstByteLatency: rec.firstByteLatency,
        totalLatency: rec.totalLatency,
      });
      return { threadId };
    } catch (e) {
      const codes = cancellationCodes(e);
      if (!codes) throw e;
      if (codes[0] === 'ConditionalCheckFailed') {
        logger.info('request already charged', { requestId: rec.requestId });
        const marker = await db().send(
          new GetCommand({ TableName: tableName(), Key: itemKeys.charge(rec.requestId), ConsistentRead: true }),
        );
        return { threadId: Number(marker.Item?.thread_id ?? threadId) };
      }
      if (codes[keyIndex] === 'ConditionalCheckFailed' && key) {
        const reasons = (e as { CancellationReasons?: Array<{ Item?: Record<string, unknown> }> }).CancellationReasons ?? [];
        const old = reasons[keyIndex]?.Item;
        key = old ? fromItem(fromWireItem(old as Record<string, never>)) : ((await getKeyByHash(key.hash)) ?? (await getKeyById(key.id)));
        if (attempt > 2) await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 5 * attempt)));
        continue;
      }
      if (codes.some((c) => c === 'TransactionConflict')) {
        await new Promise((r) => setTimeout(r, Math.random() * 20 * (attempt + 1)));
        key = key ? ((await getKeyByHash(key.hash)) ?? (await getKeyById(key.id))) : undefined;
        continue;
      }
      throw e;
    }
  }
  throw new Error(`could not settle request ${rec.requestId} after ${MAX_ATTEMPTS} attempts`);
}

/**
 * The key as this call's admission left it. The call carries the key as authentication read it, before its own
 * admission wrote the lease and (for a limited key) counted it in the window; a first attempt built on that would
 * always fail its condition (no lease expected, one there) and cost a refused transaction and a second one. When
 * the lease is gone meanwhile (swept as expired by a much later admission), the condition fails, the key is read
 * again, and the charge is rebuilt on what is really there.
 */
function asAdmitted(key: ApiKey, reservation: Reservation): ApiKey {
  if (!reservation.leased || leaseNameOf(key, reservation.requestId)) return key;
  const leases = new Map(key.leases).set(leaseAttribute(reservation.requestId), { amount: reservation.amount, at: 0 });
  const rate =
    reservation.window !== undefined && key.rate.window !== reservation.window ? { ...key.rate, window: reservation.window } : key.rate;
  return { ...key, leases, rate };
}

function absentLeaseNames(requestId: string): Record<string, string> {
  const [short, legacy] = leaseNames(requestId);
  return { '#lease': short, '#legacy': legacy };
}

/**
 * The key's side of a charge. The quota/balance split is decided from the key as read, but the condition only
 * pins what that decision depends on, so concurrent charges of one key commute instead of invalidating one
 * another (a condition on the exact month_fee and balance let only one of N concurrent charges through per
 * round, and a burst of 50+ ran out of attempts):
 * - fits in the quota:     month_fee += fee          if month_fee <= quota − fee
 * - quota already used up: balance −= fee            if month_fee >= quota
 * - straddles the quota:   month_fee = quota, balance −= rest   if month_fee = the value read (rare: once a month)
 * - first charge of a month (stored month_fee is stale): month_fee = min(fee, quota), balance −= rest
 *                                                    if fee_month = the old month
 * All of them also require month_quota unchanged. total_fee, reserved and rev are plain ADDs.
 */
function chargeKeyUpdate(key: ApiKey, fee: Money, month: string, reservation: Reservation, tokensUsed?: number) {
  // The call's lease is removed, and its amount and its parallel slot released, only if it is still there: a lease
  // swept as expired (the settlement came very late) already left `reserved` and `parallel`.
  const lease = leaseNameOf(key, reservation.requestId);
  const leased = lease !== undefined;
  // Not leased: neither name of the call's lease may be there (one written before the short names, or after).
  const names: Record<string, string> = leased ? { '#lease': lease } : absentLeaseNames(reservation.requestId);
  const values: Record<string, unknown> = {
    ':q': moneyAttr(key.monthQuota),
    ':fee': moneyAttr(fee),
    ':release': moneyAttr(leased ? -reservation.amount : 0n),
    ':one': 1,
    ':month': month,
  };
  const extraAdd: string[] = [];
  const extraCondition: string[] = [];
  if (leased) {
    extraAdd.push('inflight :minusOne');
    values[':minusOne'] = -1;
  }
  // tokens per minute were counted on the estimate; while the call's window is still the current one, the count is
  // corrected to what it really used.
  if (tokensUsed !== undefined && reservation.window !== undefined && key.rate.window === reservation.window) {
    extraAdd.push('rl_tokens :tokFix');
    extraCondition.push('rl_window = :aw');
    values[':tokFix'] = tokensUsed - (reservation.tokens ?? 0);
    values[':aw'] = reservation.window;
  }
  let set: string;
  let condition: string;
  if (key.feeMonth !== month) {
    const split = applyCharge(key, fee, month);
    set = 'fee_month = :month, month_fee = :nmf, balance = balance - :fromBalance';
    condition = 'fee_month = :fm';
    values[':fm'] = key.feeMonth;
    values[':nmf'] = moneyAttr(split.monthFee);
    values[':fromBalance'] = moneyAttr(key.balance - split.balance);
  } else if (key.monthFee + fee <= key.monthQuota) {
    set = 'month_fee = month_fee + :fee';
    condition = 'fee_month = :month AND month_fee <= :maxBefore';
    values[':maxBefore'] = moneyAttr(key.monthQuota - fee);
  } else if (key.monthFee >= key.monthQuota) {
    set = 'balance = balance - :fee';
    condition = 'fee_month = :month AND month_fee >= :q';
  } else {
    const split = applyCharge(key, fee, month);
    set = 'month_fee = :q, balance = balance - :fromBalance';
    condition = 'fee_month = :month AND month_fee = :mf';
    values[':mf'] = moneyAttr(key.monthFee);
    values[':fromBalance'] = moneyAttr(key.balance - split.balance);
  }
  return {
    Update: {
      TableName: tableName(),
      Key: itemKeys.apiKey(key.hash),
      UpdateExpression: `SET ${set} ADD ${['total_fee :fee', 'reserved :release', 'rev :one', ...extraAdd].join(', ')}${leased ? ' REMOVE #lease' : ''}`,
      ConditionExpression: [
        condition,
        'month_quota = :q',
        leased ? 'attribute_exists(#lease)' : 'attribute_not_exists(#lease) AND attribute_not_exists(#legacy)',
        ...extraCondition,
      ].join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    },
  };
}
