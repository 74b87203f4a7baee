import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One DynamoDB call seen by the proxy (times: performance.now() of this process). */
export interface DdbCall {
  /** `GetItem`, `UpdateItem`, `TransactWriteItems`, ... (the X-Amz-Target operation). */
  op: string;
  start: number;
  end: number;
  status: number;
}

export interface CountingProxy {
  url: string;
  calls: DdbCall[];
  recording: boolean;
  close(): Promise<void>;
}

/**
 * A tiny HTTP proxy in front of DynamoDB Local that records each request's X-Amz-Target and timing. The
 * gateway's SDK client is pointed at it through AWS_ENDPOINT_URL_DYNAMODB (DynamoDB Local does not check
 * signatures against the host, so headers are forwarded verbatim).
 */
export async function startCountingProxy(upstream: string): Promise<CountingProxy> {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const state: CountingProxy = { url: '', calls: [], recording: false, close: () => Promise.resolve() };
  const server = http.createServer((req, res) => {
    const start = performance.now();
    const op =
      String(req.headers['x-amz-target'] ?? '?')
        .split('.')
        .pop() ?? '?';
    const up = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers, agent },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        upRes.on('end', () => {
          if (state.recording) state.calls.push({ op, start, end: performance.now(), status: upRes.statusCode ?? 0 });
        });
      },
    );
    up.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(e.message));
    });
    req.pipe(up);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((ok) => {
      server.close(() => ok());
      server.closeAllConnections();
      agent.destroy();
    });
  return state;
}
