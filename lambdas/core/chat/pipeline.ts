/**
 * The core path of every chat call, whatever wire API it came in on (OpenAI chat completions, Anthropic messages,
 * OpenAI responses, the Feishu bot): admission against the key's money, the attachments resolved, the provider
 * started, and its events relayed while they are folded for the books. When the events end the call is settled
 * (charged and recorded exactly once) before the iteration finishes — or, with SETTLE_AFTER_LAST_BYTE, while the
 * caller writes its last frames, the invocation held open until it is done. `run.settled` resolves once it is. A consumer that stops early (the client went away) leaves the
 * upstream read on for its usage within a drain budget, then stopped, and the call is settled as interrupted.
 *
 * Everything that can refuse the call — admission, attachments, the upstream's first answer — happens inside
 * runChat(), before the caller commits a status, so those failures keep their real HTTP status.
 */
// node:timers' own setImmediate: a test's fake timers replace the global one.
import { setImmediate } from 'node:timers';
import { admissionWrites, admitKey, type Reservation } from '../billing/admission.js';
import { pricesOf } from '../billing/cost.js';
import { settleReliably } from '../billing/deferred.js';
import type { UsageRecord } from '../billing/settle.js';
import { config } from '../config.js';
import { asGatewayError, GatewayError, isGatewayError } from '../errors.js';
import { limitsFor } from '../limits/effective.js';
import type { RateSnapshot } from '../limits/types.js';
import type { Invocation } from '../invocation.js';
import { logger } from '../log.js';
import { fetchImage } from '../net/safe-fetch.js';
import { resolveModelForKey } from '../auth/model-access.js';
import { chatProvider, fallbacksOf } from '../providers/registry.js';
import { SKIPPED_PREFIX } from '../records/threads.js';
import { isUnconfirmed } from '../store/key-cache.js';
import { gateSignal, passedGate } from '../upstream-gate.js';
import type { ApiKey } from '../store/keys.js';
import type { Model } from '../store/models.js';
import { type TokenUsage, zeroUsage } from '../usage.js';
import { type ImageFetcher, resolveAttachments } from './attachments.js';
import { estimateChatCost, estimateChatTokens, promptTokensUpperBound, thinkingEstimate } from './estimate.js';
import type { ChatEvent, FinishReason } from './events.js';
import { ChatFold, type ChatResult } from './fold.js';
import { lastUserPrompt } from './prompt.js';
import type { ChatRequest } from './request.js';

export interface ChatCall {
  key: ApiKey;
  model: Model;
  request: ChatRequest;
  requestId: string;
  /** The session this call belongs to (a client header, or the Feishu chat id). */
  sessionKey?: string;
  /** Image URL fetches (default: the SSRF-guarded fetch). */
  fetchImage?: ImageFetcher;
  /** The invocation the call runs in: it is held open until the call is settled (without one, await `settled`). */
  invocation?: Invocation;
}

export interface ChatRun {
  /** The call's events; a failure after the start arrives as one final `error` event. */
  events: AsyncIterable<ChatEvent>;
  /** A rate-limited key's window state (for the x-ratelimit-* headers). */
  rate?: RateSnapshot;
  /** Stops the upstream call (the client went away); the call is then settled as interrupted. */
  abort(): void;
  /**
   * Resolves once the call is settled (charged and recorded). Settlement starts when the events end and runs while
   * the caller writes its last frames, so the client's last byte does not wait for it; the invocation is held open
   * until it is done (invocation.ts).
   */
  settled: Promise<void>;
}

