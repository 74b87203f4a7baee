import { z } from 'zod';
import { errors } from './errors.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json.js';
import { inputMoney, MoneyFormatError, type Money } from './money.js';

/** Parses with a zod schema; any problem is a 400 naming the first offending field. */
export function parse<S extends z.ZodType>(schema: S, data: unknown): z.output<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue?.path.join('.') || null;
  throw errors.badRequest(path ? `Invalid '${path}': ${issue.message}` : (issue?.message ?? 'Invalid request.'), path);
}

/**
 * A request body as JSON: '' is {}, anything else must parse, and nest at most MAX_JSON_DEPTH levels (checked on the
 * raw text first, so a hostile body nested 100,000 levels is a 400, not a stack overflow).
 */
export function parseJsonBody(body: string | undefined, isBase64: boolean | undefined): unknown {
  if (body === undefined || body === null || body === '') return {};
  const text = isBase64 ? Buffer.from(body, 'base64').toString('utf8') : body;
  if (jsonDepthExceeds(text))
    throw errors.badRequest(`The request body nests deeper than ${MAX_JSON_DEPTH} levels.`, null, 'json_too_deep');
  try {
    return JSON.parse(text);
  } catch {
    throw errors.badRequest('The request body is not valid JSON.');
  }
}

/**
 * Bounds on client-supplied strings (CONTRACT: model names and ids ≤ 256 characters). Every string that can become
 * part of a table key or an index value is bounded at the edge with a 400, so none reaches DynamoDB's own limits
 * (a 2 MB key is a ValidationException there, which would be a 500 here).
 */
export const MAX_NAME = 256;
/** A search term may be a whole name (`?name=` and `?q=` filter by names of up to MAX_NAME characters). */
const MAX_QUERY = MAX_NAME;
/** Largest model or bot `config` object, as JSON (they live inside one table item, whose limit is 400 KB). */
const MAX_CONFIG_BYTES = 32 * 1024;

/** A name or id a client chose: trimmed, non-empty, at most MAX_NAME characters. */
export const zName = z.string().trim().min(1, 'is required').max(MAX_NAME, `must be at most ${MAX_NAME} characters`);

/** The `model` a /v1 request names: a model row's name, as sent (echoed back unchanged). */
export const zModelName = z.string().min(1, 'is required').max(MAX_NAME, `must be at most ${MAX_NAME} characters`);

/** A model id in a path (`/v1/models/{id}`): bounded like the `model` of a request (400 beyond MAX_NAME). */
export function checkModelId(id: string): string {
  if (id.length === 0 || id.length > MAX_NAME) throw errors.badRequest(`model id must be 1 to ${MAX_NAME} characters.`, 'model');
  return id;
}

/** An optional field where null is "not given" (clients that serialise every field send it), never a 400. */
export const zAbsent = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? undefined);

/** A free-text search or filter value in a query string. */
export const zQuery = z.string().trim().max(MAX_QUERY, `must be at most ${MAX_QUERY} characters`);

/**
 * A whole number given as a JSON number or as a string of decimal digits (a query value, or a form field).
 * Nothing else is read as a number: `true`, `[5]`, `"0x5"`, `"5 "` and `"1e3"` are refused, so a body cannot
 * name record 1 by sending `true`.
 */
export const zWhole = (message: string) =>
  z.union(
    [
      z.number({ error: message }).int('must be an integer'),
      z
        .string({ error: message })
        .regex(/^[0-9]{1,16}$/, message)
        .transform(Number),
    ],
    { error: message },
  );

/** A rate limit: a positive whole number, or null for none (absent: not given). */
export const zLimit = z.union([z.null(), zWhole('must be a whole number').pipe(z.number().positive('must be positive').max(1e9))]);

/** An ISO 8601 instant, or null. */
export const zInstant = z.union([
  z.null(),
  z
    .string()
    .trim()
    .max(64)
    .refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 date-time')
    .transform((v) => new Date(v).toISOString()),
]);

/** A numeric id given as a whole number or a string of digits. */
export const zId = zWhole('must be a number').pipe(z.number().positive('must be positive').max(Number.MAX_SAFE_INTEGER, 'is too large'));

/** Exact money (USD): number or decimal string; at most `decimals` places. */
export function zMoney(opts: { decimals?: number; min?: 'nonnegative' | 'positive' } = {}) {
  return z.union([z.number(), z.string()]).transform((v, ctx): Money => {
    try {
      const m = inputMoney(v, opts.decimals ?? 12);
      if (opts.min === 'nonnegative' && m < 0n) ctx.addIssue({ code: 'custom', message: 'must not be negative' });
      if (opts.min === 'positive' && m <= 0n) ctx.addIssue({ code: 'custom', message: 'must be greater than 0' });
      return m;
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: e instanceof MoneyFormatError ? e.message : 'must be a decimal number' });
      return z.NEVER;
    }
  });
}

/** Offsets are capped: deep pages of record lists use `cursor` instead (see docs/data-model.md). */
const MAX_OFFSET = 10_000;

export const zPage = z.object({
  limit: zWhole('must be a whole number').pipe(z.number().min(1).max(1000)).default(20),
  offset: zWhole('must be a whole number').pipe(z.number().min(0).max(MAX_OFFSET)).default(0),
});

/** limit/offset plus a free-text `q` (the common shape of admin list routes). */
export const zSearchPage = zPage.extend({ q: zQuery.optional() });

/** Empty query values (`?q=&group_id=`) mean "not given". */
export function dropEmpty(query: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

/** An object given as itself or as a JSON string holding one (the seed API sends model and bot config as strings). */
export const zJsonObject = z.union([z.string(), z.record(z.string(), z.unknown())]).transform((v, ctx) => {
  if (Buffer.byteLength(typeof v === 'string' ? v : JSON.stringify(v), 'utf8') > MAX_CONFIG_BYTES) {
    ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_CONFIG_BYTES / 1024} KB of JSON` });
    return z.NEVER;
  }
  if (typeof v !== 'string') return v;
  try {
    const parsed: unknown = JSON.parse(v);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  ctx.addIssue({ code: 'custom', message: 'must be a JSON object or a string holding one' });
  return z.NEVER;
});
