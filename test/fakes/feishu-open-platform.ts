/**
 * A fake Feishu / Lark open platform: the HTTP endpoints @larksuiteoapi/node-sdk 1.74 calls for the bot.
 * Paths and methods were taken from the SDK's bundled code (node_modules/@larksuiteoapi/node-sdk/lib/index.js):
 *
 *   POST  /open-apis/auth/v3/tenant_access_token/internal      {app_id, app_secret} → {code:0, tenant_access_token, expire}
 *   POST  /open-apis/auth/v3/app_access_token/internal         {app_id, app_secret} → {code:0, app_access_token, tenant_access_token, expire}
 *   POST  /open-apis/im/v1/messages/:message_id/reply          {msg_type, content, reply_in_thread?, uuid?} → {code:0, data:{message_id,...}}
 *   POST  /open-apis/im/v1/messages?receive_id_type=chat_id    {receive_id, msg_type, content, uuid?}      → {code:0, data:{message_id,...}}
 *   PATCH /open-apis/im/v1/messages/:message_id                {content}  (only interactive messages this fake sent)
 *   GET   /open-apis/im/v1/messages/:message_id/resources/:file_key?type=image|file  → the bytes, with content-type
 *   GET   /open-apis/bot/v3/info                               → {code:0, bot:{open_id, app_name, activate_status}}
 *
 * Like the real platform: im/bot endpoints need `Authorization: Bearer <a token this fake issued>` (else 401,
 * code 99991663); errors are HTTP 4xx with `{code, msg}`; a message request body over 30 KB is refused with code
 * 230025; a `uuid` makes sends idempotent (same message id back).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeFeishuCall {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Parsed JSON when the body is JSON, else the raw string ('' when empty). */
  body: unknown;
  headers: IncomingHttpHeaders;
  /** Date.now() when the request arrived. */
  at: number;
}

interface FakeFeishuMessage {
  messageId: string;
  chatId: string;
  msgType: string;
  /** The current content string (after patches). */
  content: string;
  /** Every content this message had, oldest first. */
  history: string[];
  parentId?: string;
  rootId?: string;
  uuid?: string;
}

interface FailSpec {
  status?: number;
  code?: number;
  msg?: string;
}

export interface FakeFeishu {
  url: string;
  close(): Promise<void>;
  calls: FakeFeishuCall[];
  /** Messages the bot sent or replied, by id. */
  messages: Map<string, FakeFeishuMessage>;
  /** Clears calls, messages, resources and pending failures (issued tokens stay valid, as the SDK caches them). */
  reset(): void;
  setImage(imageKey: string, bytes: Uint8Array, mediaType?: string): void;
  setFile(fileKey: string, bytes: Uint8Array, opts?: { fileName?: string; mediaType?: string }): void;
  /** The next request whose path matches fails with the given HTTP status (default 400) and code (default 230002). */
  failNext(pathRegex: RegExp, fail?: number | FailSpec): void;
  setBotInfo(info: { openId: string; name: string }): void;
  /** Number of tenant/app access tokens issued. */
  readonly tokensIssued: number;
}

export interface StartFakeFeishuOptions {
  port?: number;
  /** When given, token requests must present one of these appId → appSecret pairs (else code 10014). */
  apps?: Record<string, string>;
  botInfo?: { openId: string; name: string };
}

const MAX_MESSAGE_BODY = 30 * 1024;

