import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCardStreamer } from '../../../lambdas/core/feishu/card-streamer.js';

/** A patch function whose calls stay pending until released. */
function controllablePatch() {
  const calls: string[] = [];
  const resolvers: Array<(err?: Error) => void> = [];
  const patch = vi.fn((state: string) => {
    calls.push(state);
    return new Promise<void>((resolve, reject) => resolvers.push((err) => (err ? reject(err) : resolve())));
  });
  return {
    patch,
    calls,
    async release(i: number, err?: Error) {
      resolvers[i](err);
      await vi.advanceTimersByTimeAsync(0);
    },
  };
}

describe('createCardStreamer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('patches the first update at once, then coalesces to the latest state per interval', async () => {
    const p = controllablePatch();
    const s = createCardStreamer<string>({ patch: p.patch, intervalMs: 400 });
    s.update('a');
    expect(p.calls).toEqual(['a']);
    s.update('b');
    s.update('c');
    await p.release(0);
    expect(p.calls).toEqual(['a']); // interval not elapsed
    await vi.advanceTimersByTimeAsync(399);
    expect(p.calls).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(1);
    expect(p.calls).toEqual(['a', 'c']); // 'b' was coalesced away
    await p.release(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(p.calls).toEqual(['a', 'c']); // nothing new
  });

  it('never has two patches in flight, even when a patch is slower than the interval', async () => {
    const p = controllablePatch();
    const s = createCardStreamer<string>({ patch: p.patch, intervalMs: 400 });
    s.update('a');
    s.update('b');
    await vi.advanceTimersByTimeAsync(2000);
    expect(p.calls).toEqual(['a']); // 'a' still in flight
    s.update('c');
    await p.release(0);
    expect(p.calls).toEqual(['a', 'c']); // interval long passed: sent as soon as 'a' completes
  });

  it('respects the interval across many updates', async () => {
    const starts: number[] = [];
    const s = createCardStreamer<number>({
      patch: async () => {
        starts.push(Date.now());
      },
      intervalMs: 400,
    });
    for (let i = 0; i < 100; i++) {
      s.update(i);
      await vi.advanceTimersByTimeAsync(25);
    }
    await s.finish(100);
    for (let i = 1; i < starts.length - 1; i++) expect(starts[i] - starts[i - 1]).toBeGreaterThanOrEqual(400);
    expect(starts.length).toBeLessThanOrEqual(Math.ceil(2500 / 400) + 2);
  });

  it('finish flushes the final state exactly once, after the in-flight patch, dropping pending states', async () => {
    const p = controllablePatch();
    const s = createCardStreamer<string>({ patch: p.patch, intervalMs: 400 });
    s.update('a');
    s.update('b'); // pending behind 'a'
    const f1 = s.finish('final');
    const f2 = s.finish('other');
    expect(f2).toBe(f1);
    s.update('late'); // ignored
    let done = false;
    void f1.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(p.calls).toEqual(['a']); // waits for 'a'
    await p.release(0);
    expect(p.calls).toEqual(['a', 'final']);
    expect(done).toBe(false);
    await p.release(1);
    expect(done).toBe(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(p.calls).toEqual(['a', 'final']);
    expect(s.patches).toBe(2);
  });

  it('finish with nothing in flight patches immediately; a pending timer is cancelled', async () => {
    const p = controllablePatch();
    const s = createCardStreamer<string>({ patch: p.patch, intervalMs: 400 });
    s.update('a');
    await p.release(0);
    s.update('b'); // waits for the interval
    const f = s.finish('final');
    await vi.advanceTimersByTimeAsync(0);
    expect(p.calls).toEqual(['a', 'final']);
    await p.release(1);
    await f;
    await vi.advanceTimersByTimeAsync(1000);
    expect(p.calls).toEqual(['a', 'final']);
  });

  it('intermediate failures go to onError and do not stop the stream; a final failure rejects', async () => {
    const p = controllablePatch();
    const onError = vi.fn();
    const s = createCardStreamer<string>({ patch: p.patch, intervalMs: 400, onError });
    s.update('a');
    s.update('b');
    await p.release(0, new Error('boom'));
    expect(onError).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(400);
    expect(p.calls).toEqual(['a', 'b']);
    await p.release(1);
    const f = s.finish('final');
    const settled = f.then(
      () => 'ok',
      (e: Error) => e.message,
    );
    await vi.advanceTimersByTimeAsync(0);
    await p.release(2, new Error('final failed'));
    expect(await settled).toBe('final failed');
  });

  it('works with an injected clock and timer (no global fakes needed)', async () => {
    vi.useRealTimers();
    let t = 0;
    const timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];
    const sent: string[] = [];
    const s = createCardStreamer<string>({
      patch: async (x) => {
        sent.push(x);
      },
      intervalMs: 100,
      now: () => t,
      setTimer: (fn, ms) => {
        const timer = { at: t + ms, fn, cancelled: false };
        timers.push(timer);
        return () => (timer.cancelled = true);
      },
    });
    s.update('1');
    await Promise.resolve();
    await Promise.resolve();
    s.update('2');
    s.update('3');
    expect(sent).toEqual(['1']);
    expect(timers.length).toBe(1);
    expect(timers[0].at).toBe(100);
    t = 100;
    timers[0].fn();
    expect(sent).toEqual(['1', '3']);
    await s.finish('end');
    expect(sent).toEqual(['1', '3', 'end']);
  });
});
