import { errors } from '../errors.js';
import { isJsonObject, type JsonObject, jsonDepthExceeds, MAX_JSON_DEPTH } from '../json.js';

/**
 * A tool call's `arguments` as OpenAI's wire APIs carry them (a JSON string; chat also takes an object) → the
 * call's input. Blank is `{}`. The string is inside the body, so the body's own nesting bound does not see into
 * it: it is bounded here before it is parsed. Every refusal is a 400 naming `param` (the field's path).
 */
export function parseToolArguments(args: unknown, param: string): JsonObject {
  if (args == null || (typeof args === 'string' && args.trim() === '')) return {};
  if (typeof args === 'string' && jsonDepthExceeds(args)) {
    throw errors.badRequest(`${param} nests deeper than ${MAX_JSON_DEPTH} levels.`, param);
  }
  let parsed: unknown;
  try {
    parsed = typeof args === 'string' ? JSON.parse(args) : args;
  } catch {
    throw errors.badRequest(`${param} is not valid JSON.`, param);
  }
  if (!isJsonObject(parsed)) throw errors.badRequest(`${param} must be a JSON object.`, param);
  return parsed;
}
