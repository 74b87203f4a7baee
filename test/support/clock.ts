import { onTestFinished } from 'vitest';
import { setClockOffsetForTests } from '../../lambdas/core/clock.js';

/**
 * Rate windows are fixed wall-clock minutes. A test that makes a few calls and expects the last one refused would
 * pass or fail on whether a minute ended between its calls; this moves the gateway's clock (same process) to one
 * second into a fresh window for the rest of the test, and back when it finishes.
 */
export function startInFreshRateWindow(): void {
  setClockOffsetForTests(61_000 - (Date.now() % 60_000));
  onTestFinished(() => setClockOffsetForTests(0));
}