interface Resource {
  bytes: Buffer;
  mediaType: string;
  fileName?: string;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const newMessageId = () => `om_${randomBytes(16).toString('hex')}`;
const newLogId = () => randomBytes(12).toString('hex');

export async function startFakeFeishu(opts: StartFakeFeishuOptions = {}): Promise<FakeFeishu> {
  const calls: FakeFeishuCall[] = [];
  const messages = new Map<string, FakeFeishuMessage>();
  const byUuid = new Map<string, string>();
  const images = new Map<string, Resource>();
  const files = new Map<string, Resource>();
  const failures: Array<{ re: RegExp; spec: Required<FailSpec> }> = [];
  const tokens = new Set<string>();
  let botInfo = opts.botInfo ?? { openId: 'ou_fake_bot', name: 'Fake Bot' };
  let tokensIssued = 0;

  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'x-tt-logid': newLogId(),
    });
    res.end(text);
  };
  const fail = (res: ServerResponse, status: number, code: number, msg: string) => json(res, status, { code, msg });

  const issueToken = (prefix: string) => {
    const t = `${prefix}-fake-${randomBytes(12).toString('hex')}`;
    tokens.add(t);
    tokensIssued += 1;
    return t;
  };

  const checkApp = (res: ServerResponse, body: unknown): boolean => {
    const b = (body ?? {}) as { app_id?: unknown; app_secret?: unknown };
    if (typeof b.app_id !== 'string' || typeof b.app_secret !== 'string' || !b.app_id || !b.app_secret) {
      fail(res, 400, 10003, 'invalid param');
      return false;
    }
    if (opts.apps && opts.apps[b.app_id] !== b.app_secret) {
      fail(res, 400, 10014, 'app secret invalid');
      return false;
    }
    return true;
  };

  const authorized = (req: IncomingMessage, res: ServerResponse): boolean => {
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer (.+)$/.exec(auth);
    if (!m) {
      fail(res, 400, 99991661, 'Missing access token for authorization. Please make a request with token attached.');
      return false;
    }
    if (!tokens.has(m[1])) {
      fail(res, 401, 99991663, 'Invalid access token for authorization. Please make a request with token attached.');
      return false;
    }
    return true;
  };

  const messageData = (m: FakeFeishuMessage) => ({
    message_id: m.messageId,
    ...(m.rootId ? { root_id: m.rootId } : {}),
    ...(m.parentId ? { parent_id: m.parentId } : {}),
    msg_type: m.msgType,
    create_time: String(Date.now()),
    update_time: String(Date.now()),
    deleted: false,
    updated: false,
    chat_id: m.chatId,
    sender: { id: 'cli_fake', id_type: 'app_id', sender_type: 'app', tenant_key: 'fake_tenant' },
    body: { content: m.content },
  });

  /** Validates a message body; returns null after answering with an error. */
  const validMessage = (res: ServerResponse, raw: Buffer, body: unknown): { msgType: string; content: string } | null => {
    if (raw.length > MAX_MESSAGE_BODY) {
      fail(res, 400, 230025, 'The length of the message content reaches its limit.');
      return null;
    }
    const b = (body ?? {}) as { msg_type?: unknown; content?: unknown };
    if (typeof b.msg_type !== 'string' || typeof b.content !== 'string') {
      fail(res, 400, 230001, 'Your request contains an invalid request parameter, msg_type and content are required.');
      return null;
    }
    try {
      const parsed = JSON.parse(b.content) as unknown;
      if (!parsed || typeof parsed !== 'object') throw new Error('not an object');
    } catch {
      fail(res, 400, 230001, 'Your request contains an invalid request parameter, content is not a JSON object.');
      return null;
    }
    return { msgType: b.msg_type, content: b.content };
  };

  const createMessage = (m: Omit<FakeFeishuMessage, 'messageId' | 'history'>): FakeFeishuMessage => {
    if (m.uuid && byUuid.has(m.uuid)) return messages.get(byUuid.get(m.uuid)!)!;
    const msg: FakeFeishuMessage = { ...m, messageId: newMessageId(), history: [m.content] };
    messages.set(msg.messageId, msg);
    if (m.uuid) byUuid.set(m.uuid, msg.messageId);
    return msg;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const raw = await readBody(req);
    const text = raw.toString('utf8');
    let body: unknown = text;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        /* keep the string */
      }
    }
    const query = Object.fromEntries(url.searchParams.entries());
    const path = url.pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    calls.push({ method, path, query, body, headers: req.headers, at: Date.now() });

    const fi = failures.findIndex((f) => f.re.test(path));
    if (fi >= 0) {
      const [{ spec }] = failures.splice(fi, 1);
      return fail(res, spec.status, spec.code, spec.msg);
    }

    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/open-apis/auth/v3/tenant_access_token/internal') {
      if (!checkApp(res, body)) return;
      return json(res, 200, { code: 0, msg: 'ok', tenant_access_token: issueToken('t'), expire: 7200 });
    }
    if (method === 'POST' && path === '/open-apis/auth/v3/app_access_token/internal') {
      if (!checkApp(res, body)) return;
      return json(res, 200, {
        code: 0,
        msg: 'ok',
        app_access_token: issueToken('a'),
        tenant_access_token: issueToken('t'),
        expire: 7200,
      });
    }
    if (method === 'GET' && path === '/open-apis/bot/v3/info') {
      if (!authorized(req, res)) return;
      return json(res, 200, {
        code: 0,
        msg: 'ok',
        bot: { activate_status: 2, app_name: botInfo.name, avatar_url: '', ip_white_list: [], open_id: botInfo.openId },
      });
    }
    if (method === 'POST' && (m = /^\/open-apis\/im\/v1\/messages\/([^/]+)\/reply$/.exec(path))) {
      if (!authorized(req, res)) return;
      const v = validMessage(res, raw, body);
      if (!v) return;
      const parentId = decodeURIComponent(m[1]);
      const parent = messages.get(parentId);
      const b = body as { uuid?: string };
      const msg = createMessage({
        chatId: parent?.chatId ?? 'oc_fake_chat',
        msgType: v.msgType,
        content: v.content,
        parentId,
        rootId: parent?.rootId ?? parentId,
        ...(b.uuid ? { uuid: b.uuid } : {}),
      });
      return json(res, 200, { code: 0, msg: 'success', data: messageData(msg) });
    }
    if (method === 'POST' && path === '/open-apis/im/v1/messages') {
      if (!authorized(req, res)) return;
      if (!query.receive_id_type) return fail(res, 400, 99992402, 'field validation failed: receive_id_type is required');
      const v = validMessage(res, raw, body);
      if (!v) return;
      const b = body as { receive_id?: unknown; uuid?: string };
      if (typeof b.receive_id !== 'string' || !b.receive_id) {
        return fail(res, 400, 230001, 'Your request contains an invalid request parameter, receive_id is required.');
      }
      const msg = createMessage({
        chatId: query.receive_id_type === 'chat_id' ? b.receive_id : `oc_p2p_${b.receive_id}`,
        msgType: v.msgType,
        content: v.content,
        ...(b.uuid ? { uuid: b.uuid } : {}),
      });
      return json(res, 200, { code: 0, msg: 'success', data: messageData(msg) });
    }
    if (method === 'PATCH' && (m = /^\/open-apis\/im\/v1\/messages\/([^/]+)$/.exec(path))) {
      if (!authorized(req, res)) return;
      const msg = messages.get(decodeURIComponent(m[1]));
      if (!msg) return fail(res, 400, 230001, 'Your request contains an invalid request parameter, message not found.');
      if (raw.length > MAX_MESSAGE_BODY) return fail(res, 400, 230025, 'The length of the message content reaches its limit.');
      if (msg.msgType !== 'interactive') return fail(res, 400, 230001, 'Only interactive messages can be patched.');
      const content = (body as { content?: unknown })?.content;
      if (typeof content !== 'string') return fail(res, 400, 230001, 'content is required.');
      msg.content = content;
      msg.history.push(content);
      return json(res, 200, { code: 0, msg: 'success', data: {} });
    }
    if (method === 'GET' && (m = /^\/open-apis\/im\/v1\/messages\/([^/]+)\/resources\/([^/]+)$/.exec(path))) {
      if (!authorized(req, res)) return;
      const key = decodeURIComponent(m[2]);
      const type = query.type;
      if (type !== 'image' && type !== 'file' && type !== 'audio' && type !== 'video') {
        return fail(res, 400, 234001, 'Invalid request param: type.');
      }
      const r = type === 'image' ? images.get(key) : files.get(key);
      if (!r) return fail(res, 400, 234003, 'File not in msg.');
      const headers: Record<string, string | number> = {
        'content-type': r.mediaType,
        'content-length': r.bytes.length,
        'x-tt-logid': newLogId(),
      };
      if (r.fileName) headers['content-disposition'] = `attachment; filename*=UTF-8''${encodeURIComponent(r.fileName)}`;
      res.writeHead(200, headers);
      return res.end(r.bytes);
    }
    return fail(res, 404, 404, `fake feishu: no route ${method} ${path}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) fail(res, 500, 500, String(err));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    messages,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
    reset() {
      calls.length = 0;
      messages.clear();
      byUuid.clear();
      images.clear();
      files.clear();
      failures.length = 0;
    },
    setImage(imageKey, bytes, mediaType = 'image/png') {
      images.set(imageKey, { bytes: Buffer.from(bytes), mediaType });
    },
    setFile(fileKey, bytes, o = {}) {
      files.set(fileKey, {
        bytes: Buffer.from(bytes),
        mediaType: o.mediaType ?? 'application/octet-stream',
        ...(o.fileName ? { fileName: o.fileName } : {}),
      });
    },
    failNext(pathRegex, f = {}) {
      const spec = typeof f === 'number' ? { status: f } : f;
      failures.push({
        re: pathRegex,
        spec: { status: spec.status ?? 400, code: spec.code ?? 230002, msg: spec.msg ?? 'The bot can not be outside the group.' },
      });
    },
    setBotInfo(info) {
      botInfo = info;
    },
    get tokensIssued() {
      return tokensIssued;
    },
  };
}
