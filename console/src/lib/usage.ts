import type { StatRow, Thread } from '../api/types';
import { addMoney, utcDay } from './format';

/** One point of a usage chart: a UTC day's spend and tokens. */
export interface DayUsage {
  day: string;
  fee: number;
  tokens_in: number;
  tokens_out: number;
  requests: number;
}

/** Every day from..to (inclusive, YYYY-MM-DD, UTC), so that quiet days show as zero instead of vanishing. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end && out.length < 400; t += 86_400_000) out.push(utcDay(new Date(t)));
  return out;
}

/** Daily totals of statistics rows (one row per day, key and model), zero-filled over from..to. */
export function usagePerDay(
  rows: Array<Pick<StatRow, 'day' | 'fee' | 'tokens_in' | 'tokens_out' | 'requests'>>,
  from: string,
  to: string,
): DayUsage[] {
  const byDay = new Map<string, DayUsage>(
    daysBetween(from, to).map((day) => [day, { day, fee: 0, tokens_in: 0, tokens_out: 0, requests: 0 }]),
  );
  for (const r of rows) {
    const d = byDay.get(r.day);
    if (!d) continue;
    d.fee = addMoney(d.fee, r.fee);
    d.tokens_in += r.tokens_in;
    d.tokens_out += r.tokens_out;
    d.requests += r.requests;
  }
  return [...byDay.values()];
}

/** The same from a key's own threads (users have no statistics route): one row per thread, by its UTC day. */
export function threadsAsStats(threads: Thread[]): Array<Pick<StatRow, 'day' | 'fee' | 'tokens_in' | 'tokens_out' | 'requests'>> {
  return threads.map((t) => ({
    day: t.created_at.slice(0, 10),
    fee: t.fee,
    tokens_in: t.tokens_in,
    tokens_out: t.tokens_out,
    requests: 1,
  }));
}

/** Totals per key or per model, largest spend first. */
export function topBy<K extends 'key_id' | 'model'>(
  rows: StatRow[],
  field: K,
  n = 10,
): Array<{ id: StatRow[K]; fee: number; tokens: number; requests: number }> {
  const acc = new Map<StatRow[K], { id: StatRow[K]; fee: number; tokens: number; requests: number }>();
  for (const r of rows) {
    const a = acc.get(r[field]) ?? { id: r[field], fee: 0, tokens: 0, requests: 0 };
    a.fee = addMoney(a.fee, r.fee);
    a.tokens += r.tokens_in + r.tokens_out;
    a.requests += r.requests;
    acc.set(r[field], a);
  }
  return [...acc.values()].sort((a, b) => b.fee - a.fee || b.tokens - a.tokens).slice(0, n);
}

/** from/to (UTC days) of a named period ending today. */
export function periodRange(period: 'month' | '7' | '30' | '90', now = new Date()): { from: string; to: string } {
  const to = utcDay(now);
  if (period === 'month') return { from: `${to.slice(0, 8)}01`, to };
  return { from: utcDay(new Date(now.getTime() - (Number(period) - 1) * 86_400_000)), to };
}