export async function runChat(asked: ChatCall): Promise<ChatRun> {
  const { key, model, requestId } = asked;
  await chatProvider(model.provider); // a model of another kind is a 400 before anything is reserved
  const tokens = estimateChatTokens(asked.request, model.config);
  const limits = await limitsFor(key);
  const admission = admitKey(key, estimateChatCost(asked.request, pricesOf(model), model.config), requestId, {
    limits,
    tokens: tokens.inputTokens + tokens.outputTokens,
    hold: (work) => asked.invocation?.hold(work),
  });
  // The call may go upstream once its admission's write has landed (it reserves the money, counts the limits and
  // confirms a key recalled from memory, store/key-cache.ts) — or, for a recalled key whose admission writes nothing,
  // once the read its admission handed back confirms it. While that write or read is on the wire, the provider
  // already builds and signs its request, held at the call's upstream gate (upstream-gate.ts), and image fetches
  // wait for it too. An admin key without limits is admitted in memory: nothing to overlap, no gate.
  const writes = admissionWrites(key, limits);
  const overlapped = writes || isUnconfirmed(key);
  // The write on the wire first (its SDK steps are microtasks), then the provider's work beside it — not before it.
  // A refusal decided on the key as read (no money, a limit reached) comes before any write: it is the answer at once,
  // and no request is built for it. (A recalled key's confirming read went out before the body was even validated.)
  let refusedAtOnce: { refusal: unknown } | undefined;
  if (writes) {
    admission.catch((refusal: unknown) => (refusedAtOnce = { refusal }));
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (refusedAtOnce) throw refusedAtOnce.refusal;
  }
  // The key the call is cleared under: as its admission's write (or, for a recalled key, its confirming read) found it.
  const cleared: Promise<ApiKey> | undefined = overlapped
    ? admission.then((a) => {
        if (isUnconfirmed(key) && !a.confirmation) throw new Error('a recalled key passed an admission that did not confirm it');
        return a.confirmation ?? a.key;
      })
    : undefined;
  /** The admission's outcome for the books (the admission has resolved by the time this is asked). */
  const admitted = async () => {
    const a = await admission;
    return { reservation: a.reservation, key: await (cleared ?? a.key) };
  };
  const abort = new AbortController();
  const started = Date.now();
  const books = new Books(asked, started);
  // The retry budget is the upstream's: it starts once the call may go upstream, not while its admission is on the
  // wire (a slow admission must not eat the time its upstream retries and fallbacks have).
  let openedAt = cleared ? undefined : started;
  const deadline = () => (openedAt ?? Date.now()) + config().upstream.retryBudgetMs;
  let fetchImage = asked.fetchImage ?? defaultFetchImage;
  if (cleared) {
    cleared.then(
      () => (openedAt = Date.now()),
      () => undefined,
    );
    gateSignal(abort.signal, cleared);
    cleared.catch(() => abort.abort()); // refused (or the key not confirmed): no retry, no fallback, nothing more
    const ungated = fetchImage;
    fetchImage = (url, signal) => cleared.then(() => ungated(url, signal));
  }

  let upstream: AsyncIterable<ChatEvent>;
  let reservation: Reservation;
  try {
    const request = await resolveAttachments(asked.request, fetchImage, abort.signal);
    upstream = await startWithFallbacks(asked, request, abort.signal, books, deadline);
    if (cleared && !passedGate(abort.signal)) {
      // The upstream accepted the call, so its request went through the open gate — unless a provider skipped it.
      abort.abort();
      throw new Error('a provider answered a gated call without passing its upstream gate');
    }
    // From here on, the key as the admission (or the confirming read) found it: the settlement starts from it.
    const a = await admitted();
    reservation = a.reservation;
    books.admitted(a.reservation, a.key);
  } catch (e) {
    // A call its admission refused (or whose recalled key was not confirmed) has nothing on the books: that refusal
    // is the answer (the caller starts over on a fresh read for an unconfirmed key, servePresented).
    const outcome = await (cleared ?? admission).then(
      () => undefined,
      (refusal: unknown) => ({ refusal }),
    );
    if (outcome) throw outcome.refusal;
    const a = await admitted();
    books.admitted(a.reservation, a.key);
    await books.refused(e);
    throw e;
  }
  const leaving = new Leaving(abort);
  let booked!: (p: Promise<void>) => void;
  const settled = new Promise<void>((resolve) => (booked = (p) => resolve(p)));
  return {
    // Settled before the last frame (a client that reads its books next sees the call), unless the deployment chose
    // SETTLE_AFTER_LAST_BYTE; a key with a cap on calls in flight gets its slot back (in the settlement) before its
    // last byte even then, so that its next call may start at once.
    events: relay(
      stallGuard(upstream, abort),
      books,
      abort,
      leaving,
      started,
      (settlement) => {
        asked.invocation?.hold(settlement);
        booked(settlement);
      },
      !config().settleAfterLastByte || limits.maxParallel !== null,
    ),
    abort: () => leaving.begin(),
    rate: reservation.rate,
    settled,
  };
}

