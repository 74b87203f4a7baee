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
