/**
 * A delivered answer is never lost from the books. A settlement is tried in-line a few times with jittered backoff;
 * if the store still fails, the settlement becomes a job on a durable retry path and is applied later, exactly once
 * (settle() is idempotent by request id):
 *
 * - deployed (SETTLE_QUEUE_URL set): an SQS message; the settle Lambda (lambdas/settle) applies it, SQS redelivers
 *   until it succeeds, and a dead-letter queue keeps what never does;
 * - the local server: the same job, retried in-process with capped backoff until it lands.
 *
 * The call's lease stays on the key until then; if the store is down for longer than a lease lives, the lease is
 * swept as expired and the late settlement charges without releasing it again.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { config } from '../config.js';
import { logger } from '../log.js';
import { formatMoney, money } from '../money.js';
import { nextId } from '../store/counters.js';
import { getKeyById } from '../store/keys.js';
import type { Model } from '../store/models.js';
import { nowIso } from '../store/table.js';
import { settle, type UsageRecord } from './settle.js';

/** In-line attempts before the settlement is deferred (backoff 50 ms, 200 ms, 800 ms with jitter). */
const INLINE_ATTEMPTS = 4;

/** What a deferred settlement carries: the record, JSON-safe (money as decimal strings, the key by id). */
export interface SettlementJob {
  v: 1;
  record: Omit<UsageRecord, 'key' | 'model' | 'reservation' | 'at'> & {
    at: string;
    model: Omit<Model, 'priceIn' | 'priceOut' | 'priceCacheRead' | 'priceCacheWrite'> & {
      priceIn: string;
      priceOut: string;
      priceCacheRead: string | null;
      priceCacheWrite: string | null;
    };
    reservation: { keyId: number; requestId: string; amount: string };
  };
}

function toJob(rec: UsageRecord): SettlementJob {
  const { key: _key, model, reservation, ...rest } = rec;
  return {
    v: 1,
    record: {
      ...rest,
      at: rec.at ?? nowIso(),
      model: {
        ...model,
        priceIn: formatMoney(model.priceIn),
        priceOut: formatMoney(model.priceOut),
        priceCacheRead: model.priceCacheRead === undefined ? null : formatMoney(model.priceCacheRead),
        priceCacheWrite: model.priceCacheWrite === undefined ? null : formatMoney(model.priceCacheWrite),
      },
      reservation: { ...reservation, amount: formatMoney(reservation.amount) },
    },
  };
}

/** The record again, with the key as it is now (undefined if it was deleted meanwhile: recorded, not charged). */
export async function fromJob(job: SettlementJob): Promise<UsageRecord> {
  const { model, reservation, ...rest } = job.record;
  return {
    ...rest,
    key: await getKeyById(rest.keyId),
    model: {
      ...model,
      priceIn: money(model.priceIn),
      priceOut: money(model.priceOut),
      priceCacheRead: model.priceCacheRead === null ? undefined : money(model.priceCacheRead),
      priceCacheWrite: model.priceCacheWrite === null ? undefined : money(model.priceCacheWrite),
    },
    reservation: { ...reservation, amount: money(reservation.amount) },
  };
}

export type SettleOutcome = 'settled' | 'deferred';

/**
 * Settles now if the store lets it, else hands the settlement to the durable retry path. Never throws. The call's
 * time and thread id are fixed before the first attempt, so every attempt, deferred ones too, writes the same thread.
 */
export async function settleReliably(rec: UsageRecord): Promise<SettleOutcome> {
  let timed: UsageRecord = { ...rec, at: rec.at ?? nowIso() };
  for (let attempt = 0; ; attempt++) {
    try {
      if (timed.threadId === undefined) timed = { ...timed, threadId: await nextId('thread') };
      await settle(timed);
      return 'settled';
    } catch (e) {
      if (attempt + 1 >= INLINE_ATTEMPTS) {
        logger.warn('settlement deferred', { requestId: rec.requestId, error: e as Error });
        break;
      }
      await sleep(50 * 4 ** attempt * (0.5 + Math.random()));
    }
  }
  await defer(toJob(timed));
  return 'deferred';
}

let sqs: SQSClient | undefined;

async function defer(job: SettlementJob): Promise<void> {
  const queueUrl = config().settleQueueUrl;
  if (!queueUrl) {
    localRetrier.add(job);
    return;
  }
  try {
    sqs ??= new SQSClient({});
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(job) }));
  } catch (e) {
    // The queue is the last resort: the settlement lives on in this instance while it lives.
    logger.error('could not queue a settlement; retrying it in-process', { requestId: job.record.requestId, error: e as Error });
    localRetrier.add(job);
  }
}

/** The local server's durable path: retry each job with capped backoff (≤ 10 s apart) until it lands. */
class LocalRetrier {
  private readonly pending = new Map<string, { job: SettlementJob; attempt: number; timer: NodeJS.Timeout }>();

  add(job: SettlementJob): void {
    if (this.pending.has(job.record.requestId)) return;
    this.schedule(job, 0);
  }

  /** Settlements still waiting for the store. */
  get size(): number {
    return this.pending.size;
  }

  /** Try every pending job now (tests: after the fault is lifted). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending.values()].map(({ job, attempt, timer }) => (clearTimeout(timer), this.run(job, attempt))));
  }

  private schedule(job: SettlementJob, attempt: number): void {
    const delay = Math.min(10_000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    const timer = setTimeout(() => void this.run(job, attempt), delay);
    timer.unref?.();
    this.pending.set(job.record.requestId, { job, attempt, timer });
  }

  private async run(job: SettlementJob, attempt: number): Promise<void> {
    try {
      await settle(await fromJob(job));
      this.pending.delete(job.record.requestId);
      logger.info('deferred settlement applied', { requestId: job.record.requestId, attempts: attempt + 1 });
    } catch (e) {
      logger.warn('deferred settlement failed; will retry', { requestId: job.record.requestId, error: e as Error });
      this.schedule(job, attempt + 1);
    }
  }
}

export const localRetrier = new LocalRetrier();

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