/** Worth trying the next model: throttled, failing on the upstream's side, or timing out (not the request's fault). */
const fallbackWorthy = (e: unknown) => isGatewayError(e) && (e.kind === 'rate_limit' || e.kind === 'timeout' || e.status >= 500);

/**
 * Starts the call on its model and, when that is throttled, failing or timing out before its first byte, on the
 * model's fallbacks in order (config `fallbacks`) — each only if the key may use it — all within one retry
 * budget. The books learn which model answered (its prices are the ones charged) and what was tried before it.
 */
async function startWithFallbacks(
  call: ChatCall,
  request: ChatRequest,
  signal: AbortSignal,
  books: Books,
  deadline: () => number,
): Promise<AsyncIterable<ChatEvent>> {
  const names = fallbacksOf(call.model.config);
  for (let i = 0; ; i++) {
    let candidate: Model;
    try {
      candidate = i === 0 ? call.model : await resolveModelForKey(call.key, names[i - 1]);
      if (i > 0) await chatProvider(candidate.provider);
    } catch (e) {
      // A fallback the key may not use, that no longer exists or is no chat model is skipped.
      books.attempted(names[i - 1], `${SKIPPED_PREFIX}${asGatewayError(e, call.requestId).message}`);
      if (i >= names.length) throw books.lastRefusal ?? e;
      continue;
    }
    const provider = await chatProvider(candidate.provider);
    try {
      const upstream = await withRetries(
        () => provider.chat(request, candidate, { requestId: call.requestId, signal }),
        signal,
        call.requestId,
        deadline,
      );
      books.answeredBy(candidate);
      return upstream;
    } catch (e) {
      if (!fallbackWorthy(e) || i >= names.length || Date.now() >= deadline() || signal.aborted) throw e;
      books.attempted(candidate.name, asGatewayError(e, call.requestId).message, e);
      logger.warn('model failed before its first byte; trying its fallback', {
        requestId: call.requestId,
        model: candidate.name,
        next: names[i],
      });
    }
  }
}

/**
 * The upstream's first answer, retried while it is a retryable refusal (throttling, unavailable, a timeout) —
 * a few attempts with jittered backoff, all within the retry budget; the last refusal is the call's answer (a 429
 * or 503 with retry-after). Nothing has been sent to the client yet, so a retry is invisible to it.
 */
