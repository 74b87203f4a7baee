/**
 * Work that must finish before an invocation returns, though the client need not wait for it: a call's settlement
 * (charge and record) runs after its last byte was sent, and the handler holds the invocation open until it is done
 * (Lambda freezes an instance as soon as its handler returns; work still pending would run only at the next thaw,
 * or never). The handler makes one per invocation and hands it down with the request (the local server serves
 * many invocations at once, each with its own).
 */
export class Invocation {
  private readonly work = new Set<Promise<unknown>>();

  /** Keeps the invocation open until `work` has settled (its failure is the caller's to handle). */
  hold(work: Promise<unknown>): void {
    const p = work.catch(() => undefined).finally(() => this.work.delete(p));
    this.work.add(p);
  }

  /** Resolves once everything held so far (and anything held meanwhile) is done. */
  async done(): Promise<void> {
    while (this.work.size > 0) await Promise.all([...this.work]);
  }
}
