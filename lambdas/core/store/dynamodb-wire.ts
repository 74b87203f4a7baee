import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { SignatureV4 } from '@smithy/signature-v4';
import type { RetryErrorType, RetryStrategyV2, SourceData } from '@smithy/types';

/**
 * DynamoDB's wire protocol (JSON 1.0 over HTTP, signed with SigV4) for the store's calls, with what the SDK client
 * brings that the store needs: its credentials, region and endpoint (read from a DynamoDBClient's resolved
 * configuration, so AWS_* settings and credential chains work as they do for any SDK client), its retry strategy
 * (the same StandardRetryStrategy instance, the same classification of throttling, transient and server errors) and
 * its errors' shape (name, message, `$fault`, `$metadata`, the modelled members such as CancellationReasons and Item).
 *
 * Why not the SDK's send: per call, its middleware stack (endpoint rules, the schema serializer, user agent, retry
 * bookkeeping, spreads of the whole configuration) cost about twice the CPU of the call itself — measured 0.6–1.0 ms
 * against 0.25–0.35 ms per GetItem on one machine — and the store makes three calls per chat call. Here a call is
 * one JSON.stringify, one signature (signing keys cached by SignatureV4) and one request on a keep-alive socket.
 * test/unit/store/dynamodb-wire.test.ts pins that this puts on the wire what the SDK puts and hands back what it
 * hands back, answers and errors alike, and that signatures verify.
 */

/** What a call gives back: the operation's output as DynamoDB sent it (binary attributes as Uint8Array). */
export type WireOutput = Record<string, unknown> & { $metadata: WireMetadata };

interface WireMetadata {
  httpStatusCode: number;
  requestId?: string;
  attempts: number;
  totalRetryDelay: number;
}

/** A DynamoDB error, shaped as the SDK's service exceptions are (the store reads name, CancellationReasons, Item). */
class DynamoDbServiceError extends Error {
  $fault: 'client' | 'server';
  $metadata: WireMetadata;
  [member: string]: unknown;

  constructor(name: string, message: string, status: number, requestId: string | undefined, members: Record<string, unknown>) {
    super(message);
    Object.assign(this, members);
    this.name = name;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status, requestId, attempts: 1, totalRetryDelay: 0 };
  }
}

/** The store's timeouts: connecting, and the whole exchange. */
export interface WireTimeouts {
  connectTimeoutMs: number;
  requestTimeoutMs: number;
}

/** A SHA-256 (and HMAC-SHA-256) constructor of the shape SignatureV4 takes, on node:crypto. */
class Sha256 {
  private readonly hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

const TARGET_PREFIX = 'DynamoDB_20120810.';

export class DynamoDbWire {
  private readonly signer: SignatureV4;
  private readonly agent: http.Agent;
  private endpoint: Promise<URL> | undefined;
  private retries: Promise<RetryStrategyV2> | undefined;

  constructor(
    /** The SDK client whose resolved configuration this wire follows (it sends nothing itself). */
    readonly sdk: DynamoDBClient,
    private readonly timeouts: WireTimeouts,
  ) {
    const config = sdk.config;
    this.signer = new SignatureV4({
      credentials: config.credentials,
      region: config.region,
      service: 'dynamodb',
      sha256: Sha256,
      uriEscapePath: true,
    });
    // Keep-alive sockets, enough of them for the local server's many concurrent calls (a Lambda instance serves one
    // call at a time).
    const options = { keepAlive: true, maxSockets: 256 };
    this.agent = new http.Agent(options);
    this.tlsAgent = new https.Agent(options);
  }

  private readonly tlsAgent: https.Agent;

  /** The endpoint, resolved once: the configured one, else the SDK's rules for the region (regional, FIPS, dual-stack). */
  private url(): Promise<URL> {
    this.endpoint ??= (async () => {
      const config = this.sdk.config;
      if (config.isCustomEndpoint && config.endpoint) {
        const e = await config.endpoint();
        return new URL(`${e.protocol}//${e.hostname}${e.port ? `:${e.port}` : ''}${e.path || '/'}`);
      }
      const resolved = config.endpointProvider({
        Region: await config.region(),
        UseFIPS: await config.useFipsEndpoint(),
        UseDualStack: await config.useDualstackEndpoint(),
        AccountIdEndpointMode: 'disabled',
      });
      return new URL(resolved.url.href);
    })();
    this.endpoint.catch(() => (this.endpoint = undefined));
    return this.endpoint;
  }

  private strategy(): Promise<RetryStrategyV2> {
    this.retries ??= this.sdk.config.retryStrategy() as Promise<RetryStrategyV2>;
    return this.retries;
  }

