/**
 * An HTTP proxy in front of DynamoDB (Local) that records every call and can inject faults, chosen per operation
 * and per test: throttling, a 500, added latency, a connection reset, a hang (the client's timeout fires), or a
 * reset AFTER the call reached the store (the write happened, its answer is lost). The gateway's SDK client is
 * pointed at it as its DynamoDB endpoint; DynamoDB Local does not check signatures against the host, so requests are
 * forwarded verbatim. Used by the fault tests (test/e2e/store-faults.test.ts) and by `npm run bench`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One DynamoDB call seen by the proxy (times: performance.now() of this process). */
interface DdbCall {
  /** `GetItem`, `UpdateItem`, `TransactWriteItems`, ... (the X-Amz-Target operation). */
  op: string;
  start: number;
  end: number;
  status: number;
  /** The fault injected into this call, if any. */
  fault?: FaultKind;
}

export type FaultKind = 'throttle' | 'server-error' | 'latency' | 'reset' | 'hang' | 'reset-after-write';

export interface FaultRule {
  /** Operations it applies to (e.g. ['GetItem']); all when omitted. */
  ops?: string[];
  kind: FaultKind;
  /** For 'latency': added milliseconds. */
  ms?: number;
  /** How many matching calls it hits before it stops (default: all). */
  times?: number;
  /** Only calls whose JSON body this accepts (e.g. a transaction that writes a CHARGE marker). */
  match?: (body: string) => boolean;
}

export interface DynamoDbProxy {
  url: string;
  calls: DdbCall[];
  /** Record calls into `calls` (off by default, so long runs do not grow it). */
  recording: boolean;
  inject(rule: FaultRule): void;
  /** Lift every fault. */
  clear(): void;
  close(): Promise<void>;
}

const ERROR_BODY: Record<'throttle' | 'server-error', { status: number; type: string; message: string }> = {
  throttle: {
    status: 400,
    type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message: 'The level of configured provisioned throughput for the table was exceeded.',
  },
  'server-error': { status: 500, type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Internal server error' },
};

export async function startDynamoDbProxy(upstream: string): Promise<DynamoDbProxy> {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  const rules: Array<FaultRule & { left: number }> = [];
  const hung = new Set<http.ServerResponse>();
  const state: DynamoDbProxy = {
    url: '',
    calls: [],
    recording: false,
    inject: (rule) => rules.push({ ...rule, left: rule.times ?? Infinity }),
    clear: () => {
      rules.length = 0;
      for (const res of hung) res.socket?.destroy();
      hung.clear();
    },
    close: () => Promise.resolve(),
  };

  const forward = (
    req: http.IncomingMessage,
    body: Buffer,
    onResponse: (up: http.IncomingMessage) => void,
    onError: (e: Error) => void,
  ) => {
    const up = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers, agent },
      onResponse,
    );
    up.on('error', onError);
    up.end(body);
  };

  const server = http.createServer((req, res) => {
    const start = performance.now();
    const op =
      String(req.headers['x-amz-target'] ?? '?')
        .split('.')
        .pop() ?? '?';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const rule = rules.find((r) => r.left > 0 && (!r.ops || r.ops.includes(op)) && (!r.match || r.match(body.toString('utf8'))));
      if (rule) rule.left -= 1;
      const record = (status: number) => {
        if (state.recording) state.calls.push({ op, start, end: performance.now(), status, ...(rule ? { fault: rule.kind } : {}) });
      };
      const relay = () =>
        forward(
          req,
          body,
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
            up.on('end', () => record(up.statusCode ?? 0));
          },
          (e) => {
            if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
            res.end(e.message);
            record(502);
          },
        );
      switch (rule?.kind) {
        case undefined:
          return relay();
        case 'throttle':
        case 'server-error': {
          const e = ERROR_BODY[rule.kind];
          res.writeHead(e.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': e.type.split('#')[1] });
          res.end(JSON.stringify({ __type: e.type, message: e.message }));
          return record(e.status);
        }
        case 'latency':
          return void setTimeout(relay, rule.ms ?? 100);
        case 'reset':
          record(0);
          return void req.socket.destroy();
        case 'hang':
          // Never answers; the client's request timeout has to fire. clear() or close() drops the connection.
          hung.add(res);
          return record(0);
        case 'reset-after-write':
          // The store does the work; its answer never reaches the client.
          return forward(
            req,
            body,
            (up) => {
              up.resume();
              up.on('end', () => {
                record(0);
                req.socket.destroy();
              });
            },
            () => req.socket.destroy(),
          );
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((ok) => {
      state.clear();
      server.close(() => ok());
      server.closeAllConnections();
      agent.destroy();
    });
  return state;
}
