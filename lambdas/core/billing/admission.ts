import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { currentMonth, now } from '../clock.js';
import { errors, GatewayError } from '../errors.js';
import { logger } from '../log.js';
import { hasLimits, type Limits, NO_LIMITS, type RateSnapshot, WINDOW_SECONDS, windowOf } from '../limits/types.js';
import { money, moneyAttr, type Money } from '../money.js';
import { confirmationOf, confirmKey, forgetKey, isUnconfirmed, rememberKey } from '../store/key-cache.js';
import { type ApiKey, fromItem, getKeyById, leaseAttribute, leaseOf } from '../store/keys.js';
import { db, fromWireItem, isConditionFailure, tableName } from '../store/table.js';
import { itemKeys } from '../store/table-keys.js';
import { MAX_CALL_SECONDS } from '../topology.js';
import { spendable } from './allowance.js';

/**
 * Admission: one conditional update of the key item decides whether a call may start, and records that it did.
 *
 * - Money (user keys): the call is admitted only while the money held by in-flight calls (`reserved`) is below what
 *   the key may spend; it adds its estimate to `reserved`.
 * - Rate limits (any key that has them): requests and tokens per fixed one-minute window (`rl_window`,
 *   `rl_requests`, `rl_tokens`) and calls in flight (`parallel`) are counted in the same write, so a limited key
 *   pays no extra DynamoDB call, and the limits hold exactly across every instance.
 * - A lease `l#<id of the request id>` = {amount, time} records the call (store/keys.ts leaseAttribute).
 *   Settlement (or release) removes it and gives its amount and its parallel slot back in the same write as the
 *   charge.
 *
 * A call that dies (Lambda timeout, crash, kill) never settles: its lease expires LEASE_SECONDS after admission
 * (longer than any function may run) and the next admission of the key sweeps expired leases in its own update,
 * conditioned on their still being there, so a crashed call cannot lock a key out and nothing is given back twice.
 * However many requests race, the key overspends by at most one request's estimate and no limit is exceeded.
 *
 * A key recalled from this instance's memory instead of read (unconfirmed, store/key-cache.ts) is confirmed by this
 * same write: it is conditioned on the item still being there (same id) under the same terms revision. Anything else — the item gone, its terms changed, a refusal decided on the remembered copy — leaves the key
 * unconfirmed and the call is started over on a fresh read (auth/authenticate.ts servePresented).
 */
export interface Reservation {
  keyId: number;
  /** The lease's name: the request id. */
  requestId: string;
  amount: Money;
  /** Whether a lease was written (user keys always; admin keys only when they have limits). */
  leased?: boolean;
  /** The rate window the call was counted in and the tokens it was counted for (for the correction at settlement). */
  window?: number;
  tokens?: number;
  /** What the key's responses tell the client (x-ratelimit-*), when it has rate limits. */
  rate?: RateSnapshot;
}

/** A lease older than this belongs to a call that can no longer be running. */
export const LEASE_SECONDS = MAX_CALL_SECONDS + 60;

const MAX_ATTEMPTS = 25;
/** Expired leases one admission sweeps at most (a key rarely has more; the rest go with the next). */
const MAX_SWEEP = 20;

export interface AdmissionAsk {
  limits: Limits;
  /** The call's token estimate (prompt + output allowance), counted against tpm_limit. */
  tokens: number;
  /**
   * Keeps work the refusal leaves behind alive until the invocation returns (Invocation.hold): the release of a lease
   * whose write may have landed although the store's answer was a fault. Without it, that work runs unheld.
   */
  hold?: (work: Promise<unknown>) => void;
}

function rateLimited(what: string, retryAfter: number, rate: RateSnapshot | undefined): GatewayError {
  return new GatewayError(429, `Rate limit reached for this key: ${what}. Retry after ${Math.ceil(retryAfter)} s.`, {
    kind: 'rate_limit',
    code: 'rate_limit_exceeded',
    retryable: true,
    retryAfter: Math.max(1, Math.ceil(retryAfter)),
    rateLimit: rate,
  });
}

