import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { reloadConfig } from '../lambdas/core/config.js';
import { storeReachable } from '../lambdas/core/store/health.js';
import { FUNCTIONS, type FunctionName } from '../lambdas/core/topology.js';
import { bundleFor, lambdaBundles } from './bundles.js';
import { isConsolePath, serveConsole } from './console-static.js';
import { installLambdaShim, isStreamingHandler, LocalResponseStream, type ResponsePrelude } from './lambda-shim.js';

installLambdaShim();

/**
 * The local gateway: one node:http port in front of the very handlers the stack deploys. It builds the events
 * API Gateway (HTTP API, payload 2.0) and Lambda function URLs would send, and streams /v1 responses chunk by
 * chunk through the response-streaming shim.
 */
type Handler = (event: unknown, ...rest: unknown[]) => Promise<unknown>;

export interface LocalGateway {
  url: string;
  port: number;
  server: Server;
  /** Resolves once every invocation in flight has returned (a call's settlement runs after its last byte). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The deployed function whose code is running now (the mount that took the request, the worker of a hand-off). Tests
 * use it to attribute each table access to a function (test/e2e/table-access.test.ts: the IAM prefixes cover them).
 */
export const servingFunction = new AsyncLocalStorage<FunctionName>();
let tagging = false;

/** Attribute work to the function serving it (off by default: async context costs every promise of every call). */
export function tagServingFunctions(): void {
  tagging = true;
}

const asFunction = <T>(fn: FunctionName, work: () => T): T => (tagging ? servingFunction.run(fn, work) : work());

interface Mount {
  /** The function deployed for the prefix. */
  fn: FunctionName;
  prefix: string;
  /** The Lambda entry point serving the prefix (its source file, and the key of its bundle). */
  entry: string;
  /** Lambda timeout of the deployed function, for context.getRemainingTimeInMillis(). */
  timeoutMs: number;
}

// The same entries under the same prefixes as the stack (lambdas/core/topology.ts).
const MOUNTS: Mount[] = (Object.entries(FUNCTIONS) as Array<[FunctionName, (typeof FUNCTIONS)[FunctionName]]>).flatMap(([fn, f]) =>
  f.prefixes.map((prefix) => ({ fn, prefix, entry: f.entry, timeoutMs: f.timeoutSeconds * 1000 })),
);
// The chat function URL serves every path when deployed; clients such as Claude Code probe its root (HEAD /).
const ROOT_MOUNT: Mount = MOUNTS.find((m) => m.entry === FUNCTIONS.chat.entry)!;
const FEISHU_WORKER = {
  entry: FUNCTIONS.feishuWorker.entry,
  functionName: 'local-feishu-worker',
  timeoutMs: FUNCTIONS.feishuWorker.timeoutSeconds * 1000,
};

// Static imports per entry (not a computed path), so tsc checks them and tools see the dependency.
const SOURCES: Record<string, () => Promise<{ handler: unknown }>> = {
  'lambdas/chat/index.ts': () => import('../lambdas/chat/index.js'),
  'lambdas/admin/index.ts': () => import('../lambdas/admin/index.js'),
  'lambdas/user/index.ts': () => import('../lambdas/user/index.js'),
  'lambdas/feishu/webhook.ts': () => import('../lambdas/feishu/webhook.js'),
  'lambdas/feishu/worker.ts': () => import('../lambdas/feishu/worker.js'),
};

const MAX_BODY = 20 * 1024 * 1024;

export interface LocalGatewayOptions {
  port?: number;
  host?: string;
  /**
   * Serve from the esbuild bundles of this cloud assembly (`npm run synth` → cdk.out) instead of the TypeScript
   * sources: each function's index.mjs, exactly as Lambda runs it. The webhook then hands events to the worker
   * bundle through a local stand-in for Lambda's Invoke API, as it does deployed.
   */
  bundles?: string;
}

export async function startLocalGateway(opts: LocalGatewayOptions = {}): Promise<LocalGateway> {
  // What the stack gives the webhook function: the worker's name (with bundles, the webhook invokes it as deployed).
  if (opts.bundles) process.env.FEISHU_WORKER_FUNCTION_NAME = FEISHU_WORKER.functionName;
  // The handlers run with the environment as the caller left it (config() keeps what it read first).
  reloadConfig();
  const handlers = new Map<string, Handler>();
  let worker: AsyncWorker | undefined;
  if (opts.bundles) {
    const bundles = lambdaBundles(opts.bundles);
    const load = async (entry: string): Promise<Handler> => {
      const b = bundleFor(bundles, entry);
      const mod = (await import(pathToFileURL(join(b.assetDir, b.file)).href)) as Record<string, unknown>;
      if (typeof mod[b.exportName] !== 'function') throw new Error(`${b.logicalId}: ${b.file} exports no ${b.exportName}()`);
      return mod[b.exportName] as Handler;
    };
    for (const m of MOUNTS) handlers.set(m.prefix, await load(m.entry));
    worker = new AsyncWorker(await load(FEISHU_WORKER.entry), FEISHU_WORKER.timeoutMs);
  } else {
    // Deployed, the webhook invokes the worker Lambda asynchronously; from sources the same worker handler runs in
    // this process (tests wait for it with handoff's idle()).
    const [{ runWorkerInProcess }, workerModule] = await Promise.all([
      import('../lambdas/core/feishu/handoff.js'),
      SOURCES[FEISHU_WORKER.entry](),
    ]);
    const workerHandler = workerModule.handler as Handler;
    runWorkerInProcess((job) => asFunction('feishuWorker', () => workerHandler(job, lambdaContext(FEISHU_WORKER.timeoutMs))));
    for (const m of MOUNTS) handlers.set(m.prefix, (await SOURCES[m.entry]()).handler as Handler);
  }

  const inFlight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const invocation: Promise<void> = serve(req, res, handlers, worker)
      .catch((e) => {
        if ((e as Error)?.message === 'client disconnected') return;
        console.error('local server error', e);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'local server error', type: 'api_error', param: null, code: null } }));
      })
      .finally(() => inFlight.delete(invocation));
    inFlight.add(invocation);
  });
  const idle = async () => {
    while (inFlight.size > 0) await Promise.all([...inFlight]);
  };
  server.keepAliveTimeout = 5000;
  // A port in use (EADDRINUSE) or not ours to take (EACCES) rejects here, for the caller to explain.
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  const port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  // Here an endpoint that stands in for Lambda's Invoke API (the SDK reads it when the webhook makes its client).
  if (worker) process.env.AWS_ENDPOINT_URL_LAMBDA = url;
  return {
    url,
    port,
    server,
    idle,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

/**
 * Lambda's asynchronous invocation, for the worker bundle: `POST /2015-03-31/functions/{name}/invocations` with
 * `X-Amz-Invocation-Type: Event` answers 202 at once and runs the handler in the background.
 */
class AsyncWorker {
  constructor(
    private readonly handler: Handler,
    private readonly timeoutMs: number,
  ) {}

  invoke(payload: Buffer): void {
    const event: unknown = JSON.parse(payload.toString('utf8') || 'null');
    asFunction('feishuWorker', () => this.handler(event, lambdaContext(this.timeoutMs))).catch((e: unknown) =>
      console.error('feishu worker bundle failed', e),
    );
  }
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const isLoopback = (address: string | undefined) => address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  handlers: Map<string, Handler>,
  worker: AsyncWorker | undefined,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/health') {
    // Ready means the store answers: while DynamoDB is unreachable every call would be refused (503) anyway.
    const up = await storeReachable();
    res.writeHead(up ? 200 : 503, { 'content-type': 'application/json', ...(up ? {} : { 'retry-after': '2' }) });
    res.end(JSON.stringify({ status: up ? 'ok' : 'store_unavailable' }));
    return;
  }
  const invoke = worker && req.method === 'POST' ? INVOKE_PATH.exec(url.pathname) : null;
  if (worker && invoke && isLoopback(req.socket.remoteAddress)) {
    const payload = await readBody(req);
    if (decodeURIComponent(invoke[1]) !== FEISHU_WORKER.functionName || req.headers['x-amz-invocation-type'] !== 'Event' || !payload) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Type: 'User', message: 'Only asynchronous invocations of the Feishu worker exist here.' }));
      return;
    }
    worker.invoke(payload);
    res.writeHead(202, { 'content-type': 'application/json' });
    res.end();
    return;
  }
  if (isConsolePath(url.pathname)) return serveConsole(req, res, url.pathname);
  const mount = url.pathname === '/' ? ROOT_MOUNT : MOUNTS.find((m) => url.pathname.startsWith(m.prefix));
  if (!mount) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ success: false, error: { code: 'not_found', message: `No route ${req.method} ${url.pathname}` } }));
    return;
  }
  return asFunction(mount.fn, () => serveMount(req, res, url, mount, handlers));
}

