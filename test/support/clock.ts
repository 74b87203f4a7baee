import { onTestFinished } from 'vitest';
import { setClockOffsetForTests } from '../../lambdas/core/clock.js';

/**
 * Rate windows are fixed wall-clock minutes. A test that makes a few calls and expects the last one refused would
 * pass or fail on whether a minute ended between its calls; this moves the gateway's clock (same process) to one
 * second into a fresh window for the rest of the test, and back when it finishes. Returns the clock's offset (ms).
 */
export function startInFreshRateWindow(): number {
  const offset = 61_000 - (Date.now() % 60_000);
  setClockOffsetForTests(offset);
  onTestFinished(() => setClockOffsetForTests(0));
  return offset;
}
