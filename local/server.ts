import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { isConsolePath, serveConsole } from './console-static.js';
import { installLambdaShim, isStreamingHandler, LocalResponseStream, type ResponsePrelude } from './lambda-shim.js';

installLambdaShim();

/**
 * The local gateway: one node:http port in front of the very handlers the stack deploys. It builds the events
 * API Gateway (HTTP API, payload 2.0) and Lambda function URLs would send, and streams /v1 responses chunk by
 * chunk through the response-streaming shim.
 */
type Handler = (...args: any[]) => Promise<any>;

export interface LocalGateway {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

interface Mount {
  prefix: string;
  load: () => Promise<Handler>;
  /** Lambda timeout of the deployed function, for context.getRemainingTimeInMillis(). */
  timeoutMs: number;
}

const MOUNTS: Mount[] = [
  { prefix: '/v1/', load: async () => (await import('../lambdas/chat/index.js')).handler as Handler, timeoutMs: 900_000 },
  { prefix: '/admin/', load: async () => (await import('../lambdas/admin/index.js')).handler as Handler, timeoutMs: 30_000 },
  { prefix: '/user/', load: async () => (await import('../lambdas/user/index.js')).handler as Handler, timeoutMs: 30_000 },
  { prefix: '/bot/feishu/', load: async () => (await import('../lambdas/feishu/webhook.js')).handler as Handler, timeoutMs: 10_000 },
];

const MAX_BODY = 20 * 1024 * 1024;

export async function startLocalGateway(opts: { port?: number; host?: string } = {}): Promise<LocalGateway> {
  // Deployed, the webhook invokes the worker Lambda asynchronously; here the same worker runs in this process.
  const [{ runWorkerInProcess }, { answerEvent }] = await Promise.all([import('../lambdas/core/feishu/handoff.js'), import('../lambdas/core/feishu/answer.js')]);
  runWorkerInProcess(answerEvent);
  const handlers = new Map<string, Handler>();
  for (const m of MOUNTS) handlers.set(m.prefix, await m.load());

  const server = createServer((req, res) => {
    void serve(req, res, handlers).catch((e) => {
      if ((e as Error)?.message === 'client disconnected') return;
      console.error('local server error', e);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'local server error', type: 'api_error', param: null, code: null } }));
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((ok) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, handlers: Map<string, Handler>): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok' }));
    return;
  }
  if (isConsolePath(url.pathname)) return serveConsole(req, res, url.pathname);
  const mount = MOUNTS.find((m) => url.pathname.startsWith(m.prefix));
  if (!mount) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ success: false, error: { code: 'not_found', message: `No route ${req.method} ${url.pathname}` } }));
    return;
  }
  const body = await readBody(req);
  if (body === undefined) {
    res.writeHead(413, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'Request body too large.', type: 'invalid_request_error', param: null, code: null } }));
    return;
  }
  const event = toEvent(req, url, body);
  const context = lambdaContext(mount.timeoutMs);
  const handler = handlers.get(mount.prefix)!;

  if (isStreamingHandler(handler)) {
    const stream = new HttpResponseWriter(res);
    // As in Lambda, a client that goes away destroys the response stream; nobody may be listening yet.
    stream.on('error', () => undefined);
    res.on('close', () => {
      if (!res.writableFinished) stream.destroy(new Error('client disconnected'));
    });
    try {
      await handler(event, stream, context);
    } catch (e) {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'Internal error.', type: 'api_error', param: null, code: null } }));
      } else if (!res.writableEnded) {
        res.end();
      }
      if ((e as Error)?.message !== 'client disconnected' && (e as { code?: string })?.code !== 'ERR_STREAM_PREMATURE_CLOSE') {
        console.error('streaming handler failed', e);
      }
    }
    return;
  }
  const result = (await (handler as Handler)(event, context)) as APIGatewayProxyStructuredResultV2 | string | undefined;
  writeResult(res, result);
}

function writeResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2 | string | undefined): void {
  if (typeof result === 'string' || result === undefined) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(result ?? '');
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : undefined);
}

/** The writable a streaming handler writes to: the prelude becomes the status line and headers. */
class HttpResponseWriter extends LocalResponseStream {
  constructor(private readonly res: ServerResponse) {
    super();
  }

  setPrelude(prelude: ResponsePrelude): void {
    if (this.res.headersSent) return;
    const headers: Record<string, string | string[]> = { ...(prelude.headers ?? {}) };
    if (prelude.cookies?.length) headers['set-cookie'] = prelude.cookies;
    this.res.writeHead(prelude.statusCode ?? 200, headers);
    this.res.flushHeaders();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (!this.res.headersSent) this.res.writeHead(200, { 'content-type': 'application/octet-stream' });
    this.res.write(chunk, (e) => cb(e ?? null));
  }

  override _final(cb: (e?: Error | null) => void): void {
    if (!this.res.headersSent) this.res.writeHead(200);
    this.res.end(() => cb());
  }
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => ok(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on('error', fail);
    // A client that disconnects mid-body must not leave this promise pending forever.
    req.on('close', () => {
      if (!req.complete) fail(new Error('client disconnected'));
    });
  });
}

const TEXT_TYPES = /^(application\/(json|x-www-form-urlencoded|xml)|text\/)/i;

/** An API Gateway v2 / function URL (payload 2.0) event, as AWS builds it. */
export function toEvent(req: IncomingMessage, url: URL, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const isText = body.length === 0 || TEXT_TYPES.test(headers['content-type'] ?? 'application/json');
  const now = new Date();
  const requestId = randomUUID();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: (req.method ?? 'GET').toUpperCase(),
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length ? (isText ? body.toString('utf8') : body.toString('base64')) : undefined,
    isBase64Encoded: body.length > 0 && !isText,
  } as APIGatewayProxyEventV2;
}

function lambdaContext(timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const id = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:local',
    memoryLimitInMB: '1024',
    awsRequestId: id,
    logGroupName: 'local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
