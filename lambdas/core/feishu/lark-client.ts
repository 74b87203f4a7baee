/**
 * A small typed facade over @larksuiteoapi/node-sdk's `lark.Client` for what the bot does: reply / send / patch
 * interactive cards, download message resources, learn the bot's own identity.
 *
 * - Every call checks the open platform's `code` (≠ 0 → LarkApiError); HTTP errors (the SDK's axios throws on
 *   non-2xx, Feishu answers most failures with 400 + `{code, msg}`) and transport errors become LarkApiError too.
 * - Requests carry a timeout (default 10 s; the SDK's own axios instance has none, which in a Lambda would hang
 *   until the function times out).
 * - Clients are cached per (domain, appId, appSecret) in module scope; each has its own token cache, so the
 *   tenant_access_token (fetched from POST /open-apis/auth/v3/tenant_access_token/internal and cached by the SDK
 *   until 3 min before expiry) is reused across warm invocations and never shared between domains.
 * - Domain: explicit option, else env LARK_DOMAIN, else https://open.feishu.cn. `lark.Domain.Lark`,
 *   'lark' or 'https://open.larksuite.com' select Lark; any base URL (e.g. a local fake) works.
 * - Nothing secret reaches a log. An axios error carries the whole request (`config.headers.Authorization` =
 *   the tenant token, `config.data` = the app secret on a token fetch) and Powertools' formatError writes every
 *   enumerable property of an error and of its `cause`. So LarkApiError keeps only operation, Feishu code, HTTP
 *   status and a short message (never the SDK's error as `cause`), and the SDK's own logger (which logs raw axios
 *   errors on token and request failures) is always wrapped in one that reduces every argument to such a summary.
 */
import { config } from '../config.js';
import { DEFAULT_LARK_DOMAIN } from '../topology.js';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import * as lark from '@larksuiteoapi/node-sdk';
import { logger as appLogger } from '../log.js';
import { cardContent, type Card } from './cards.js';

const FEISHU_DOMAIN = DEFAULT_LARK_DOMAIN;
const LARK_DOMAIN = 'https://open.larksuite.com';

const MAX_MESSAGE_CHARS = 300;

/** Masks anything that looks like a credential in a string about to be logged, and keeps it short. */
function redactLarkText(s: string): string {
  const t = s
    .replace(/(bearer\s+)[^\s"',;]+/gi, '$1[redacted]')
    .replace(
      /("?(?:app_secret|app_access_token|tenant_access_token|user_access_token|access_token|refresh_token|authorization)"?\s*[:=]\s*)("[^"]*"|[^\s,;}&]+)/gi,
      '$1[redacted]',
    );
  return t.length > MAX_MESSAGE_CHARS ? `${t.slice(0, MAX_MESSAGE_CHARS)}…` : t;
}

/**
 * A failed open-platform call. Deliberately carries no `cause`: the SDK's error holds the request (tenant token,
 * app secret) and loggers serialise causes. Its enumerable fields are exactly operation, code and status.
 */
export class LarkApiError extends Error {
  /** Open-platform error code; -1 when there was none (transport error, non-JSON error body). */
  readonly code: number;
  /** HTTP status when a response arrived. */
  readonly status: number | undefined;
  readonly operation: string;
  constructor(operation: string, code: number, message: string, status?: number) {
    super(`${operation}: ${redactLarkText(message)} (code ${code}${status ? `, http ${status}` : ''})`);
    this.name = 'LarkApiError';
    this.operation = operation;
    this.code = code;
    this.status = status;
  }
}

export class LarkResourceTooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`message resource exceeds ${limit} bytes`);
    this.name = 'LarkResourceTooLargeError';
    this.limit = limit;
  }
}

export interface LarkResource {
  data: Buffer;
  contentType: string | undefined;
  /** From content-disposition, when the platform sends one. */
  fileName: string | undefined;
}

interface SendOptions {
  /** Idempotency key (Feishu de-duplicates sends with the same uuid for one hour); ≤ 50 chars. */
  uuid?: string;
}

