/**
 * How the console shows money, tokens, dates and latencies. Money arrives as JSON numbers (exact to 1e-12 USD on
 * the server) and must never be shown in exponent notation: 1.38e-7 is "0.000000138".
 */

/** A finite number or numeric string as a plain decimal string (no exponent, no float noise beyond 12 places). */
export function toPlainDecimal(value: number | string): string {
  const text = typeof value === 'number' ? numberToText(value) : value.trim();
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return 'NaN';
  const sign = m[1] === '-' ? '-' : '';
  let int = m[2] || '0';
  let frac = m[3] ?? '';
  const exp = Number(m[4] ?? 0);
  if (exp > 0) {
    const moved = frac.padEnd(exp, '0');
    int += moved.slice(0, exp);
    frac = moved.slice(exp);
  } else if (exp < 0) {
    const digits = int.padStart(-exp + 1, '0');
    frac = digits.slice(digits.length + exp) + frac;
    int = digits.slice(0, digits.length + exp);
  }
  int = int.replace(/^0+(?=\d)/, '');
  frac = frac.replace(/0+$/, '');
  const out = frac ? `${int}.${frac}` : int;
  return out === '0' ? '0' : sign + out;
}

/**
 * A number as the shortest text that reads back as it (what JSON sent: 1000000000.299999 stays so); when that
 * text carries float noise past the server's 12 decimals (0.1 + 0.2 = 0.30000000000000004), the value at 15
 * significant digits, cut at 12 decimals.
 */
function numberToText(n: number): string {
  if (!Number.isFinite(n)) return 'NaN';
  if (Number.isInteger(n)) return BigInt(n).toString();
  const shortest = toPlainDecimal(String(n));
  if ((shortest.split('.')[1] ?? '').length <= 12) return shortest;
  const [int, frac = ''] = toPlainDecimal(String(Number(n.toPrecision(15)))).split('.');
  return `${int}.${frac.slice(0, 12)}`;
}

function groupThousands(int: string): string {
  return int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * USD with at least 2 decimals and as many more as the value has (up to 12): `$1,234.50`, `$0.000138`, `-$2.00`.
 * Absent values (a field the backend does not send yet) are a dash.
 */
export function formatMoney(value: number | string | null | undefined, opts: { minDecimals?: number; symbol?: boolean } = {}): string {
  if (value === null || value === undefined || value === '') return '—';
  const plain = toPlainDecimal(value);
  if (plain === 'NaN') return '—';
  const negative = plain.startsWith('-');
  const [int, frac = ''] = (negative ? plain.slice(1) : plain).split('.');
  const minDecimals = opts.minDecimals ?? 2;
  const decimals = frac.padEnd(minDecimals, '0');
  const body = `${groupThousands(int)}${decimals ? `.${decimals}` : ''}`;
  return `${negative ? '-' : ''}${opts.symbol === false ? '' : '$'}${body}`;
}

/** An exact decimal sum of money values (as the server adds them): summing floats would drift. */
export function addMoney(...values: Array<number | string | null | undefined>): number {
  let pico = 0n;
  for (const v of values) {
    if (v === null || v === undefined || v === '') continue;
    const plain = toPlainDecimal(v);
    if (plain === 'NaN') continue;
    const negative = plain.startsWith('-');
    const [int, frac = ''] = (negative ? plain.slice(1) : plain).split('.');
    const units = BigInt(int) * 10n ** 12n + BigInt(frac.slice(0, 12).padEnd(12, '0'));
    pico += negative ? -units : units;
  }
  const negative = pico < 0n;
  const abs = negative ? -pico : pico;
  const text = `${abs / 10n ** 12n}.${(abs % 10n ** 12n).toString().padStart(12, '0')}`;
  return Number(`${negative ? '-' : ''}${text}`);
}

/**
 * The fee of a call at USD prices per 1M tokens, as the gateway computes it (cache prices default to 10% and
 * 125% of the input price). Exact: integer arithmetic in 1e-12 USD.
 */
export function feeFor(
  usage: { tokens_in: number; tokens_out: number; tokens_cache_read?: number; tokens_cache_write?: number },
  prices: { price_in: number; price_out: number; price_cache_read?: number | null; price_cache_write?: number | null },
): number {
  // Pico-dollars per 1M tokens; each part is rounded down to 1e-12 USD on its own, as the gateway does.
  const perMillion = (price: number) => BigInt(Math.round(Number(toPlainDecimal(price)) * 1e6)) * 1_000_000n;
  const priceIn = perMillion(prices.price_in);
  const cacheRead = prices.price_cache_read == null ? priceIn / 10n : perMillion(prices.price_cache_read);
  const cacheWrite = prices.price_cache_write == null ? (priceIn * 5n) / 4n : perMillion(prices.price_cache_write);
  const part = (tokens: number | undefined, price: bigint) => (BigInt(tokens ?? 0) * price) / 1_000_000n;
  const pico =
    part(usage.tokens_in, priceIn) +
    part(usage.tokens_out, perMillion(prices.price_out)) +
    part(usage.tokens_cache_read, cacheRead) +
    part(usage.tokens_cache_write, cacheWrite);
  return Number(`${pico / 10n ** 12n}.${(pico % 10n ** 12n).toString().padStart(12, '0')}`);
}

/** Token counts with thousands separators: `1,234,567`. */
export function formatTokens(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return groupThousands(String(Math.round(n)));
}

/** Short token counts for chart axes: `950`, `12.3k`, `4.5M`. */
export function formatTokensShort(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${trimZeros((n / 1e9).toFixed(1))}B`;
  if (abs >= 1e6) return `${trimZeros((n / 1e6).toFixed(1))}M`;
  if (abs >= 1e3) return `${trimZeros((n / 1e3).toFixed(1))}k`;
  return String(Math.round(n));
}

function trimZeros(s: string): string {
  return s.replace(/\.0$/, '');
}

const pad = (n: number) => String(n).padStart(2, '0');

/** An ISO timestamp in the viewer's local time: `2026-12-01 14:03:09`. Not a date → shown as given. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A day `YYYY-MM-DD` of a Date in UTC (the gateway's statistics and quotas count UTC days and months). */
export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** Milliseconds: `850 ms`, `1.25 s`, `2 min 5 s`. */
export function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${trimZeros((ms / 1000).toFixed(2)).replace(/0$/, '')} s`;
  const min = Math.floor(ms / 60_000);
  return `${min} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** `<input type="datetime-local">` value ⇄ ISO 8601 (UTC). Empty means "no expiry". */
export function localInputToIso(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export function isoToLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
