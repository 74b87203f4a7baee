/**
 * A fake Bedrock Runtime endpoint that speaks the real wire protocol (restJson1 over cleartext HTTP/2, AWS event
 * streams), so the unmodified AWS SDK client can talk to it: point `endpoint` (or AWS_ENDPOINT_URL_BEDROCK_RUNTIME)
 * at `sim.url`. Used by the test-suite and by `npm start` when no AWS credentials exist.
 *
 * Requests are not signature-checked: any credentials work.
 */
import http2 from 'node:http2';
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import {
  countTokensReply,
  defaultAnthropicScript,
  isAnthropicInvoke,
  renderAnthropicMessage,
  renderAnthropicStream,
  validateAnthropicRequest,
} from './anthropic.js';
import { invokeEmbedding } from './embeddings.js';
import { ERROR_MESSAGE, ERROR_STATUS, SimulatedBedrockError, errorResponse, validationError } from './errors.js';
import type { BedrockErrorType } from './errors.js';
import { encodeEvent, encodeException } from './event-stream.js';
import { promptScript } from './prompt-scripts.js';
import { defaultScript, metadataEvent, rawToStreamEvents, renderConverse, renderStreamEvents } from './scenario.js';
import type { JsonObject, Operation, Script, ScriptRequest, ScriptSource, StreamEvent } from './scenario.js';
import { validateConverseRequest } from './validate.js';

export interface RecordedRequest {
  operation: Operation;
  /** URL-decoded: `us.anthropic.claude-…:0`, or a full ARN with its `/`. */
  modelId: string;
  /** The parsed JSON body (`{}` when it was empty or not JSON). */
  body: JsonObject;
  /** Lower-case header names; HTTP/2 pseudo-headers left out. */
  headers: Record<string, string>;
  /** Epoch milliseconds when the request arrived. */
  time: number;
  /** HTTP status the simulator answered with. */
  status?: number;
  /** Stream events written (ConverseStream / InvokeModelWithResponseStream), exception frames included. */
  eventsSent: number;
  /** True when the client reset or closed the stream before the simulator finished writing. */
  aborted: boolean;
}

export interface BedrockSimulatorOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Reject Converse requests the real service would reject (alternation, tool ids, names, ...). Default true. */
  validate?: boolean;
  /** Serve HTTP/2 over TLS with this certificate and key (PEM) instead of cleartext h2c; the URL is then https. */
  tls?: { cert: string; key: string };
}

export interface BedrockSimulator {
  /** e.g. `http://127.0.0.1:41234`, for the SDK's `endpoint`. */
  readonly url: string;
  readonly port: number;
  /** Every request to a known operation, in arrival order. */
  readonly requests: RecordedRequest[];
  /** HTTP/2 sessions (connections) clients have opened since the start: a client that reuses its sessions opens few. */
  readonly sessionsOpened: number;
  /** The next call (any operation) uses this script; calls consume queued scripts in FIFO order. */
  enqueue(...scripts: ScriptSource[]): void;
  /** Used when the queue is empty; null restores the built-in echo. */
  setDefault(script: ScriptSource | null): void;
  /** Clears the queue and the recorded requests (not the default). */
  reset(): void;
  /** Drops every open session without a word (as a load balancer drops idle connections): clients must reconnect. */
  dropSessions(): void;
  /** Stops in-flight responses, destroys every HTTP/2 session and closes the listener. Idempotent. */
  close(): Promise<void>;
}

const ROUTE = /^\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream|count-tokens)$/;

const OPERATIONS: Record<string, Operation> = {
  converse: 'Converse',
  'converse-stream': 'ConverseStream',
  invoke: 'InvokeModel',
  'invoke-with-response-stream': 'InvokeModelWithResponseStream',
  'count-tokens': 'CountTokens',
};

const MAX_BODY_BYTES = 25 * 1024 * 1024;

