/**
 * The local gateway (local/server.ts: the very handlers the stack deploys) in a process of its own, like a
 * Lambda instance: its event loop is not shared with the benchmark clients. Environment comes from the parent.
 *
 * With BENCH_TRACE=1 it also timestamps, in its own clock, what happens inside: request in, DynamoDB calls
 * (node:http, as the SDK's handler uses it), the Bedrock HTTP/2 request, response headers and every upstream
 * DATA read, and every write of the SSE response. The parent fetches and clears the trace over IPC.
 */
import http from 'node:http';
import http2 from 'node:http2';
import { syncBuiltinESMExports } from 'node:module';
import { PerformanceObserver, performance } from 'node:perf_hooks';

type Mark = [time: number, kind: string, detail?: string];
const trace: Mark[] = [];
const tracing = process.env.BENCH_TRACE === '1';
const mark = (kind: string, detail?: string) => {
  if (trace.length < 50_000) trace.push([performance.now(), kind, detail]);
};

if (tracing) {
  // Garbage-collection pauses, on the same clock (entries arrive late: the parent sorts the trace).
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (trace.length < 50_000) trace.push([e.startTime, 'gc', e.duration.toFixed(3)]);
  }).observe({ entryTypes: ['gc'] });
  const origRequest = http.request;
  (http as any).request = function (this: unknown, ...args: any[]) {
    const opts = args.find((a) => a && typeof a === 'object' && !(a instanceof URL)) ?? {};
    const op = String(opts.headers?.['x-amz-target'] ?? opts.headers?.['X-Amz-Target'] ?? '?')
      .split('.')
      .pop();
    mark('ddb-start', op);
    const req = (origRequest as any).apply(this, args) as http.ClientRequest;
    req.once('response', (res) => res.once('end', () => mark('ddb-end', op)));
    return req;
  };
  const origConnect = http2.connect;
  (http2 as any).connect = function (this: unknown, ...args: any[]) {
    const session = (origConnect as any).apply(this, args) as http2.ClientHttp2Session;
    const origSessionRequest = session.request;
    session.request = function (this: unknown, ...a: any[]) {
      mark('br-req');
      const s = (origSessionRequest as any).apply(this, a) as http2.ClientHttp2Stream;
      s.once('response', () => mark('br-head'));
      // Observe reads without changing the stream's flow mode (a 'data' listener would).
      const origPush = s.push;
      s.push = function (this: unknown, chunk: any, enc?: any) {
        mark(chunk === null ? 'br-end' : 'br-data');
        return origPush.call(this, chunk, enc);
      } as typeof s.push;
      return s;
    } as typeof session.request;
    return session;
  };
  syncBuiltinESMExports();

  // SDK entry and exit: send() called → promise settled, to split SDK work from the wire time above.
  const patchSend = (cls: { prototype: { send: (...a: any[]) => any } }, name: string) => {
    const orig = cls.prototype.send;
    cls.prototype.send = function (this: unknown, ...a: any[]) {
      mark(`${name}-send`);
      const p = orig.apply(this, a);
      if (p && typeof p.then === 'function')
        p.then(
          () => mark(`${name}-done`),
          () => mark(`${name}-done`),
        );
      return p;
    };
  };
  const { BedrockRuntimeClient } = await import('@aws-sdk/client-bedrock-runtime');
  const { DynamoDBDocumentClient } = await import('@aws-sdk/lib-dynamodb');
  patchSend(BedrockRuntimeClient as any, 'br');
  patchSend(DynamoDBDocumentClient as any, 'ddb');
}

const { startLocalGateway } = await import('../local/server.js');
const gw = await startLocalGateway({ port: 0, host: '127.0.0.1' });

if (tracing) {
  gw.server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    mark('in');
    const origHead = res.writeHead;
    res.writeHead = function (this: http.ServerResponse, ...a: any[]) {
      mark('out-head');
      return (origHead as any).apply(this, a);
    } as typeof res.writeHead;
    const origWrite = res.write;
    res.write = function (this: http.ServerResponse, ...a: any[]) {
      mark('out-write');
      return (origWrite as any).apply(this, a);
    } as typeof res.write;
    res.once('finish', () => mark('out-end'));
  });
}

const stop = async () => {
  await gw.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('disconnect', () => void stop());
process.on('message', (m: any) => {
  if (m?.type === 'trace') {
    process.send?.({ id: m.id, reply: trace.splice(0, trace.length) });
  } else process.send?.({ id: m?.id, error: 'unknown message' });
});
process.send?.({ type: 'ready', url: gw.url, tracing });
