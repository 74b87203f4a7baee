import { describe, expect, it } from 'vitest';
import {
  addMoney,
  feeFor,
  formatDateTime,
  formatLatency,
  formatMoney,
  formatTokens,
  formatTokensShort,
  isoToLocalInput,
  localInputToIso,
  toPlainDecimal,
} from './format';

describe('money is shown as a plain decimal, never in exponent notation', () => {
  it.each([
    [1.38e-7, '0.000000138'],
    [0.000138, '0.000138'],
    [1e-12, '0.000000000001'],
    [5, '5'],
    [-0.5, '-0.5'],
    [1e21, '1000000000000000000000'],
    [0.1 + 0.2, '0.3'],
    [999999999.999999, '999999999.999999'],
    [1000000000.299999, '1000000000.299999'],
    [1e-13, '0'],
    [-1.0000000000000002, '-1'],
    ['2.50', '2.5'],
    ['1e-7', '0.0000001'],
    ['-0', '0'],
  ])('toPlainDecimal(%s) = %s', (value, plain) => {
    expect(toPlainDecimal(value)).toBe(plain);
  });

  it.each([
    [0, '$0.00'],
    [2.5, '$2.50'],
    [0.000138, '$0.000138'],
    [1.38e-7, '$0.000000138'],
    [1234567.5, '$1,234,567.50'],
    [-2, '-$2.00'],
    [0.1 + 0.2, '$0.30'],
    [1000000000.299999, '$1,000,000,000.299999'],
  ])('formatMoney(%s) = %s', (value, text) => {
    expect(formatMoney(value)).toBe(text);
  });

  it('shows a dash for a value the backend did not send', () => {
    expect(formatMoney(undefined)).toBe('—');
    expect(formatMoney(null)).toBe('—');
    expect(formatMoney(Number.NaN)).toBe('—');
  });

  it('can leave out the symbol and the minimum decimals (chart axes)', () => {
    expect(formatMoney(3, { minDecimals: 0 })).toBe('$3');
    expect(formatMoney(3, { symbol: false })).toBe('3.00');
  });

  it('adds money exactly, as the gateway does (no float drift)', () => {
    expect(addMoney(0.1, 0.2)).toBe(0.3);
    expect(addMoney(...Array.from({ length: 1000 }, () => 0.000138))).toBe(0.138);
    expect(addMoney(1, -0.000001, undefined, null)).toBe(0.999999);
  });
});

describe('fees from model prices (USD per 1M tokens)', () => {
  it('is the README worked example: 11 in × 3 + 7 out × 15 = 0.000138', () => {
    expect(feeFor({ tokens_in: 11, tokens_out: 7 }, { price_in: 3, price_out: 15 })).toBe(0.000138);
  });

  it('prices cache reads at 10% and writes at 125% of the input price unless set', () => {
    expect(
      feeFor({ tokens_in: 0, tokens_out: 0, tokens_cache_read: 1_000_000, tokens_cache_write: 1_000_000 }, { price_in: 3, price_out: 15 }),
    ).toBe(0.3 + 3.75);
    expect(
      feeFor(
        { tokens_in: 0, tokens_out: 0, tokens_cache_read: 1_000_000 },
        { price_in: 3, price_out: 15, price_cache_read: 0.5, price_cache_write: null },
      ),
    ).toBe(0.5);
  });

  it('rounds each part down to 1e-12 USD', () => {
    expect(feeFor({ tokens_in: 1, tokens_out: 0 }, { price_in: 0.000001, price_out: 0 })).toBe(1e-12);
    expect(feeFor({ tokens_in: 0, tokens_out: 0, tokens_cache_read: 1 }, { price_in: 0.000001, price_out: 0 })).toBe(0);
  });
});

describe('tokens, latencies and dates', () => {
  it('groups token counts and shortens them for axes', () => {
    expect(formatTokens(1234567)).toBe('1,234,567');
    expect(formatTokens(0)).toBe('0');
    expect(formatTokens(undefined)).toBe('—');
    expect(formatTokensShort(950)).toBe('950');
    expect(formatTokensShort(12_345)).toBe('12.3k');
    expect(formatTokensShort(4_000_000)).toBe('4M');
  });

  it('shows latencies in ms, s or min', () => {
    expect(formatLatency(850)).toBe('850 ms');
    expect(formatLatency(1250)).toBe('1.25 s');
    expect(formatLatency(1500)).toBe('1.5 s');
    expect(formatLatency(125_000)).toBe('2 min 5 s');
    expect(formatLatency(null)).toBe('—');
  });

  it('shows timestamps in local time as YYYY-MM-DD HH:mm:ss', () => {
    const iso = '2026-12-01T14:03:09.000Z';
    const d = new Date(iso);
    const pad = (n: number) => String(n).padStart(2, '0');
    expect(formatDateTime(iso)).toBe(
      `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`,
    );
    expect(formatDateTime('not a date')).toBe('not a date');
    expect(formatDateTime(null)).toBe('—');
  });

  it('turns datetime-local input values into ISO 8601 and back (empty = no expiry)', () => {
    const local = '2027-01-31T23:45';
    expect(isoToLocalInput(localInputToIso(local))).toBe(local);
    expect(localInputToIso('')).toBeNull();
    expect(isoToLocalInput(null)).toBe('');
  });
});