export async function startBedrockSimulator(opts: BedrockSimulatorOptions = {}): Promise<BedrockSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const validate = opts.validate ?? true;
  const queue: ScriptSource[] = [];
  let fallback: ScriptSource | null = null;
  const requests: RecordedRequest[] = [];
  const sessions = new Set<http2.ServerHttp2Session>();
  // Aborted by close(): wakes every pending delay so responses stop promptly.
  const shutdown = new AbortController();
  // One listener per in-flight request: many concurrent streams (benchmarks) are normal, not a leak.
  setMaxListeners(0, shutdown.signal);

  let sessionsOpened = 0;
  const server = opts.tls ? http2.createSecureServer({ cert: opts.tls.cert, key: opts.tls.key }) : http2.createServer();
  server.on('session', (session) => {
    sessionsOpened++;
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    // A session torn down by the peer must not become an uncaught 'error'.
    session.on('error', () => {});
  });
  server.on('sessionError', () => {});
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    handle(stream, headers).catch(() => {
      // Anything unexpected: answer 500 if still possible (else reset the stream), never crash the host process.
      if (!stream.headersSent) send(stream, internalError());
      else if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    });
  });

  const nextScript = (req: ScriptRequest): Script => {
    const source = queue.shift() ?? fallback;
    // Nothing queued: lines starting with `sim:` in the user's message may script the answer (prompt-scripts.ts).
    if (source === null) return promptScript(req) ?? (isAnthropicInvoke(req) ? defaultAnthropicScript(req) : defaultScript(req));
    return typeof source === 'function' ? source(req) : source;
  };

  async function handle(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): Promise<void> {
    const started = Date.now();
    // Per-request cancellation: the client going away (RST_STREAM, AbortSignal, disconnect) or the simulator closing.
    const cancel = new AbortController();
    const onShutdown = () => cancel.abort();
    shutdown.signal.addEventListener('abort', onShutdown, { once: true });
    const ctx: RequestContext = { stream, signal: cancel.signal, started, finished: false };
    stream.once('close', () => {
      shutdown.signal.removeEventListener('abort', onShutdown);
      if (!ctx.finished) {
        if (ctx.record) ctx.record.aborted = true;
        cancel.abort();
      }
    });

    const method = headers[':method'];
    const path = String(headers[':path'] ?? '').split('?')[0];
    const match = ROUTE.exec(path);
    let raw: Buffer;
    try {
      raw = await readBody(stream);
    } catch (err) {
      reply(ctx, err instanceof SimulatedBedrockError ? errorResponse(err.type, err.message, 413) : internalError());
      return;
    }
    if (method !== 'POST' || !match) {
      reply(ctx, errorResponse('UnknownOperationException', `No operation matches ${method} ${path}`, 404));
      return;
    }

    const operation = OPERATIONS[match[2]];
    let modelId: string;
    try {
      modelId = decodeURIComponent(match[1]);
    } catch {
      reply(ctx, errorResponse('ValidationException', 'The provided model identifier is invalid.', 400));
      return;
    }
    let body: JsonObject = {};
    let parseError = false;
    if (raw.length > 0) {
      try {
        const parsed: unknown = JSON.parse(raw.toString('utf8'));
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed;
        else parseError = true;
      } catch {
        parseError = true;
      }
    }

    const record: RecordedRequest = {
      operation,
      modelId,
      body,
      headers: plainHeaders(headers),
      time: started,
      eventsSent: 0,
      aborted: cancel.signal.aborted,
    };
    requests.push(record);
    ctx.record = record;
    const req: ScriptRequest = { operation, modelId, body };

    try {
      // Token counting answers from the request alone: it never takes a queued script meant for a model call.
      if (operation === 'CountTokens') {
        if (parseError) throw validationError('Malformed input request, please reformat your input and try again.');
        reply(ctx, jsonReply(200, countTokensReply(modelId, body)));
        return;
      }
      const s = nextScript(req);
      if (s.failBefore) {
        if (!(await sleep(s.firstEventDelayMs, ctx.signal))) return;
        const { type, message, status, extra } = s.failBefore;
        throw new SimulatedBedrockError(
          type,
          message ?? ERROR_MESSAGE[type as BedrockErrorType] ?? 'The request failed.',
          status ?? ERROR_STATUS[type as BedrockErrorType] ?? 400,
          extra,
        );
      }
      if (parseError) throw validationError('Malformed input request, please reformat your input and try again.');

      switch (operation) {
        case 'Converse': {
          if (validate && s.rawResponse === undefined) validateConverseRequest(body, 'Converse');
          if (!(await sleep(s.firstEventDelayMs, ctx.signal))) return;
          reply(ctx, jsonReply(200, s.rawResponse ?? renderConverse(s, req, Date.now() - started)));
          return;
        }
        case 'ConverseStream': {
          if (validate && s.rawEvents === undefined) validateConverseRequest(body);
          await streamEvents(ctx, s, req);
          return;
        }
        case 'InvokeModel': {
          if (isAnthropicInvoke(req) && s.rawResponse === undefined) {
            if (validate) validateAnthropicRequest(body, modelId);
            if (!(await sleep(s.firstEventDelayMs, ctx.signal))) return;
            const claude = renderAnthropicMessage(s, req, Date.now() - started);
            const r = jsonReply(200, claude.body);
            Object.assign(r.headers, claude.headers);
            reply(ctx, r);
            return;
          }
          if (!(await sleep(s.firstEventDelayMs, ctx.signal))) return;
          if (s.rawResponse !== undefined) {
            reply(ctx, jsonReply(200, s.rawResponse));
            return;
          }
          const result = invokeEmbedding(modelId, body);
          const r = jsonReply(200, result.body);
          r.headers['x-amzn-bedrock-input-token-count'] = String(result.inputTokens);
          r.headers['x-amzn-bedrock-invocation-latency'] = String(Date.now() - started);
          reply(ctx, r);
          return;
        }
        case 'InvokeModelWithResponseStream': {
          // Claude's Messages body is rendered from the script; other model-native streams only from rawEvents.
          if (s.rawEvents === undefined && isAnthropicInvoke(req)) {
            if (validate) validateAnthropicRequest(body, modelId);
            await streamEvents(ctx, s, req, renderAnthropicStream);
            return;
          }
          if (s.rawEvents === undefined) {
            throw validationError(
              'The Bedrock simulator only serves InvokeModelWithResponseStream for Claude, or from a script with rawEvents.',
            );
          }
          await streamEvents(ctx, s, req);
          return;
        }
      }
    } catch (err) {
      if (err instanceof SimulatedBedrockError) reply(ctx, errorResponse(err.type, err.message, err.status, err.extra));
      else if (!ctx.stream.headersSent) reply(ctx, internalError());
      else {
        // Headers already committed (a broken raw event, say): reset the stream so the client sees a failure.
        ctx.finished = true;
        if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      }
    }
  }

  /**
   * Sends 200 + event-stream headers, then the script's events with its delays and optional mid-stream failure.
   * `render` turns the script into events (default: ConverseStream's); its `final` event is rendered when its turn
   * comes, because it carries the latency.
   */
  async function streamEvents(
    ctx: RequestContext,
    s: Script,
    req: ScriptRequest,
    render: StreamRenderer = renderConverseStream,
  ): Promise<void> {
    const { stream, signal, started } = ctx;
    const record = ctx.record!;
    let events: StreamEvent[];
    let final: ((latencyMs: number) => StreamEvent) | undefined;
    if (s.rawEvents) events = rawToStreamEvents(s.rawEvents);
    else ({ events, final } = render(s, req));
    const total = events.length + (final ? 1 : 0);

    if (!isWritable(stream)) return;
    record.status = 200;
    stream.respond({
      ':status': 200,
      'content-type': 'application/vnd.amazon.eventstream',
      'x-amzn-requestid': randomUUID(),
    });

    const cut = s.endAfterEvents !== undefined ? Math.max(0, s.endAfterEvents) : Infinity;
    const fail = s.failAfterEvents;
    const failAt = fail ? Math.min(Math.max(0, fail.count), total) : -1;
    for (let i = 0; i <= total; i++) {
      const delay = i === 0 ? s.firstEventDelayMs : s.delayMs;
      if ((i === total && i !== failAt) || i >= cut) break;
      if (!(await sleep(delay, signal)) || !isWritable(stream)) return;
      if (fail && i === failAt) {
        const payload: Record<string, unknown> = { message: fail.message ?? 'The model stream failed.' };
        if (fail.originalStatusCode !== undefined) payload.originalStatusCode = fail.originalStatusCode;
        if (fail.originalMessage !== undefined) payload.originalMessage = fail.originalMessage;
        if (!(await write(stream, encodeException(fail.exception, payload), signal))) return;
        record.eventsSent++;
        break;
      }
      const event = i < events.length ? events[i] : final!(Date.now() - started);
      if (!(await write(stream, encodeEvent(event.type, event.payload), signal))) return;
      record.eventsSent++;
    }
    ctx.finished = true;
    if (isWritable(stream)) stream.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${urlHost}:${port}`,
    port,
    requests,
    get sessionsOpened() {
      return sessionsOpened;
    },
    enqueue: (...scripts) => {
      queue.push(...scripts);
    },
    setDefault: (s) => {
      fallback = s;
    },
    reset: () => {
      queue.length = 0;
      requests.length = 0;
    },
    dropSessions: () => {
      for (const session of sessions) session.destroy();
    },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        shutdown.abort();
        server.close(() => resolve());
        // Clients (the SDK's HTTP/2 pool) keep sessions open; server.close() alone would wait for them forever.
        // Destroying with an error sends GOAWAY(INTERNAL_ERROR), so a client mid-stream gets an error rather than a
        // silently truncated stream. (The session's 'error' event is swallowed by the listener above.)
        for (const session of sessions) session.destroy(new Error('Bedrock simulator closed'), http2.constants.NGHTTP2_INTERNAL_ERROR);
      });
      return closing;
    },
  };
}

type StreamRenderer = (s: Script, req: ScriptRequest) => { events: StreamEvent[]; final?: (latencyMs: number) => StreamEvent };

const renderConverseStream: StreamRenderer = (s, req) => {
  const { events, blocks } = renderStreamEvents(s);
  return { events, final: (latencyMs) => metadataEvent(s, blocks, req, latencyMs) };
};

// ---------------------------------------------------------------------------------------------------------------
// HTTP/2 helpers
// ---------------------------------------------------------------------------------------------------------------

interface RequestContext {
  stream: http2.ServerHttp2Stream;
  signal: AbortSignal;
  started: number;
  /** Set once the simulator has written everything it meant to (a later 'close' is then not an abort). */
  finished: boolean;
  record?: RecordedRequest;
}

function reply(ctx: RequestContext, r: HttpReply): void {
  ctx.finished = true;
  if (ctx.record) ctx.record.status = r.status;
  send(ctx.stream, r);
}

const internalError = (): HttpReply => errorResponse('InternalServerException', ERROR_MESSAGE.InternalServerException, 500);

interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function jsonReply(status: number, value: unknown): HttpReply {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

const isWritable = (stream: http2.ServerHttp2Stream): boolean =>
  !stream.destroyed && !stream.closed && stream.writable && !stream.session?.destroyed;

function send(stream: http2.ServerHttp2Stream, r: HttpReply): void {
  if (!isWritable(stream) || stream.headersSent) return;
  const body = Buffer.from(r.body, 'utf8');
  stream.respond({
    ':status': r.status,
    'x-amzn-requestid': randomUUID(),
    'content-length': String(body.byteLength),
    ...r.headers,
  });
  stream.end(body);
}

/** Writes one frame, waiting for 'drain' under back-pressure. False when the stream went away. */
async function write(stream: http2.ServerHttp2Stream, frame: Uint8Array, signal: AbortSignal): Promise<boolean> {
  if (!isWritable(stream)) return false;
  if (stream.write(frame)) return true;
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      signal.removeEventListener('abort', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    stream.on('drain', onDrain);
    stream.on('close', onClose);
    signal.addEventListener('abort', onClose);
  });
}

/** Resolves true after `ms` (immediately for 0/undefined), false as soon as `signal` aborts. */
function sleep(ms: number | undefined, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (!ms || ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function readBody(stream: http2.ServerHttp2Stream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.byteLength;
      if (size > MAX_BODY_BYTES) {
        reject(validationError('The request body is too large.'));
        return;
      }
      chunks.push(c);
    });
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('close', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

function plainHeaders(headers: http2.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}
