import { describe, expect, it } from 'vitest';
import type { StatRow } from '../api/types';
import { daysBetween, periodRange, topBy, usagePerDay } from './usage';

const row = (day: string, key_id: number, model: string, fee: number, tokens = 10): StatRow => ({
  day,
  key_id,
  model,
  requests: 1,
  tokens_in: tokens,
  tokens_out: tokens,
  tokens_cache_read: 0,
  tokens_cache_write: 0,
  fee,
});

describe('usage charts', () => {
  it('has a point for every day of the range, quiet days as zero', () => {
    expect(daysBetween('2026-11-29', '2026-12-02')).toEqual(['2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02']);
    const days = usagePerDay([row('2026-11-30', 1, 'a', 0.1), row('2026-11-30', 2, 'b', 0.2)], '2026-11-29', '2026-12-01');
    expect(days).toEqual([
      { day: '2026-11-29', fee: 0, tokens_in: 0, tokens_out: 0, requests: 0 },
      { day: '2026-11-30', fee: 0.3, tokens_in: 20, tokens_out: 20, requests: 2 },
      { day: '2026-12-01', fee: 0, tokens_in: 0, tokens_out: 0, requests: 0 },
    ]);
  });

  it('ranks keys and models by spend', () => {
    const rows = [row('2026-12-01', 1, 'a', 0.1), row('2026-12-01', 2, 'a', 0.5), row('2026-12-02', 1, 'b', 0.2)];
    expect(topBy(rows, 'key_id').map((r) => [r.id, r.fee])).toEqual([
      [2, 0.5],
      [1, 0.3],
    ]);
    expect(topBy(rows, 'model').map((r) => [r.id, r.fee])).toEqual([
      ['a', 0.6],
      ['b', 0.2],
    ]);
  });

  it('names periods in UTC days', () => {
    const now = new Date('2026-12-15T23:30:00Z');
    expect(periodRange('month', now)).toEqual({ from: '2026-12-01', to: '2026-12-15' });
    expect(periodRange('7', now)).toEqual({ from: '2026-12-09', to: '2026-12-15' });
  });
});