async function withRetries<T>(start: () => Promise<T>, signal: AbortSignal, requestId: string, deadline: () => number): Promise<T> {
  const { maxAttempts } = config().upstream;
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (e) {
      const delay = 100 * 2 ** attempt * (0.5 + Math.random());
      if (!isGatewayError(e) || e.retryable !== true || attempt >= maxAttempts || signal.aborted || Date.now() + delay > deadline())
        throw e;
      logger.warn('upstream refused; retrying', { requestId, attempt, code: e.code });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/**
 * Ends a stream whose upstream went silent: no event for `stallMs` (a hung connection, a stuck model) is an
 * error, and the upstream call is aborted — the client gets an in-band error, the books a failed call.
 */
async function* stallGuard(upstream: AsyncIterable<ChatEvent>, abort: AbortController): AsyncGenerator<ChatEvent> {
  const { stallMs } = config().upstream;
  const it = upstream[Symbol.asyncIterator]();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<'stalled'>((resolve) => (timer = setTimeout(() => resolve('stalled'), stallMs)));
      const next = await Promise.race([it.next(), stalled]).finally(() => clearTimeout(timer));
      if (next === 'stalled') {
        const stall = new GatewayError(503, `The upstream sent nothing for ${Math.round(stallMs / 1000)} s; the answer was ended.`, {
          kind: 'timeout',
          code: 'upstream_stalled',
        });
        abort.abort(stall);
        throw stall;
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Not awaited: after a stall the upstream's pending read only ends once the abort reaches it.
    void it.return?.()?.catch(() => undefined);
  }
}

const defaultFetchImage: ImageFetcher = (url, signal) => fetchImage(url, { signal });

/**
 * The client went away mid-stream. The upstream is not stopped at once: it is read on (nothing forwarded) for up to
 * UPSTREAM_DRAIN_MS, so that its usage event arrives and the call is billed from the upstream's own count instead of
 * an estimate; then it is stopped.
 */
class Leaving {
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly abort: AbortController) {}

  get started() {
    return this.timer !== undefined || this.abort.signal.aborted;
  }

  begin(): void {
    if (this.started) return;
    const { drainMs } = config().upstream;
    if (drainMs <= 0) return this.abort.abort();
    this.timer = setTimeout(() => this.abort.abort(), drainMs);
  }

  end(): void {
    clearTimeout(this.timer);
  }
}

async function* relay(
  upstream: AsyncIterable<ChatEvent>,
  books: Books,
  abort: AbortController,
  leaving: Leaving,
  started: number,
  booked: (settlement: Promise<void>) => void,
  settleFirst: boolean,
): AsyncGenerator<ChatEvent> {
  const fold = new ChatFold();
  const it = upstream[Symbol.asyncIterator]();
  let firstByte: number | null = null;
  let completed = false;
  let failure: GatewayError | undefined;
  try {
    try {
      for (;;) {
        const next = await it.next();
        if (next.done) break;
        firstByte ??= Date.now() - started;
        fold.add(next.value);
        yield next.value;
      }
      completed = true;
    } catch (e) {
      // An abort is the client going away (interrupted) unless the gateway aborted for a reason (a stalled upstream).
      const reason: unknown = abort.signal.reason;
      if (!abort.signal.aborted) failure = asGatewayError(e, books.requestId);
      else if (isGatewayError(reason)) failure = reason;
    }
  } finally {
    if (!completed && !failure) {
      // The consumer stopped early (the client went away): read on for the usage, within the drain budget.
      leaving.begin();
      if (!abort.signal.aborted) {
        try {
          for (;;) {
            const next = await it.next();
            if (next.done) break;
            fold.add(next.value);
          }
        } catch {
          // Stopped at the end of the budget, or the upstream failed: the books estimate what it could not count.
        }
      }
      abort.abort();
    }
    leaving.end();
    if (!completed) void it.return?.()?.catch(() => undefined);
    const status: UsageRecord['status'] = completed ? 'ok' : failure ? 'error' : 'interrupted';
    // Not awaited (unless settleFirst): the consumer writes its last frames meanwhile, and the invocation waits for
    // it (invocation.ts). It starts on the next turn of the event loop, so none of its work runs ahead of frames the
    // consumer writes at once (/v1/responses saves its stored response first, and the settlement runs beside that).
    // Books.done never rejects: a settlement the store refuses is deferred.
    const done = () => books.done(fold.result(), status, failure?.message ?? null, firstByte, total);
    const total = Date.now() - started;
    const settlement = settleFirst ? done() : new Promise<void>((resolve) => setImmediate(resolve)).then(done);
    booked(settlement);
    if (settleFirst) await settlement;
  }
  if (failure) yield { type: 'error', error: failure };
}

/** The call's two ways into the books: refused before any token, or done (ok, failed or interrupted). */
class Books {
  readonly requestId: string;
  private readonly base: Pick<UsageRecord, 'requestId' | 'kind' | 'keyId' | 'key' | 'model' | 'sessionKey' | 'prompt' | 'reservation'>;
  private readonly attempts: NonNullable<UsageRecord['attempts']> = [];
  /** The refusal of the last model tried, when fallbacks ran out. */
  lastRefusal: unknown;
  private admission: Reservation | undefined;

  /** What is settled: the call's record so far, once its admission is known. */
  private admittedBase(): typeof this.base {
    if (!this.admission) throw new Error(`request ${this.requestId} reached its settlement before its admission was known`);
    return this.base;
  }

  /** A model tried before the one that answered (or skipped), for the thread record. */
  attempted(model: string, error: string, refusal?: unknown): void {
    this.attempts.push({ model, error });
    if (refusal !== undefined) this.lastRefusal = refusal;
  }

  /**
   * The call's admission: its reservation, and the key as the admission (or, for a recalled key, its confirming
   * read) found it — the settlement starts from them. Known before anything is settled.
   */
  admitted(reservation: Reservation, key: ApiKey): void {
    this.admission = reservation;
    this.base.reservation = reservation;
    this.base.key = key;
  }

  /** The model that answered: its name and prices go into the books. */
  answeredBy(model: Model): void {
    this.base.model = model;
  }

  constructor(
    private readonly call: ChatCall,
    private readonly started: number,
  ) {
    this.requestId = call.requestId;
    this.base = {
      requestId: call.requestId,
      kind: 'chat',
      keyId: call.key.id,
      key: call.key,
      model: call.model,
      sessionKey: call.sessionKey,
      prompt: lastUserPrompt(call.request),
      // Set by admitted() before anything is settled (a call its admission refused is never settled).
      reservation: { keyId: call.key.id, requestId: call.requestId, amount: 0n },
    };
  }

  /** A delivered (or partly delivered) answer: settled now or, if the store fails, later — never lost, never an error. */
  async done(
    result: ChatResult,
    status: UsageRecord['status'],
    error: string | null,
    firstByte: number | null,
    total: number,
  ): Promise<void> {
    await settleReliably({
      ...this.admittedBase(),
      attempts: this.attempts,
      completion: result.text,
      reasoning: result.reasoning,
      toolCalls: result.toolCalls.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } })),
      finishReason: result.finishReason ? recordedFinishReason(result.finishReason) : null,
      // An answer whose upstream reported no usage (some OpenAI-compatible servers) is billed by the estimate too.
      usage: result.usageReported ? result.usage : billableUsage(result, this.call.request, this.base.model.config),
      status,
      error,
      firstByteLatency: firstByte,
      totalLatency: total,
    });
  }

  /** Refused before any token was produced: nothing is charged, the call is still on record. */
  async refused(e: unknown): Promise<void> {
    await settleReliably({
      ...this.admittedBase(),
      attempts: this.attempts,
      completion: '',
      reasoning: '',
      toolCalls: [],
      finishReason: null,
      usage: zeroUsage(),
      status: 'error',
      error: asGatewayError(e, this.requestId).message,
      firstByteLatency: null,
      totalLatency: Date.now() - this.started,
    });
  }
}