export async function admit(
  key: ApiKey,
  estimate: Money,
  requestId: string,
  ask: AdmissionAsk = { limits: NO_LIMITS, tokens: 0 },
): Promise<Reservation> {
  const admitted = await admitKey(key, estimate, requestId, ask);
  // A key still to be confirmed by a read needs its caller to hold the upstream call for it (runChat does).
  if (admitted.confirmation) throw new Error('admit() was given a recalled key that only a read can confirm');
  return admitted.reservation;
}

/**
 * Whether admitting this key writes to the store (it reserves money, or counts the call against its limits); an
 * admin key without limits is admitted in memory.
 */
export function admissionWrites(key: ApiKey, limits: Limits): boolean {
  return key.role !== 'admin' || hasLimits(limits);
}

/**
 * admit(), and the key as the admission found it (a fresher copy when a failed condition read it back). A
 * recalled key whose admission writes nothing comes back still unconfirmed, with the read that will confirm it:
 * nothing may go upstream before that resolves.
 */
export async function admitKey(
  key: ApiKey,
  estimate: Money,
  requestId: string,
  ask: AdmissionAsk = { limits: NO_LIMITS, tokens: 0 },
): Promise<{ reservation: Reservation; key: ApiKey; confirmation?: Promise<ApiKey> }> {
  // Admin keys are costed and recorded, never refused for money; nor is a call that cannot cost anything (a model
  // saved `free: true` estimates 0), so a free model answers a key whose money is spent.
  const chargesMoney = key.role !== 'admin' && estimate > 0n;
  if (!admissionWrites(key, ask.limits)) {
    const reservation: Reservation = { keyId: key.id, requestId, amount: 0n };
    if (!isUnconfirmed(key)) return { reservation, key };
    // Nothing to write: a recalled key is confirmed by the read started for it, which the upstream call waits for.
    const confirmation = confirmationOf(key);
    if (!confirmation) throw new Error('a recalled key reached an admission that writes nothing, with no read to confirm it');
    return { reservation, key, confirmation };
  }
  const amount = chargesMoney ? estimate : 0n;
  const { rpm, tpm, maxParallel } = ask.limits;
  let current: ApiKey | undefined = key;
  for (let attempt = 0; attempt < MAX_ATTEMPTS && current; attempt++) {
    const month = currentMonth();
    const nowS = Math.floor(now().getTime() / 1000);
    const window = windowOf(nowS);
    const resetSeconds = (window + 1) * WINDOW_SECONDS - nowS;
    const expired = [...current.leases].filter(([, l]) => l.at < nowS - LEASE_SECONDS).slice(0, MAX_SWEEP);
    const swept = expired.reduce((sum, [, l]) => sum + l.amount, 0n);
    const sameWindow = current.rate.window === window;
    const requestsSoFar = sameWindow ? current.rate.requests : 0;
    const tokensSoFar = sameWindow ? current.rate.tokens : 0;
    const snapshot = (requests: number, tokens: number): RateSnapshot | undefined =>
      rpm === null && tpm === null
        ? undefined
        : {
            ...(rpm === null ? {} : { requests: { limit: rpm, remaining: rpm - requests, resetSeconds } }),
            ...(tpm === null ? {} : { tokens: { limit: tpm, remaining: tpm - tokens, resetSeconds } }),
          };

    // Refusals decided on the key as read; the conditions below make them exact under concurrency.
    const limit = spendable(current, month);
    const reserved = current.reserved - swept;
    if (chargesMoney && reserved >= limit) throw reserved > 0n && limit > 0n ? errors.reservedInFlight() : errors.insufficientQuota();
    if (rpm !== null && requestsSoFar >= rpm)
      throw rateLimited(`${rpm} requests per minute`, resetSeconds, snapshot(requestsSoFar, tokensSoFar));
    if (tpm !== null && tokensSoFar >= tpm)
      throw rateLimited(`${tpm} tokens per minute`, resetSeconds, snapshot(requestsSoFar, tokensSoFar));
    if (maxParallel !== null && current.parallel - expired.length >= maxParallel) {
      throw rateLimited(`${maxParallel} calls in flight`, 1, snapshot(requestsSoFar, tokensSoFar));
    }

    const names: Record<string, string> = { '#lease': leaseAttribute(requestId) };
    const values: Record<string, unknown> = {
      ':lease': { a: moneyAttr(amount), t: nowS },
      ':one': 1,
      ':dp': 1 - expired.length,
      ':nowMs': now().getTime(),
    };
    const set = ['#lease = :lease'];
    const add = ['rev :one', 'inflight :dp'];
    // Not while a reset of the key is under way (its fence; store/keys.ts resetKey()).
    const conditions = [
      'attribute_exists(pk)',
      'attribute_not_exists(#lease)',
      '(attribute_not_exists(reset_fence) OR reset_fence < :nowMs)',
    ];
    const sweep = expired.map(([name], i) => {
      names[`#x${i}`] = name;
      conditions.push(`attribute_exists(#x${i})`);
      return `#x${i}`;
    });
    if (chargesMoney) {
      // Slack: concurrent settlements keep raising month_fee / lowering balance. Instead of pinning their exact
      // values (which made every settlement landing meanwhile fail this update, and a busy key ran out of attempts
      // and got a false 429), tolerate a move of up to `s` in each and ask `reserved` to stay below limit − 2s.
      // Since spendable now ≥ limit − 2s, the admission rule (reserved < spendable) still holds exactly; with a
      // quarter of the headroom as slack a busy key with room to spare is admitted at once, and near the edge s → 0.
      const s = (limit - reserved) / 4n;
      add.push('reserved :delta');
      conditions.push(
        'fee_month = :fm AND month_quota = :q AND month_fee <= :mfMax AND balance >= :bMin',
        // reserved − swept < limit − 2s, with the swept leases' amounts still inside `reserved`.
        '(attribute_not_exists(reserved) OR reserved < :limit)',
      );
      Object.assign(values, {
        ':delta': moneyAttr(amount - swept),
        ':fm': current.feeMonth,
        ':mfMax': moneyAttr(current.monthFee + s),
        ':bMin': moneyAttr(current.balance - s),
        ':q': moneyAttr(current.monthQuota),
        ':limit': moneyAttr(limit - 2n * s + swept),
      });
    }
    if (rpm !== null || tpm !== null) {
      values[':w'] = window;
      values[':tok'] = ask.tokens;
      if (sameWindow) {
        add.push('rl_requests :one', 'rl_tokens :tok');
        conditions.push('rl_window = :w');
        if (rpm !== null) {
          conditions.push('rl_requests < :rpm');
          values[':rpm'] = rpm;
        }
        if (tpm !== null) {
          conditions.push('rl_tokens < :tpm');
          values[':tpm'] = tpm;
        }
      } else {
        set.push('rl_window = :w', 'rl_requests = :one', 'rl_tokens = :tok');
        conditions.push('(attribute_not_exists(rl_window) OR rl_window < :w)');
      }
    }
    if (maxParallel !== null) {
      conditions.push('(attribute_not_exists(inflight) OR inflight < :maxPar)');
      values[':maxPar'] = maxParallel + expired.length;
    }
    // A recalled key: the write confirms it — the same item (by hash and id), under the same terms.
    const confirming = isUnconfirmed(current);
    if (confirming) {
      names['#terms'] = 'terms_rev';
      values[':terms'] = current.termsRev;
      values[':id'] = current.id;
      conditions.push('id = :id', current.termsRev === 0 ? '(attribute_not_exists(#terms) OR #terms = :terms)' : '#terms = :terms');
    }
    try {
      const out = await db().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: itemKeys.apiKey(current.hash),
          UpdateExpression: `SET ${set.join(', ')} ADD ${add.join(', ')}${sweep.length ? ` REMOVE ${sweep.join(', ')}` : ''}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const after = out.Attributes ?? {};
      // A recalled key is confirmed. Its copy's money may be older than a read's would be; the settlement's conditions
      // are bounds (a copy of any age settles right, re-reading only near a quota's edge), as its lease list is.
      if (confirming) confirmKey(current);
      // What this write changed, remembered for the key's next call (its rate window above all, which a stale copy
      // would get wrong once per call).
      rememberKey(admittedCopy(current, after));
      const reservation: Reservation = {
        keyId: current.id,
        requestId,
        amount,
        leased: true,
        ...(rpm !== null || tpm !== null
          ? {
              window,
              tokens: ask.tokens,
              rate: snapshot(Number(after.rl_requests ?? requestsSoFar + 1), Number(after.rl_tokens ?? tokensSoFar + ask.tokens)),
            }
          : {}),
      };
      return { reservation, key: current };
    } catch (e) {
      if (!isConditionFailure(e)) {
        // A store fault (a timeout above all) does not say the write did not land: if it did, its lease would hold the
        // key's money and a parallel slot until it expires (LEASE_SECONDS), so a max_parallel: 1 key would be locked
        // out for that long. The call is refused either way; the lease is given back once the store answers again.
        const release = releaseIfLanded(current.hash, requestId, chargesMoney ? amount : 0n);
        if (ask.hold) ask.hold(release);
        else void release;
        throw e;
      }
      const old = (e as { Item?: Record<string, never> }).Item;
      if (confirming) {
        // A recalled key whose item is gone or whose terms changed: not confirmed; the call starts over on a read.
        const fresh = old ? fromItem(fromWireItem(old)) : undefined;
        // Our own write landed (its reply was lost and the SDK retried): its condition held then, so it confirmed.
        const landed = fresh?.id === current.id && leaseOf(fresh, requestId);
        if (fresh && landed) {
          confirmKey(current);
          return { reservation: { keyId: fresh.id, requestId, amount: landed.amount, leased: true }, key: fresh };
        }
        if (!fresh || fresh.id !== current.id || fresh.termsRev !== current.termsRev) {
          forgetKey(current.hash);
          throw errors.invalidApiKey();
        }
        confirmKey(current); // the item as it is now (a consistent read), under the terms the call was decided on
        rememberKey(fresh);
        current = fresh;
      } else {
        // The item is gone (deleted or reset meanwhile): follow the id, or refuse as an unknown key.
        current = old ? fromItem(fromWireItem(old)) : await getKeyById(current.id);
        if (!current || current.resetFenceUntil > now().getTime()) throw errors.invalidApiKey();
      }
      // Our own earlier attempt landed (its response was lost and the SDK retried): the request is admitted.
      const mine = leaseOf(current, requestId);
      if (mine) return { reservation: { keyId: current.id, requestId, amount: mine.amount, leased: true }, key: current };
      if (attempt > 3) await jitter(attempt);
    }
  }
  throw errors.insufficientQuota('Could not reserve quota for this request under heavy contention; retry shortly.');
}

/** The key as it stands after an admission, from its copy and the attributes the write returned (UPDATED_NEW). */
function admittedCopy(key: ApiKey, after: Record<string, unknown>): ApiKey {
  const counted = after.rl_requests !== undefined;
  return {
    ...key,
    reserved: after.reserved === undefined ? key.reserved : money(after.reserved),
    parallel: after.inflight === undefined ? key.parallel : Number(after.inflight),
    rev: after.rev === undefined ? key.rev : Number(after.rev),
    rate: counted
      ? {
          window: after.rl_window === undefined ? key.rate.window : Number(after.rl_window),
          requests: Number(after.rl_requests),
          tokens: Number(after.rl_tokens ?? 0),
        }
      : key.rate,
  };
}

/** When the release of a maybe-landed lease is tried: a write still in flight has landed or died by the first. */
const RELEASE_DELAYS_MS = [250, 1000, 3000];

/**
 * Gives back the lease `requestId` (its amount, its parallel slot) if an admission that answered with a fault wrote it
 * after all; nothing if it is not there (the write never landed, or it was released already). Never throws.
 */
async function releaseIfLanded(hash: string, requestId: string, amount: Money): Promise<void> {
  for (const delay of RELEASE_DELAYS_MS) {
    await new Promise((r) => setTimeout(r, delay));
    try {
      await db().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: itemKeys.apiKey(hash),
          UpdateExpression: `REMOVE #lease ADD inflight :minusOne, rev :one${amount === 0n ? '' : ', reserved :back'}`,
          ConditionExpression: 'attribute_exists(#lease)',
          ExpressionAttributeNames: { '#lease': leaseAttribute(requestId) },
          ExpressionAttributeValues: { ':minusOne': -1, ':one': 1, ...(amount === 0n ? {} : { ':back': moneyAttr(-amount) }) },
        }),
      );
      logger.info('an admission answered with a store fault had landed; its lease is given back', { requestId });
      return;
    } catch (e) {
      if (isConditionFailure(e)) return;
    }
  }
  logger.warn('could not give back the lease of an admission answered with a store fault; it expires on its own', { requestId });
}

