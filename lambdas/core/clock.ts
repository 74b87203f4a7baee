/**
 * Wall clock for money and records. Tests of month rollover move it with `setClockOffsetForTests` rather than
 * faking timers across the whole process.
 */
let offsetMs = 0;

export function now(): Date {
  return new Date(Date.now() + offsetMs);
}

/** The UTC month a fee belongs to, e.g. "2026-11". */
export function currentMonth(at: Date = now()): string {
  return at.toISOString().slice(0, 7);
}

export function currentDay(at: Date = now()): string {
  return at.toISOString().slice(0, 10);
}

export function setClockOffsetForTests(ms: number): void {
  offsetMs = ms;
}