/** Threads keep OpenAI's finish_reason vocabulary (stop, length, tool_calls, content_filter), whatever the wire API. */
function recordedFinishReason(reason: FinishReason): string {
  if (reason === 'max_tokens' || reason === 'context_window_exceeded') return 'length';
  if (reason === 'tool_use') return 'tool_calls';
  if (reason === 'content_filter' || reason === 'refusal') return 'content_filter';
  return 'stop';
}

/**
 * An interrupted or failed stream, or an upstream that reports none, may leave no usage, which still bills the prompt once it accepted
 * the request, and whatever it generated. The estimate never falls below the true count, whatever the script: every
 * token of a byte-level tokenizer covers at least one UTF-8 byte, so the prompt counts its bytes (CJK text is about
 * a token per character, three bytes each), the answer its bytes, and thinking that was on counts its whole budget
 * (summarised or hidden thinking is billed in full upstream) — capped by the output the call allowed.
 */
function billableUsage(result: ChatResult, req: ChatRequest, modelConfig: Record<string, unknown>): TokenUsage {
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
  const answer = bytes(result.text) + result.toolCalls.reduce((n, t) => n + bytes(t.name) + bytes(t.arguments), 0);
  const thinking = thinkingEstimate(req, modelConfig);
  const produced = answer + Math.max(bytes(result.reasoning), thinking);
  const allowance = estimateChatTokens(req, modelConfig).outputTokens;
  return { ...zeroUsage(), inputTokens: promptTokensUpperBound(req), outputTokens: Math.min(produced, allowance) };
}