async function serveMount(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  mount: Mount,
  handlers: Map<string, Handler>,
): Promise<void> {
  const body = await readBody(req);
  if (body === undefined) {
    const tooLarge = bodyTooLarge(url.pathname);
    res.writeHead(413, { 'content-type': 'application/json', ...tooLarge.headers });
    res.end(JSON.stringify(tooLarge.body));
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

/**
 * The refusal of a body past MAX_BODY (which a function URL or API Gateway would answer before the handler), in the
 * route's own shape: Anthropic's on /v1/messages (its SDKs parse nothing else), the envelope on /admin and /user,
 * OpenAI's on the rest of /v1.
 */
function bodyTooLarge(path: string): { body: unknown; headers: Record<string, string> } {
  const message = `Request body too large (more than ${MAX_BODY / 1024 / 1024} MB).`;
  if (path === '/v1/messages' || path.startsWith('/v1/messages/')) {
    const requestId = randomUUID();
    return {
      body: { type: 'error', error: { type: 'request_too_large', message }, request_id: requestId },
      headers: { 'request-id': requestId, 'x-request-id': requestId },
    };
  }
  if (path.startsWith('/admin/') || path.startsWith('/user/')) {
    return { body: { success: false, error: { code: 'payload_too_large', message } }, headers: {} };
  }
  return { body: { error: { message, type: 'invalid_request_error', param: null, code: 'payload_too_large' } }, headers: {} };
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
function toEvent(req: IncomingMessage, url: URL, body: Buffer): APIGatewayProxyEventV2 {
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
  };
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
