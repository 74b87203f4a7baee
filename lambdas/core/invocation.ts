import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Work that must finish before an invocation returns, though the client need not wait for it: a call's settlement
 * (charge and record) runs after its last byte was sent, and the handler holds the invocation open until it is done
 * (Lambda freezes an instance as soon as its handler returns; work still pending would run only at the next thaw,
 * or never). Each invocation holds its own work (the local server serves many at once), found through the async
 * context the handler runs in.
 */
class Held {
  private readonly work = new Set<Promise<unknown>>();

  add(work: Promise<unknown>): void {
    const p = work.catch(() => undefined).finally(() => this.work.delete(p));
    this.work.add(p);
  }

  /** Resolves once everything held so far (and anything held meanwhile) is done. */
  async done(): Promise<void> {
    while (this.work.size > 0) await Promise.all([...this.work]);
  }
}

const scope = new AsyncLocalStorage<Held>();
/** Work held outside any invocation (code run directly, as unit tests do). */
const unscoped = new Held();

/** Keeps the current invocation open until `work` has settled (its failure is the caller's to handle). */
export function holdInvocation(work: Promise<unknown>): void {
  (scope.getStore() ?? unscoped).add(work);
}

export interface Invocation {
  /** Runs `fn` as (part of) this invocation: work it holds is this invocation's. */
  run<R>(fn: () => R): R;
  /** Resolves once everything this invocation held is done. */
  done(): Promise<void>;
}

export function openInvocation(): Invocation {
  const held = new Held();
  return { run: (fn) => scope.run(held, fn), done: () => held.done() };
}
