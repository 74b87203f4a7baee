/**
 * One chat function instance, as Lambda runs it: a fresh `node` process that imports the chat bundle alone (the
 * very esbuild output CDK packages), with the runtime's `awslambda` global stubbed, and invokes its handler with
 * one function URL event: a streaming chat completion. It samples its own resident memory every 10 ms and reads
 * VmHWM at the end, and writes {ready, peak, after, bytes, ms, reset} as JSON to BENCH_OUT. Environment: the bench's (table, DynamoDB
 * and Bedrock endpoints), plus BENCH_BUNDLE (the index.mjs), BENCH_KEY and BENCH_BODY.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';

globalThis.awslambda ??= {};
globalThis.awslambda.streamifyResponse ??= (f) => f;
globalThis.awslambda.HttpResponseStream ??= { from: (s) => s };

const rssNow = () => process.memoryUsage().rss;
const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;

const mod = await import(pathToFileURL(process.env.BENCH_BUNDLE).href);
const handler = mod.handler;
const ready = rssNow();
// The peak is the stream's: VmHWM is reset to the present after the import (where allowed; the 10 ms samples also count).
let reset = true;
try {
  writeFileSync('/proc/self/clear_refs', '5');
} catch {
  reset = false;
}
let peak = ready;
const timer = setInterval(() => (peak = Math.max(peak, rssNow())), 10);

const body = process.env.BENCH_BODY;
const now = new Date();
const event = {
  version: '2.0',
  routeKey: '$default',
  rawPath: '/v1/chat/completions',
  rawQueryString: '',
  headers: { authorization: `Bearer ${process.env.BENCH_KEY}`, 'content-type': 'application/json', host: 'localhost' },
  requestContext: {
    accountId: '000000000000',
    apiId: 'bench',
    domainName: 'localhost',
    domainPrefix: 'bench',
    http: { method: 'POST', path: '/v1/chat/completions', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
    requestId: 'bench-instance',
    routeKey: '$default',
    stage: '$default',
    time: now.toUTCString(),
    timeEpoch: now.getTime(),
  },
  body,
  isBase64Encoded: false,
};
const context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'chat',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:chat',
  memoryLimitInMB: '1024',
  awsRequestId: 'bench-instance',
  logGroupName: 'bench',
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => 900_000,
};
let bytes = 0;
const out = new Writable({
  write(chunk, _enc, done) {
    bytes += chunk.length;
    done();
  },
});
out.setPrelude = () => undefined;
const t0 = performance.now();
const finished = new Promise((ok) => out.on('finish', ok));
await handler(event, out, context);
await finished;
const ms = performance.now() - t0;
clearInterval(timer);
// Into a file, not stdout (the bundle's logger owns stdout); then exit: keep-alive sockets would hold the process.
writeFileSync(
  process.env.BENCH_OUT,
  JSON.stringify({ ready, peak: reset ? Math.max(peak, hwm()) : peak, after: rssNow(), bytes, ms, reset }),
);
process.exit(0);
