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
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import * as lark from '@larksuiteoapi/node-sdk';
import { cardContent, type Card } from './cards.js';

export const FEISHU_DOMAIN = 'https://open.feishu.cn';
export const LARK_DOMAIN = 'https://open.larksuite.com';

export class LarkApiError extends Error {
  /** Open-platform error code; -1 when there was none (transport error, non-JSON error body). */
  readonly code: number;
  /** HTTP status when a response arrived. */
  readonly status: number | undefined;
  readonly operation: string;
  constructor(operation: string, code: number, message: string, status?: number, cause?: unknown) {
    super(`${operation}: ${message} (code ${code}${status ? `, http ${status}` : ''})`, cause === undefined ? undefined : { cause });
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

export interface SendOptions {
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
  /** The SDK's logger (level error). logger, timeoutMs and maxDownloadBytes are not part of the client cache key: the first client created for (domain, appId, appSecret) wins. */
  logger?: lark.Logger;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_DOWNLOAD = 20 * 1024 * 1024;

export function resolveLarkDomain(domain?: string | lark.Domain): string {
  if (domain === lark.Domain.Feishu) return FEISHU_DOMAIN;
  if (domain === lark.Domain.Lark) return LARK_DOMAIN;
  const d = (typeof domain === 'string' && domain.trim()) || process.env.LARK_DOMAIN?.trim() || FEISHU_DOMAIN;
  if (d.toLowerCase() === 'feishu') return FEISHU_DOMAIN;
  if (d.toLowerCase() === 'lark') return LARK_DOMAIN;
  return d.replace(/\/+$/, '');
}

/** Wraps an axios-like instance so every request gets a default timeout. */
function withTimeout(base: unknown, timeout: number): lark.HttpInstance {
  type Opts = Record<string, unknown> | undefined;
  const t = (opts: Opts) => ({ timeout, ...(opts ?? {}) });
  const b = base as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
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
    return new LarkApiError(operation, body.code, String(body.msg ?? 'error'), status, err);
  }
  return new LarkApiError(operation, -1, e?.message ?? String(err), status, err);
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
    ...(opts.logger ? { logger: opts.logger } : {}),
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
    downloadImage: (messageId, imageKey, o = {}) =>
      download('im.messageResource.get', messageId, imageKey, 'image', o.maxBytes),
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