export interface LarkClient {
  readonly domain: string;
  readonly appId: string;
  replyCard(messageId: string, card: Card, opts?: SendOptions & { replyInThread?: boolean }): Promise<{ messageId: string }>;
  sendCard(chatId: string, card: Card, opts?: SendOptions): Promise<{ messageId: string }>;
  patchCard(messageId: string, card: Card): Promise<void>;
  downloadImage(messageId: string, imageKey: string, opts?: { maxBytes?: number }): Promise<LarkResource>;
  downloadFile(messageId: string, fileKey: string, opts?: { maxBytes?: number }): Promise<LarkResource>;
  /** GET /open-apis/bot/v3/info — the bot's open_id (for mention detection) and name. */
  getBotInfo(): Promise<{ openId: string; name: string }>;
  /** The underlying SDK client, for anything else. */
  readonly raw: lark.Client;
}

export interface LarkClientOptions {
  appId: string;
  appSecret: string;
  domain?: string | lark.Domain;
  /** Per-request timeout, ms (default 10 000). */
  timeoutMs?: number;
  /** Default 20 MB; Bedrock itself accepts far less (images 3.75 MB, documents 4.5 MB). */
  maxDownloadBytes?: number;
  /** The SDK's logger (level error), always behind scrubbingLarkLogger; default: the gateway's logger. logger, timeoutMs and maxDownloadBytes are not part of the client cache key: the first client created for (domain, appId, appSecret) wins. */
  logger?: lark.Logger;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_DOWNLOAD = 20 * 1024 * 1024;

export function resolveLarkDomain(domain?: string | lark.Domain): string {
  if (domain === lark.Domain.Feishu) return FEISHU_DOMAIN;
  if (domain === lark.Domain.Lark) return LARK_DOMAIN;
  const d = (typeof domain === 'string' && domain.trim()) || config().larkDomain;
  if (d.toLowerCase() === 'feishu') return FEISHU_DOMAIN;
  if (d.toLowerCase() === 'lark') return LARK_DOMAIN;
  return d.replace(/\/+$/, '');
}

/** Wraps an axios-like instance so every request gets a default timeout. */
function withTimeout(base: unknown, timeout: number): lark.HttpInstance {
  type Opts = Record<string, unknown> | undefined;
  const t = (opts: Opts) => ({ timeout, ...(opts ?? {}) });
  const b = base as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const wrapped = {
    request: (opts: Opts) => b.request(t(opts)),
    get: (url: string, opts: Opts) => b.get(url, t(opts)),
    delete: (url: string, opts: Opts) => b.delete(url, t(opts)),
    head: (url: string, opts: Opts) => b.head(url, t(opts)),
    options: (url: string, opts: Opts) => b.options(url, t(opts)),
    post: (url: string, data: unknown, opts: Opts) => b.post(url, data, t(opts)),
    put: (url: string, data: unknown, opts: Opts) => b.put(url, data, t(opts)),
    patch: (url: string, data: unknown, opts: Opts) => b.patch(url, data, t(opts)),
  };
  return wrapped as unknown as lark.HttpInstance;
}

async function readAll(stream: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += buf.length;
    if (total > maxBytes) {
      stream.destroy();
      throw new LarkResourceTooLargeError(maxBytes);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

function isReadable(v: unknown): v is Readable {
  return !!v && typeof v === 'object' && typeof (v as { pipe?: unknown }).pipe === 'function' && Symbol.asyncIterator in v;
}

/** Maps whatever the SDK threw (axios error, token error, network error) to a LarkApiError. */
async function toLarkError(operation: string, err: unknown): Promise<Error> {
  if (err instanceof LarkApiError || err instanceof LarkResourceTooLargeError) return err;
  const e = err as { message?: string; response?: { status?: number; data?: unknown } };
  const status = e?.response?.status;
  let data = e?.response?.data;
  if (isReadable(data)) {
    try {
      data = (await readAll(data, 64 * 1024)).toString('utf8');
    } catch {
      data = undefined;
    }
  }
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      /* not JSON */
    }
  }
  const body = data as { code?: unknown; msg?: unknown } | undefined;
  if (body && typeof body === 'object' && typeof body.code === 'number') {
    return new LarkApiError(operation, body.code, typeof body.msg === 'string' ? body.msg : 'error', status);
  }
  // Only the message of what was thrown (an axios error's is e.g. "timeout of 10000ms exceeded"), never the object.
  return new LarkApiError(operation, -1, typeof e?.message === 'string' ? e.message : 'request failed', status);
}

// -------------------------------------------------------------------------------------------------------------
// The SDK's logger: it logs raw axios errors (request config with headers and body) and its own formatErrors()
// summaries (config.data = the request body). Everything it logs goes through scrubLarkLogValue first.
// -------------------------------------------------------------------------------------------------------------

const SAFE_KEYS = ['name', 'message', 'code', 'msg', 'log_id', 'status', 'statusText', 'method', 'url'] as const;

const stripQuery = (u: unknown): string | undefined => (typeof u === 'string' ? redactLarkText(u.split('?')[0]) : undefined);

/** An error or an HTTP-ish object (axios error, formatErrors entry) → method, path, status, Feishu code/msg. */
function summarizeHttp(v: Record<string, unknown>): Record<string, unknown> {
  const config = (v.config && typeof v.config === 'object' ? v.config : {}) as Record<string, unknown>;
  const response = (v.response && typeof v.response === 'object' ? v.response : {}) as Record<string, unknown>;
  const data = response.data;
  const body = data && typeof data === 'object' && !isReadable(data) ? (data as Record<string, unknown>) : undefined;
  const out: Record<string, unknown> = {};
  if (typeof v.name === 'string') out.name = v.name;
  if (typeof v.message === 'string') out.message = redactLarkText(v.message);
  if (typeof v.code === 'string' || typeof v.code === 'number') out.code = v.code;
  if (typeof config.method === 'string') out.method = config.method.toUpperCase();
  const url = stripQuery(config.url);
  if (url) out.url = url;
  if (typeof response.status === 'number') out.status = response.status;
  if (body && typeof body.code === 'number') out.feishuCode = body.code;
  if (body && typeof body.msg === 'string') out.feishuMsg = redactLarkText(body.msg);
  return out;
}

/** Reduces whatever the SDK logs to what is safe to keep: short redacted strings and whitelisted primitives. */
export function scrubLarkLogValue(v: unknown, depth = 0): unknown {
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'string') return redactLarkText(v);
  if (typeof v !== 'object') return `[${typeof v}]`;
  if (depth > 3) return '[…]';
  if (Array.isArray(v)) return v.slice(0, 10).map((x) => scrubLarkLogValue(x, depth + 1));
  const o = v as Record<string, unknown>;
  if (v instanceof Error || 'config' in o || 'request' in o || 'response' in o) return summarizeHttp(o);
  const out: Record<string, unknown> = {};
  for (const k of SAFE_KEYS) {
    const x = o[k];
    if (typeof x === 'string') out[k] = redactLarkText(k === 'url' ? x.split('?')[0] : x);
    else if (typeof x === 'number' || typeof x === 'boolean') out[k] = x;
  }
  return out;
}

