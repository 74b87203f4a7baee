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

type Fn<R> = (this: unknown, ...args: unknown[]) => R;

/**
 * Replaces the function `key` of `target` in place with `make(original)`. Module objects and SDK prototypes are typed
 * read-only (and their methods overloaded), so the instrumentation goes through this one untyped step.
 */
function wrap<R>(target: object, key: string, make: (orig: Fn<R>) => Fn<R>): void {
  const t = target as Record<string, Fn<R>>;
  t[key] = make(t[key]);
}

const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as PromiseLike<unknown> | null)?.then === 'function';

if (tracing) {
  // Garbage-collection pauses, on the same clock (entries arrive late: the parent sorts the trace).
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (trace.length < 50_000) trace.push([e.startTime, 'gc', e.duration.toFixed(3)]);
  }).observe({ entryTypes: ['gc'] });
  wrap<http.ClientRequest>(
    http,
    'request',
    (origRequest) =>
      function (...args) {
        const opts = args.find((a): a is http.RequestOptions => !!a && typeof a === 'object' && !(a instanceof URL));
        const headers = opts?.headers as http.OutgoingHttpHeaders | undefined;
        const op = String(headers?.['x-amz-target'] ?? headers?.['X-Amz-Target'] ?? '?')
          .split('.')
          .pop();
        mark('ddb-start', op);
        const req = origRequest.apply(this, args);
        req.once('response', (res: http.IncomingMessage) => res.once('end', () => mark('ddb-end', op)));
        return req;
      },
  );
  wrap<http2.ClientHttp2Session>(
    http2,
    'connect',
    (origConnect) =>
      function (...args) {
        const session = origConnect.apply(this, args);
        wrap<http2.ClientHttp2Stream>(
          session,
          'request',
          (origSessionRequest) =>
            function (...a) {
              mark('br-req');
              const s = origSessionRequest.apply(this, a);
              s.once('response', () => mark('br-head'));
              // Observe reads without changing the stream's flow mode (a 'data' listener would).
              wrap<boolean>(
                s,
                'push',
                (origPush) =>
                  function (chunk, enc) {
                    mark(chunk === null ? 'br-end' : 'br-data');
                    return origPush.call(this, chunk, enc);
                  },
              );
              return s;
            },
        );
        return session;
      },
  );
  syncBuiltinESMExports();

  // SDK entry and exit: send() called → promise settled, to split SDK work from the wire time above.
  const patchSend = (cls: { prototype: object }, name: string) =>
    wrap<unknown>(
      cls.prototype,
      'send',
      (orig) =>
        function (...a) {
          mark(`${name}-send`);
          const p = orig.apply(this, a);
          if (isThenable(p))
            p.then(
              () => mark(`${name}-done`),
              () => mark(`${name}-done`),
            );
          return p;
        },
    );
  const { BedrockRuntimeClient } = await import('@aws-sdk/client-bedrock-runtime');
  const { DocumentClient } = await import('../lambdas/core/store/document-client.js');
  patchSend(BedrockRuntimeClient, 'br');
  patchSend(DocumentClient, 'ddb');
}

const { startLocalGateway } = await import('../local/server.js');
const gw = await startLocalGateway({ port: 0, host: '127.0.0.1' });

if (tracing) {
  gw.server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    mark('in');
    wrap<unknown>(
      res,
      'writeHead',
      (origHead) =>
        function (...a) {
          mark('out-head');
          return origHead.apply(this, a);
        },
    );
    wrap<unknown>(
      res,
      'write',
      (origWrite) =>
        function (...a) {
          mark('out-write');
          return origWrite.apply(this, a);
        },
    );
    res.once('finish', () => mark('out-end'));
  });
}

const stop = async () => {
  await gw.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('disconnect', () => void stop());
/** A request from the parent over IPC. */
interface ParentMessage {
  type?: string;
  id?: number;
}
process.on('message', (m: ParentMessage | undefined) => {
  if (m?.type === 'trace') {
    process.send?.({ id: m.id, reply: trace.splice(0, trace.length) });
  } else process.send?.({ id: m?.id, error: 'unknown message' });
});
process.send?.({ type: 'ready', url: gw.url, tracing });
