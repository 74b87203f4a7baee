/**
 * Throttled, coalescing card updates for streaming answers.
 *
 * - `update(state)` never patches directly: it records the latest state and schedules a flush. At most one patch
 *   is in flight, and patch starts are at least `intervalMs` apart; intermediate states are dropped, the latest
 *   one always wins.
 * - `finish(finalState)` cancels any pending timer, drops un-sent intermediate states, waits for an in-flight patch
 *   and then patches the final state exactly once (a second finish() returns the same promise). It resolves when
 *   the final patch is done and rejects if that patch fails. update() after finish() is ignored.
 * - A failing intermediate patch is reported to `onError` and does not stop the stream.
 *
 * The state type is generic: pass answer states and render inside `patch` (e.g.
 * `patch: (s) => lark.patchCard(id, answerCard(s))`) so that cards are built only when actually sent.
 * Feishu limits message patches (about 5 per second per message); the default 400 ms interval stays below that.
 */

export interface CardStreamerOptions<T> {
  patch: (state: T) => Promise<void>;
  intervalMs?: number;
  /** Clock in ms (default Date.now). */
  now?: () => number;
  /** Schedules fn after ms; returns a cancel function (default setTimeout/clearTimeout). */
  setTimer?: (fn: () => void, ms: number) => () => void;
  onError?: (err: unknown) => void;
}

export interface CardStreamer<T> {
  update(state: T): void;
  finish(finalState: T): Promise<void>;
  /** Number of patch calls started so far (intermediate and final). */
  readonly patches: number;
}

const defaultSetTimer = (fn: () => void, ms: number): (() => void) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

export function createCardStreamer<T>(opts: CardStreamerOptions<T>): CardStreamer<T> {
  const intervalMs = opts.intervalMs ?? 400;
  const now = opts.now ?? (() => Date.now());
  const setTimer = opts.setTimer ?? defaultSetTimer;

  let pending: { state: T } | undefined;
  let inFlight: Promise<void> | undefined;
  let cancelTimer: (() => void) | undefined;
  let lastStart = -Infinity;
  let finishing: Promise<void> | undefined;
  let patches = 0;

  const start = (state: T): Promise<void> => {
    patches += 1;
    lastStart = now();
    let p: Promise<void>;
    try {
      p = Promise.resolve(opts.patch(state));
    } catch (err) {
      p = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return p;
  };

  const flush = (): void => {
    cancelTimer = undefined;
    if (!pending || finishing || inFlight) return;
    const { state } = pending;
    pending = undefined;
    const p = start(state)
      .catch((err: unknown) => opts.onError?.(err))
      .finally(() => {
        inFlight = undefined;
        schedule();
      });
    inFlight = p;
  };

  const schedule = (): void => {
    if (!pending || finishing || inFlight || cancelTimer) return;
    const wait = lastStart + intervalMs - now();
    if (wait <= 0) flush();
    else cancelTimer = setTimer(flush, wait);
  };

  return {
    update(state: T): void {
      if (finishing) return;
      pending = { state };
      schedule();
    },
    finish(finalState: T): Promise<void> {
      if (finishing) return finishing;
      cancelTimer?.();
      cancelTimer = undefined;
      pending = undefined;
      const waitFor = inFlight ?? Promise.resolve();
      finishing = waitFor.then(() => start(finalState));
      return finishing;
    },
    get patches() {
      return patches;
    },
  };
}