function jitter(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 10 * attempt)));
}

/**
 * Counts one request that costs nothing against the key's requests-per-minute window (POST
 * /v1/messages/count_tokens): the same window and condition as an admission, without money, tokens or a lease, so
 * an unbilled route is no way around a key's rpm_limit. A key without an rpm limit writes nothing. Throws the same
 * 429 as admission once the window is full; answers the snapshot for the x-ratelimit-* headers.
 */
export async function countRequest(key: ApiKey, limits: Limits): Promise<RateSnapshot | undefined> {
  const { rpm } = limits;
  if (rpm === null) return undefined;
  let current: ApiKey | undefined = key;
  for (let attempt = 0; attempt < MAX_ATTEMPTS && current; attempt++) {
    const nowS = Math.floor(now().getTime() / 1000);
    const window = windowOf(nowS);
    const resetSeconds = (window + 1) * WINDOW_SECONDS - nowS;
    const sameWindow = current.rate.window === window;
    const requestsSoFar = sameWindow ? current.rate.requests : 0;
    const snapshot = (requests: number): RateSnapshot => ({
      requests: { limit: rpm, remaining: Math.max(0, rpm - requests), resetSeconds },
    });
    if (requestsSoFar >= rpm) throw rateLimited(`${rpm} requests per minute`, resetSeconds, snapshot(requestsSoFar));
    try {
      const out = await db().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: itemKeys.apiKey(current.hash),
          UpdateExpression: sameWindow
            ? 'ADD rl_requests :one, rev :one'
            : 'SET rl_window = :w, rl_requests = :one, rl_tokens = :zero ADD rev :one',
          ConditionExpression: sameWindow
            ? 'attribute_exists(pk) AND rl_window = :w AND rl_requests < :rpm'
            : 'attribute_exists(pk) AND (attribute_not_exists(rl_window) OR rl_window < :w)',
          ExpressionAttributeValues: { ':one': 1, ':w': window, ...(sameWindow ? { ':rpm': rpm } : { ':zero': 0 }) },
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const after = out.Attributes ?? {};
      rememberKey(admittedCopy(current, { ...after, rl_window: after.rl_window ?? window }));
      return snapshot(Number(after.rl_requests ?? requestsSoFar + 1));
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const old = (e as { Item?: Record<string, never> }).Item;
      current = old ? fromItem(fromWireItem(old)) : undefined;
      if (!current) throw errors.invalidApiKey();
    }
  }
  throw rateLimited(`${rpm} requests per minute`, 1, undefined);
}