/** The gateway's structured logger as the SDK's logger (errors and warnings only reach it at level error). */
const powertoolsSdkLogger: lark.Logger = {
  error: (...a: unknown[]) => appLogger.error('lark sdk error', { detail: a }),
  warn: (...a: unknown[]) => appLogger.warn('lark sdk warning', { detail: a }),
  info: (...a: unknown[]) => appLogger.info('lark sdk', { detail: a }),
  debug: (...a: unknown[]) => appLogger.debug('lark sdk', { detail: a }),
  trace: (...a: unknown[]) => appLogger.debug('lark sdk', { detail: a }),
};

/** Wraps a logger so that every argument is scrubbed before it sees it. */
function scrubbingLarkLogger(target: lark.Logger = powertoolsSdkLogger): lark.Logger {
  const wrap =
    (fn: (...a: unknown[]) => unknown) =>
    (...a: unknown[]) => {
      try {
        fn(...a.map((x) => scrubLarkLogValue(x)));
      } catch {
        /* logging never breaks a call */
      }
    };
  return {
    error: wrap((...a) => target.error(...a)),
    warn: wrap((...a) => target.warn(...a)),
    info: wrap((...a) => target.info(...a)),
    debug: wrap((...a) => target.debug(...a)),
    trace: wrap((...a) => target.trace(...a)),
  };
}

async function call<T extends { code?: number; msg?: string }>(operation: string, fn: () => Promise<T>): Promise<T> {
  let res: T;
  try {
    res = await fn();
  } catch (err) {
    throw await toLarkError(operation, err);
  }
  if (!res || res.code !== 0) {
    throw new LarkApiError(operation, typeof res?.code === 'number' ? res.code : -1, res?.msg ?? 'unexpected response');
  }
  return res;
}

