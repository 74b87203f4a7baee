/** A JSON value (what JSON.parse returns and what request bodies, tool inputs and schemas are made of). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Values from JSON.parse or a request body are JSON by construction; this only checks for an object. */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deepest nesting any route accepts (a tool schema nested 100,000 levels would exhaust the stack). */
export const MAX_JSON_DEPTH = 64;

/**
 * How deeply `text` (JSON) nests objects and arrays, counted on the raw text without recursion, so a hostile body
 * costs linear time and no stack. Stops counting at `limit + 1`.
 */
export function jsonDepthExceeds(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * A finite number as a plain JSON number literal, never in exponent notation (2e-8 → "0.00000002", 1e21 →
 * "1000000000000000000000"): the same digits JSON.stringify would print, with the decimal point moved.
 */
export function plainNumber(n: number): string {
  const s = String(n);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, int, frac = '', expText] = m;
  const digits = int + frac;
  const point = int.length + Number(expText); // where the decimal point goes in `digits`
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** A marker no string JSON.stringify writes could contain by chance (fresh per process). */
const RAW = `\u0000num${Math.random().toString(36).slice(2)}:`;
const RAW_IN_TEXT = new RegExp(`"\\\\u0000${RAW.slice(1)}(-?[0-9.]+)"`, 'g');

/**
 * JSON.stringify whose numbers never use exponent notation, so that money reads as money (0.00000002, not 2e-8)
 * in every admin and user answer. Values and key order are exactly JSON.stringify's.
 */
export function stringifyPlain(value: unknown): string {
  let marked = false;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return v;
    const plain = plainNumber(v);
    if (plain === String(v)) return v;
    marked = true;
    return `${RAW}${plain}`;
  });
  return marked ? text.replace(RAW_IN_TEXT, '$1') : text;
}
