/**
 * Form values are kept as the strings the person typed; money goes to the API as a decimal string (the gateway
 * parses it exactly), so no float ever touches an amount.
 */
import type { ApiKey } from '../api/types';
import { toPlainDecimal } from './format';

/** As the gateway takes amounts: up to 6 decimals, at most 1e12 (money.ts MAX_AMOUNT), never negative. */
const MONEY = /^(\d+)(?:\.(\d{1,6}))?$/;
const MAX_INT_DIGITS = '1000000000000';

export function isMoneyInput(value: string, opts: { optional?: boolean; positive?: boolean } = {}): boolean {
  const v = value.trim();
  if (v === '') return opts.optional === true;
  const m = MONEY.exec(v);
  if (!m) return false;
  const int = m[1].replace(/^0+(?=\d)/, '');
  const frac = m[2] ?? '';
  if (int.length > MAX_INT_DIGITS.length) return false;
  if (int.length === MAX_INT_DIGITS.length && (int > MAX_INT_DIGITS || (int === MAX_INT_DIGITS && /[1-9]/.test(frac)))) return false;
  return !opts.positive || /[1-9]/.test(int + frac);
}

/** A limit field: empty = no limit (null), else a whole number ≥ 0; undefined when it is neither. */
export function parseLimitInput(value: string): number | null | undefined {
  const v = value.trim();
  if (v === '') return null;
  if (!/^\d{1,12}$/.test(v)) return undefined;
  return Number(v);
}

export const limitToInput = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));

export const moneyToInput = (v: number | null | undefined) => (v === null || v === undefined ? '' : toPlainDecimal(v));

/**
 * A value of a model's JSON config as a text input or cell shows it: `empty` for null and undefined, strings as
 * they are, numbers and booleans as String writes them, objects and arrays as JSON.
 */
export function jsonValueToInput(v: unknown, empty = ''): string {
  if (v === null || v === undefined) return empty;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v) ?? empty;
}

/** Parses a JSON object typed into a text area: the object, or the reason it is not one. */
export function parseJsonObject(
  text: string,
): { ok: true; value: Record<string, unknown> } | { ok: false; reason: 'syntax' | 'not-object'; message: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: 'syntax', message: (e as Error).message };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'not-object', message: '' };
  return { ok: true, value: value as Record<string, unknown> };
}

/** A key's state as the gateway treats it: disabled wins, then an expiry in the past. */
export function keyStatus(k: Pick<ApiKey, 'status' | 'expires_at'>, now = Date.now()): 'active' | 'disabled' | 'expired' {
  if (k.status === 'disabled') return 'disabled';
  if (k.expires_at && Date.parse(k.expires_at) <= now) return 'expired';
  return 'active';
}