function fileNameFrom(disposition: unknown): string | undefined {
  if (typeof disposition !== 'string') return undefined;
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(disposition);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''));
    } catch {
      /* fall through */
    }
  }
  const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/.exec(disposition);
  return plain ? (plain[2] ?? plain[1]).trim() : undefined;
}

const clients = new Map<string, LarkClient>();

export function createLarkClient(opts: LarkClientOptions): LarkClient {
  const domain = resolveLarkDomain(opts.domain);
  const secretHash = createHash('sha256').update(opts.appSecret).digest('hex');
  const key = `${domain}\n${opts.appId}\n${secretHash}`;
  const cached = clients.get(key);
  if (cached) return cached;

  const raw = new lark.Client({
    appId: opts.appId,
    appSecret: opts.appSecret,
    domain,
    disableTokenCache: false,
    loggerLevel: lark.LoggerLevel.error,
    cache: new lark.DefaultCache(),
    httpInstance: withTimeout(lark.defaultHttpInstance, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    // Never the SDK's default (console.log of raw axios errors, app secret included on a failed token fetch).
    logger: scrubbingLarkLogger(opts.logger),
  });
  const maxDefault = opts.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD;

  const download = async (
    operation: string,
    messageId: string,
    fileKey: string,
    type: 'image' | 'file',
    maxBytes = maxDefault,
  ): Promise<LarkResource> => {
    let res: Awaited<ReturnType<typeof raw.im.v1.messageResource.get>>;
    try {
      res = await raw.im.v1.messageResource.get({ path: { message_id: messageId, file_key: fileKey }, params: { type } });
    } catch (err) {
      throw await toLarkError(operation, err);
    }
    const headers = (res.headers ?? {}) as Record<string, unknown>;
    let data: Buffer;
    try {
      data = await readAll(res.getReadableStream(), maxBytes);
    } catch (err) {
      throw await toLarkError(operation, err);
    }
    const contentType = typeof headers['content-type'] === 'string' ? headers['content-type'] : undefined;
    return { data, contentType, fileName: fileNameFrom(headers['content-disposition']) };
  };

  const client: LarkClient = {
    domain,
    appId: opts.appId,
    raw,
    async replyCard(messageId, card, o = {}) {
      const res = await call('im.message.reply', () =>
        raw.im.v1.message.reply({
          path: { message_id: messageId },
          data: {
            msg_type: 'interactive',
            content: cardContent(card),
            ...(o.replyInThread ? { reply_in_thread: true } : {}),
            ...(o.uuid ? { uuid: o.uuid } : {}),
          },
        }),
      );
      const id = res.data?.message_id;
      if (!id) throw new LarkApiError('im.message.reply', -1, 'response has no message_id');
      return { messageId: id };
    },
    async sendCard(chatId, card, o = {}) {
      const res = await call('im.message.create', () =>
        raw.im.v1.message.create({
          params: { receive_id_type: 'chat_id' },
          data: { receive_id: chatId, msg_type: 'interactive', content: cardContent(card), ...(o.uuid ? { uuid: o.uuid } : {}) },
        }),
      );
      const id = res.data?.message_id;
      if (!id) throw new LarkApiError('im.message.create', -1, 'response has no message_id');
      return { messageId: id };
    },
    async patchCard(messageId, card) {
      await call('im.message.patch', () =>
        raw.im.v1.message.patch({ path: { message_id: messageId }, data: { content: cardContent(card) } }),
      );
    },
    downloadImage: (messageId, imageKey, o = {}) => download('im.messageResource.get', messageId, imageKey, 'image', o.maxBytes),
    downloadFile: (messageId, fileKey, o = {}) => download('im.messageResource.get', messageId, fileKey, 'file', o.maxBytes),
    async getBotInfo() {
      const res = await call('bot.info', () =>
        raw.request<{ code?: number; msg?: string; bot?: { open_id?: string; app_name?: string } }>({
          url: '/open-apis/bot/v3/info',
          method: 'GET',
        }),
      );
      if (!res.bot?.open_id) throw new LarkApiError('bot.info', -1, 'response has no bot.open_id');
      return { openId: res.bot.open_id, name: res.bot.app_name ?? '' };
    },
  };
  clients.set(key, client);
  return client;
}

/** Drops cached clients (tests). */
export function clearLarkClientCache(): void {
  clients.clear();
}
