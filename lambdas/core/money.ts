import { NumberValue } from '@aws-sdk/lib-dynamodb';

/**
 * Exact money: amounts are bigint counts of pico-dollars (1e-12 USD). A price of up to 6 decimals per 1M tokens
 * times a whole number of tokens is always a whole number of pico-dollars, so fees never round. DynamoDB stores
 * them as decimal numbers (it does exact decimal arithmetic for ADD), never as binary floats.
 */
export type Money = bigint;

const SCALE_DIGITS = 12;
const SCALE = 10n ** BigInt(SCALE_DIGITS);
const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/;

export class MoneyFormatError extends Error {}

/**
 * Amounts a client gives are refused beyond this (1e12 USD): far past any real figure, well inside DynamoDB's
 * 38 digits. Stored sums (balances, statistics) are read whatever they hold; writes that would take a balance past
 * this bound are refused where they happen (a recharge).
 */
export const MAX_AMOUNT: Money = 10n ** 24n;

/**
 * Parses a decimal number (number, plain decimal string, or a DynamoDB NumberValue) into pico-dollars, exactly.
 * Strings must be plain decimals ("12", "0.23", "-1.5"); exponents, hex and the like are refused. There is no
 * bound on size here (stored sums must always read back); input is bounded by `inputMoney`.
 */
export function money(value: unknown, maxDecimals = SCALE_DIGITS): Money {
  if (typeof value === 'bigint') return value * SCALE;
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new MoneyFormatError(`not a finite number: ${value}`);
    text = numberToPlain(value);
  } else if (typeof value === 'string') {
    text = value.trim();
  } else if (value instanceof NumberValue) {
    text = value.value;
    // DynamoDB may hand back exponent notation for very small or large numbers.
    if (/e/i.test(text)) text = numberToPlain(Number(text));
  } else if (value === undefined || value === null) {
    return 0n;
  } else {
    throw new MoneyFormatError(`not a number: ${typeof value}`);
  }
  const m = DECIMAL.exec(text);
  if (!m) throw new MoneyFormatError(`not a decimal number: ${text}`);
  const [, sign, whole, frac = ''] = m;
  const trimmed = frac.replace(/0+$/, '');
  if (trimmed.length > maxDecimals) throw new MoneyFormatError(`at most ${maxDecimals} decimal places are allowed`);
  const units = BigInt(whole) * SCALE + BigInt((trimmed + '0'.repeat(SCALE_DIGITS)).slice(0, SCALE_DIGITS) || '0');
  return sign === '-' ? -units : units;
}

/** `money` for client input: also refuses amounts beyond ±MAX_AMOUNT. */
export function inputMoney(value: unknown, maxDecimals = SCALE_DIGITS): Money {
  const m = money(value, maxDecimals);
  if (m > MAX_AMOUNT || m < -MAX_AMOUNT) throw new MoneyFormatError(`must be at most ${formatMoney(MAX_AMOUNT)}`);
  return m;
}

/** Exact decimal string, no trailing zeros ("13.8", "0.000138", "0"). */
export function formatMoney(m: Money): string {
  const neg = m < 0n;
  const abs = neg ? -m : m;
  const whole = abs / SCALE;
  const frac = (abs % SCALE).toString().padStart(SCALE_DIGITS, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/** For JSON responses: a JS number that prints as the exact decimal (display only; never computed with). */
export function moneyToJson(m: Money): number {
  return Number(formatMoney(m));
}

/** For DynamoDB writes: an exact decimal number attribute. */
export function moneyAttr(m: Money): NumberValue {
  return NumberValue.from(formatMoney(m));
}

/** fee for `tokens` at `pricePerMillion` (pico-dollars per 1M tokens): exact because prices have ≤ 6 decimals. */
export function feeFor(tokens: number, pricePerMillion: Money): Money {
  return (BigInt(tokens) * pricePerMillion) / 1_000_000n;
}

function numberToPlain(n: number): string {
  // Shortest round-trip representation, expanded out of exponent form digit for digit ("1e+30" is 1 and 30 zeros,
  // "1.5e-7" is 0.00000015): toFixed() would keep the exponent from 1e21 up and round below 1e-20.
  const s = String(n);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/i.exec(s);
  if (!m) return s;
  const [, sign, int, frac = '', exp] = m;
  const digits = int + frac;
  const point = int.length + Number(exp);
  const plain =
    point <= 0
      ? `0.${'0'.repeat(-point)}${digits}`
      : point >= digits.length
        ? digits + '0'.repeat(point - digits.length)
        : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return sign + plain;
}