  /** One operation (`GetItem`, `TransactWriteItems`…) with its input in wire form, retried as the SDK retries. */
  async send(operation: string, input: object): Promise<WireOutput> {
    const body = JSON.stringify(input, binaryToBase64);
    const [url, strategy] = await Promise.all([this.url(), this.strategy()]);
    let token = await strategy.acquireInitialRetryToken('');
    let attempts = 0;
    let totalRetryDelay = 0;
    for (;;) {
      attempts++;
      try {
        const output = await this.exchange(url, operation, body);
        strategy.recordSuccess(token);
        output.$metadata.attempts = attempts;
        output.$metadata.totalRetryDelay = totalRetryDelay;
        return output;
      } catch (e) {
        const error = e as Error & { $metadata?: WireMetadata };
        try {
          const before = Date.now();
          token = await strategy.refreshRetryTokenForRetry(token, { error: error as never, errorType: errorType(error) });
          totalRetryDelay += Date.now() - before;
        } catch {
          if (error.$metadata) Object.assign(error.$metadata, { attempts, totalRetryDelay });
          throw error;
        }
      }
    }
  }

  /** One signed request and its answer: the output, or the error DynamoDB (or the network) gave. */
  private async exchange(url: URL, operation: string, body: string): Promise<WireOutput> {
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: {},
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': TARGET_PREFIX + operation,
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    });
    const { status, requestId, text } = await this.post(url, signed.headers, body);
    const parsed = parseJson(text);
    if (status === 200 && parsed) {
      const output = (text.includes('"B') ? base64ToBinary(parsed) : parsed) as WireOutput;
      output.$metadata = { httpStatusCode: status, requestId, attempts: 1, totalRetryDelay: 0 };
      return output;
    }
    const members = (parsed && text.includes('"B') ? base64ToBinary(parsed) : (parsed ?? {})) as Record<string, unknown>;
    const { __type, message, Message, ...rest } = members as { __type?: unknown; message?: unknown; Message?: unknown };
    const type = typeof __type === 'string' ? __type : status === 200 ? 'SerializationException' : `Http${status}`;
    const name = type.slice(type.lastIndexOf('#') + 1).split(':')[0];
    const text$ = typeof message === 'string' ? message : typeof Message === 'string' ? Message : text.slice(0, 200) || name;
    throw new DynamoDbServiceError(name, text$, status, requestId, rest);
  }

  private post(url: URL, headers: Record<string, string>, body: string): Promise<{ status: number; requestId?: string; text: string }> {
    const { connectTimeoutMs, requestTimeoutMs } = this.timeouts;
    const tls = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (tls ? https : http).request(
        {
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers,
          agent: tls ? this.tlsAgent : this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', fail);
          res.on('aborted', () => fail(networkError('aborted', 'ECONNRESET')));
          res.on('end', () => {
            clearTimeout(timer);
            const requestId = res.headers['x-amzn-requestid'];
            resolve({
              status: res.statusCode ?? 0,
              requestId: typeof requestId === 'string' ? requestId : undefined,
              text: Buffer.concat(chunks).toString('utf8'),
            });
          });
        },
      );
      function fail(e: Error): void {
        clearTimeout(timer);
        req.destroy();
        reject(e);
      }
      const timer = setTimeout(() => fail(timeoutError(`DynamoDB did not answer within ${requestTimeoutMs} ms`)), requestTimeoutMs);
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        const connect = setTimeout(() => fail(timeoutError(`no connection to DynamoDB within ${connectTimeoutMs} ms`)), connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connect));
        socket.once('close', () => clearTimeout(connect));
      });
      req.on('error', fail);
      req.end(body);
    });
  }

  destroy(): void {
    this.agent.destroy();
    this.tlsAgent.destroy();
    this.sdk.destroy();
  }
}

/** How the SDK's retry middleware classifies an error for its strategy. */
function errorType(error: Error): RetryErrorType {
  if (isThrottlingError(error as never)) return 'THROTTLING';
  if (isTransientError(error as never)) return 'TRANSIENT';
  if (isServerError(error as never)) return 'SERVER_ERROR';
  return 'CLIENT_ERROR';
}

function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { name: 'TimeoutError', code: 'ETIMEDOUT' });
}

function networkError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** JSON.stringify's replacer: a binary attribute (B, BS) goes as base64, as the protocol wants. */
function binaryToBase64(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  return raw instanceof Uint8Array ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') : value;
}

/**
 * Binary attributes back to bytes, wherever they are: in DynamoDB's outputs only an AttributeValue has a member
 * named B (a string) or BS (strings); an attribute NAMED B is a map key whose value is an object, so it stays.
 */
function base64ToBinary(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = base64ToBinary(value[i]);
    return value;
  }
  if (!value || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (k === 'B' && typeof v === 'string') o[k] = bytes(v);
    else if (k === 'BS' && Array.isArray(v) && v.every((s) => typeof s === 'string')) o[k] = v.map((s: string) => bytes(s));
    else if (v && typeof v === 'object') base64ToBinary(v);
  }
  return o;
}

function bytes(base64: string): Uint8Array {
  const b = Buffer.from(base64, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
