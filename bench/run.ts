/**
 * `npm run bench`: performance figures for the gateway on one machine. Prints, asserts nothing, exits 0 unless
 * the bench itself crashed. Everything listens on 127.0.0.1 and is stopped at the end.
 *
 *   1. added time-to-first-byte (gateway − direct ConverseStream), admin key and user key
 *   2. throughput at 64 concurrent streaming clients (gateway and direct)
 *   3. chunk spacing for a slow upstream (50 ms between events)
 *   4. bundle size and cold import time of the chat and admin Lambda bundles
 *   5. DynamoDB requests before / after the first byte
 *
 * Processes: this one (the clients), the Bedrock simulator, the local gateway (one process, like a Lambda
 * instance) and DynamoDB Local (Java). Section 5 uses a second gateway whose DynamoDB endpoint is a counting proxy.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { script, type Script } from '../local/bedrock-simulator/index.js';
import type { PostRoutes } from '../test/support/api.js';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { ensureTable } from '../local/table.js';
import { bundle, coldImportMs, type BundleResult } from './lib/bundle.js';
import { startChild } from './lib/child.js';
import { chatBody, directClient, directStream, gatewayStream, type StreamResult } from './lib/clients.js';
import { childPids, cpuUse, formatCpu, load1, runQueueWaitMs, sampleCpu, type CpuSample } from './lib/cpu.js';
import { startCountingProxy, type CountingProxy, type DdbCall } from './lib/ddb-proxy.js';
import { median, ms, percentile, round, summarize, table, verdict, type Summary } from './lib/stats.js';

// Before any SDK client exists in this process (DynamoDB Local's readiness probe creates one).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const ADMIN_KEY = 'br-bench-admin-key-0123456789abcdefghij';
const TTFB_N = Number(process.env.BENCH_TTFB_N ?? 300);
const TTFB_WARMUP = 50;
const CONCURRENCY = 64;
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 10);
const SLOW_DELAY_MS = 50;
const SLOW_CHUNKS = 20;
const COLD_RUNS = 5;

const TARGET = { addedP50: 2, addedP99: 10, spacingDev: 5, bundleBytes: 1.5 * 1024 * 1024 };

const SHORT_SCRIPT: Script = script.text('Hello from the benchmark simulator.', {
  chunkSize: 8,
  usage: { inputTokens: 5, outputTokens: 9 },
});
const TEXT_200 = 'The quick brown fox jumps over the lazy dog. '.repeat(5).slice(0, 200);
const LOAD_SCRIPT: Script = script.text(TEXT_200, { chunkSize: 10, usage: { inputTokens: 5, outputTokens: 50 } });
const SLOW_SCRIPT: Script = script.text(TEXT_200, {
  chunkSize: 200 / SLOW_CHUNKS,
  delayMs: SLOW_DELAY_MS,
  usage: { inputTokens: 5, outputTokens: 50 },
});

const progress = (msg: string) => process.stderr.write(`[bench ${(performance.now() / 1000).toFixed(1)}s] ${msg}\n`);
const out: string[] = [];
const print = (s = '') => out.push(s);
const results: Record<string, unknown> = {};
const summaryRows: Array<[string, string, string, string]> = [];
const addSummary = (figure: string, value: string, target: string, word: string) => summaryRows.push([figure, value, target, word]);

/** Undo steps, run last first; each may return a promise, and a step that throws does not stop the others. */
const cleanups: Array<() => unknown> = [];
async function cleanup(): Promise<void> {
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    await new Promise((resolve) => resolve(fn())).catch((e) => progress(`cleanup step failed: ${(e as Error).message}`));
  }
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const t0 = performance.now();
  const cores = (await import('node:os')).cpus().length;
  if (Number(load1()) > cores) {
    print(`NOTE: the machine is busy before the bench starts (load average ${load1()} on ${cores} CPUs): tail latencies and`);
    print('      cold-import times include other work; each section prints the CPU taken by processes outside the bench.');
    print();
  }
  // Bundles first, while nothing else runs (cold-import timings want a quiet machine).
  const bundles = await sectionBundles();

  progress('starting DynamoDB Local, simulator and gateway');
  const dynamo = await startDynamoDbLocal();
  cleanups.push(() => dynamo.stop());
  const env = process.env;
  Object.assign(env, {
    TABLE_NAME: `bench-${process.pid}`,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ADMIN_API_KEY: ADMIN_KEY,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  delete env.AWS_PROFILE;
  delete env.ADMIN_KEY_SECRET_ARN;
  await ensureTable(env.TABLE_NAME!);

  const sim = await startChild('sim-child.ts', { ...env }, 'simulator');
  cleanups.push(() => sim.stop());
  const simUrl = String(sim.ready.url);
  const gw = await startChild('gateway-child.ts', { ...env, AWS_ENDPOINT_URL_BEDROCK_RUNTIME: simUrl }, 'gateway');
  cleanups.push(() => gw.stop());
  const gwUrl = String(gw.ready.url);
  const userKey = await provision(gwUrl);

  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });
  cleanups.push(() => agent.destroy());
  const direct = directClient(simUrl);
  cleanups.push(() => direct.destroy());
  const setScript = (s: Script) => sim.call({ type: 'setDefault', script: s });
  const pids = {
    gateway: gw.proc.pid,
    'DynamoDB Local': childPids(process.pid, 'java')[0],
    simulator: sim.proc.pid,
    'bench clients': process.pid,
  };

  const ctx: Ctx = { gwUrl, userKey, agent, direct, setScript, pids };
  await sectionTtfb(ctx);
  await sectionThroughput(ctx);

  // The instrumented gateway: DynamoDB through a counting proxy, and an in-process trace (BENCH_TRACE=1).
  const proxy: CountingProxy = await startCountingProxy(dynamo.endpoint);
  cleanups.push(() => proxy.close());
  const gw2 = await startChild(
    'gateway-child.ts',
    { ...env, AWS_ENDPOINT_URL_BEDROCK_RUNTIME: simUrl, AWS_ENDPOINT_URL_DYNAMODB: proxy.url, BENCH_TRACE: '1' },
    'gateway (instrumented)',
  );
  cleanups.push(() => gw2.stop());
  const inst: Instrumented = { url: String(gw2.ready.url), proxy, trace: () => gw2.call<Mark[]>({ type: 'trace' }) };

  await sectionSpacing(ctx, inst);
  printBundles(bundles);
  await sectionDynamo(ctx, inst);

  for (const [name, child] of [
    ['gateway', gw],
    ['simulator', sim],
  ] as const) {
    if (child.stderrLines === 0) continue;
    print(`${name} stderr: ${child.stderrLines} line(s); first ones:`);
    for (const l of child.stderr.slice(0, 4)) print(`  ${l}`);
    print();
  }

  print('== Summary (informational; targets from the brief) ==');
  print(table([['figure', 'value', 'target', ''], ...summaryRows]));
  print();
  print(
    `bench wall time ${((performance.now() - t0) / 1000).toFixed(1)} s; node ${process.version}; ${(await import('node:os')).cpus().length} CPUs`,
  );
  results.wallSeconds = round((performance.now() - t0) / 1000, 1);
}

interface Ctx {
  gwUrl: string;
  userKey: string;
  agent: http.Agent;
  direct: ReturnType<typeof directClient>;
  setScript: (s: Script) => Promise<unknown>;
  pids: Record<string, number | undefined>;
}

type Mark = [time: number, kind: string, detail?: string];

interface Instrumented {
  url: string;
  proxy: CountingProxy;
  /** The gateway's trace since the last call (its own performance.now() clock). */
  trace: () => Promise<Mark[]>;
}

/** CPU and load around a piece of work, as a printable line. */
function cpuWatch(c: Ctx): { stop(): string; use(): Record<string, number> } {
  const a: CpuSample = sampleCpu(c.pids);
  const l0 = load1();
  let u: Record<string, number> | undefined;
  return {
    stop() {
      u = cpuUse(a, sampleCpu(c.pids));
      return `CPU: ${formatCpu(u)}; load average ${l0} → ${load1()}`;
    },
    use: () => u ?? {},
  };
}

/** The model, and a user key with a big quota bound to it. */
async function provision(gwUrl: string): Promise<string> {
  const post = async <P extends keyof PostRoutes>(path: P, body: unknown): Promise<PostRoutes[P]> => {
    const res = await fetch(`${gwUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { success?: boolean; data: PostRoutes[P] };
    if (!res.ok || !json.success) throw new Error(`${path} failed: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
    return json.data;
  };
  const model = await post('/admin/model/save', {
    name: 'bench',
    config: { modelId: 'anthropic.claude-3-haiku-20240307-v1:0' },
    provider: 'bedrock-converse',
    price_in: 1,
    price_out: 1,
  });
  const key = await post('/admin/api-key/apply', {
    name: 'bench-user',
    role: 'user',
    email: '',
    month_quota: 1_000_000,
    balance: 1_000_000,
  });
  await post('/admin/api-key/bind-model', { key_id: key.id, model_id: model.id });
  return key.api_key;
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Added time to first byte
// ---------------------------------------------------------------------------------------------------------------

async function sectionTtfb(c: Ctx): Promise<void> {
  progress(`1. TTFB: ${TTFB_WARMUP} warm-up + ${TTFB_N} interleaved rounds (direct, admin key, user key)`);
  await c.setScript(SHORT_SCRIPT);
  const body = chatBody();
  const round3 = async () => {
    const d = await directStream(c.direct);
    const a = await gatewayStream(c.gwUrl, ADMIN_KEY, c.agent, body);
    const u = await gatewayStream(c.gwUrl, c.userKey, c.agent, body);
    return [d, a, u] as const;
  };
  for (let i = 0; i < TTFB_WARMUP; i++) await round3();
  const watch = cpuWatch(c);
  const d: StreamResult[] = [];
  const a: StreamResult[] = [];
  const u: StreamResult[] = [];
  for (let i = 0; i < TTFB_N; i++) {
    const [x, y, z] = await round3();
    d.push(x);
    a.push(y);
    u.push(z);
  }
  const cpuLine = watch.stop();
  const failed = [...d, ...a, ...u].filter((r) => !r.ok);
  const okIdx = [...d.keys()].filter((i) => d[i].ok && a[i].ok && u[i].ok);
  const td = okIdx.map((i) => d[i].ttfb);
  const ta = okIdx.map((i) => a[i].ttfb);
  const tu = okIdx.map((i) => u[i].ttfb);
  // Paired differences (each round ran direct, admin, user back to back).
  const da = okIdx.map((i) => a[i].ttfb - d[i].ttfb);
  const du = okIdx.map((i) => u[i].ttfb - d[i].ttfb);
  const sd = summarize(td);
  const sa = summarize(ta);
  const su = summarize(tu);
  const sda = summarize(da);
  const sdu = summarize(du);
  const row = (name: string, s: Summary, target = '') => [name, ms(s.min), ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max), target];
  print(`== 1. Time to first byte: ${okIdx.length} sequential streaming requests each, after ${TTFB_WARMUP} warm-up rounds ==`);
  print('   direct = BedrockRuntimeClient ConverseStream → simulator, to the first event (messageStart)');
  print('   gateway = node:http keep-alive client → local gateway → simulator, to the first `data:` frame with role/content');
  print(
    table([
      ['', 'min', 'p50', 'p90', 'p99', 'max', 'target'],
      row('direct to simulator', sd),
      row('gateway, admin key', sa),
      row('gateway, user key', su),
      ['added, admin key (paired)', '', ...row('', sda, `p50 ≤ ${TARGET.addedP50} ms, p99 ≤ ${TARGET.addedP99} ms`).slice(2)],
      ['added, user key (paired)', '', ...row('', sdu, `p50 ≤ ${TARGET.addedP50} ms, p99 ≤ ${TARGET.addedP99} ms`).slice(2)],
      ['user − admin (p50s)', '', ms(su.p50 - sa.p50), '', '', '', 'the reservation write'],
    ]),
  );
  if (failed.length) print(`   failed requests: ${failed.length} (first: ${failed[0].error})`);
  print(
    `   model/grant cache TTL ${process.env.MODEL_CACHE_TTL_MS ?? 5000} ms: a cache refresh (1 model GetItem; + grant lookup for the user key) every 5 s is included`,
  );
  print(
    `   whole response ([DONE] is written after settlement): admin p50 ${ms(median(a.map((r) => r.total)))}, user p50 ${ms(median(u.map((r) => r.total)))}, direct p50 ${ms(median(d.map((r) => r.total)))}`,
  );
  print(`   ${cpuLine}`);
  print();
  results.ttfb = {
    n: okIdx.length,
    direct: rounded(sd),
    admin: rounded(sa),
    user: rounded(su),
    addedAdmin: rounded(sda),
    addedUser: rounded(sdu),
    failed: failed.length,
  };
  addSummary('added TTFB p50, admin key', ms(sda.p50), `≤ ${TARGET.addedP50} ms`, verdict(sda.p50, TARGET.addedP50));
  addSummary('added TTFB p99, admin key', ms(sda.p99), `≤ ${TARGET.addedP99} ms`, verdict(sda.p99, TARGET.addedP99));
  addSummary('added TTFB p50, user key', ms(sdu.p50), `≤ ${TARGET.addedP50} ms`, verdict(sdu.p50, TARGET.addedP50));
  addSummary('added TTFB p99, user key', ms(sdu.p99), `≤ ${TARGET.addedP99} ms`, verdict(sdu.p99, TARGET.addedP99));
}

function rounded(s: Summary): Record<string, number> {
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v)]));
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Throughput at 64 concurrent clients
// ---------------------------------------------------------------------------------------------------------------

interface LoadResult {
  label: string;
  cpu?: string;
  seconds: number;
  completed: number;
  errors: number;
  firstErrors: string[];
  textChunks: number;
  ttfb: number[];
  total: number[];
}

async function load(label: string, seconds: number, one: () => Promise<StreamResult>, c?: Ctx): Promise<LoadResult> {
  progress(`2. load: ${label}, ${CONCURRENCY} clients for ${seconds} s`);
  const r: LoadResult = { label, seconds, completed: 0, errors: 0, firstErrors: [], textChunks: 0, ttfb: [], total: [] };
  const watch = c ? cpuWatch(c) : undefined;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const x = await one();
      if (x.ok) {
        r.completed++;
        r.textChunks += x.textChunks;
        r.ttfb.push(x.ttfb);
        r.total.push(x.total);
      } else {
        r.errors++;
        const msg = x.error ?? `status ${x.status}`;
        if (r.firstErrors.length < 3 && !r.firstErrors.includes(msg)) r.firstErrors.push(msg);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  r.seconds = (performance.now() - start) / 1000; // includes the tail of requests started before the deadline
  if (watch) {
    const line = watch.stop();
    const u = watch.use();
    const perReq = Object.entries(u)
      .filter(([k]) => k !== 'capacity' && k !== 'others')
      .filter(([, v]) => v >= 1)
      .map(([k, v]) => `${k} ${(((v / 100) * r.seconds * 1000) / Math.max(1, r.completed)).toFixed(2)}`);
    r.cpu = `${line}\n      CPU ms per completed request: ${perReq.join(', ')}`;
  }
  return r;
}

async function sectionThroughput(c: Ctx): Promise<void> {
  await c.setScript(LOAD_SCRIPT);
  const body = chatBody();
  const runs: LoadResult[] = [];
  // Short warm-up at full concurrency (sockets, JIT) before each measured run.
  await load('warm-up', 1, () => directStream(c.direct));
  runs.push(await load('direct to simulator (SDK)', LOAD_SECONDS, () => directStream(c.direct), c));
  await load('warm-up', 1, () => gatewayStream(c.gwUrl, ADMIN_KEY, c.agent, body));
  runs.push(await load('gateway, admin key', LOAD_SECONDS, () => gatewayStream(c.gwUrl, ADMIN_KEY, c.agent, body), c));
  runs.push(await load('gateway, user key (one key)', LOAD_SECONDS, () => gatewayStream(c.gwUrl, c.userKey, c.agent, body), c));

  print(
    `== 2. Throughput: ${CONCURRENCY} concurrent streaming clients, ~${LOAD_SECONDS} s each; response = ${SLOW_CHUNKS} text chunks of 10 chars, no upstream delay ==`,
  );
  print(
    table([
      ['', 'req/s', 'text chunks/s', 'completed', 'errors', 'TTFB p50', 'TTFB p99', 'total p50', 'total p99'],
      ...runs.map((r) => [
        r.label,
        (r.completed / r.seconds).toFixed(1),
        (r.textChunks / r.seconds).toFixed(0),
        String(r.completed),
        String(r.errors),
        ms(percentile(r.ttfb, 50), 1),
        ms(percentile(r.ttfb, 99), 1),
        ms(percentile(r.total, 50), 1),
        ms(percentile(r.total, 99), 1),
      ]),
    ]),
  );
  for (const r of runs) if (r.firstErrors.length) print(`   ${r.label}: first errors: ${r.firstErrors.join(' | ')}`);
  for (const r of runs) print(`   ${r.label}: ${r.cpu}`);
  print('   every gateway request = 1 key GetItem (+1 reservation UpdateItem for user keys) before the upstream call,');
  print('   then 1 counter UpdateItem + 1 TransactWriteItems (thread, stats, key charge) before [DONE] and the end of the response.');
  print();
  results.throughput = runs.map((r) => ({
    label: r.label,
    reqPerSec: round(r.completed / r.seconds, 1),
    chunksPerSec: round(r.textChunks / r.seconds, 0),
    completed: r.completed,
    errors: r.errors,
    ttfbP50: round(percentile(r.ttfb, 50)),
    ttfbP99: round(percentile(r.ttfb, 99)),
    totalP50: round(percentile(r.total, 50)),
    totalP99: round(percentile(r.total, 99)),
  }));
  const [dr, ga, gu] = runs;
  addSummary(
    'throughput, gateway admin key',
    `${(ga.completed / ga.seconds).toFixed(1)} req/s`,
    `info (direct ${(dr.completed / dr.seconds).toFixed(0)} req/s)`,
    'INFO',
  );
  addSummary('errors under load, gateway admin key', String(ga.errors), '0', ga.errors === 0 ? 'PASS' : 'MISS');
  addSummary('errors under load, gateway user key', String(gu.errors), '0', gu.errors === 0 ? 'PASS' : 'MISS');
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Chunk spacing for a slow upstream
// ---------------------------------------------------------------------------------------------------------------

function gaps(r: StreamResult): number[] {
  const g: number[] = [];
  for (let i = 1; i < r.arrivals.length; i++) g.push(r.arrivals[i] - r.arrivals[i - 1]);
  return g;
}

/** Splits a trace of sequential requests into one list per request (each begins with its 'in' mark). */
function splitRequests(marks: Mark[]): Mark[][] {
  const reqs: Mark[][] = [];
  for (const m of marks) {
    if (m[1] === 'in') reqs.push([m]);
    else reqs[reqs.length - 1]?.push(m);
  }
  return reqs;
}

/**
 * For each upstream DATA read, the delay until the gateway's next write of the SSE response. A read with no write
 * before the next read is an event that yields no OpenAI chunk (contentBlockStop, metadata): counted as silent.
 */
function relayDelays(req: Mark[]): { delays: number[]; at: number[]; silent: number; readGaps: number[]; writeGaps: number[] } {
  const reads = req.filter((m) => m[1] === 'br-data').map((m) => m[0]);
  const writes = req.filter((m) => m[1] === 'out-write').map((m) => m[0]);
  const delays: number[] = [];
  const at: number[] = [];
  const written: Array<number | undefined> = [];
  let silent = 0;
  reads.forEach((t, i) => {
    const next = reads[i + 1] ?? Number.POSITIVE_INFINITY;
    const w = writes.find((x) => x >= t && x < next);
    written.push(w);
    if (w === undefined) silent++;
    else {
      delays.push(w - t);
      at.push(i);
    }
  });
  // Spacing of consecutive upstream reads as the gateway saw them, and of the writes they caused.
  const readGaps: number[] = [];
  const writeGaps: number[] = [];
  for (let i = 1; i < reads.length; i++) {
    readGaps.push(reads[i] - reads[i - 1]);
    const a = written[i - 1];
    const b = written[i];
    // Text deltas only (#1…#SLOW_CHUNKS): the last frame, [DONE], waits for settlement by design.
    if (a !== undefined && b !== undefined && i - 1 >= 1 && i <= SLOW_CHUNKS) writeGaps.push(b - a);
  }
  return { delays, at, silent, readGaps, writeGaps };
}

async function sectionSpacing(c: Ctx, inst: Instrumented): Promise<void> {
  progress(`3. chunk spacing: ${SLOW_CHUNKS} chunks, ${SLOW_DELAY_MS} ms apart`);
  const body = chatBody();
  // The traced gateway is fresh: warm it (bootstrap, first connections, JIT) so its first stream is not a cold one.
  await c.setScript(SHORT_SCRIPT);
  for (let i = 0; i < 20; i++) await gatewayStream(inst.url, ADMIN_KEY, c.agent, body);
  await c.setScript(SLOW_SCRIPT);
  const watch = cpuWatch(c);
  const gw: StreamResult[] = [];
  const dr: StreamResult[] = [];
  const wait0 = runQueueWaitMs(c.pids.gateway);
  for (let i = 0; i < 5; i++) gw.push(await gatewayStream(c.gwUrl, ADMIN_KEY, c.agent, body));
  const gwWait = runQueueWaitMs(c.pids.gateway) - wait0;
  for (let i = 0; i < 3; i++) dr.push(await directStream(c.direct));
  const cpuLine = watch.stop();
  await inst.trace(); // clear
  const traced: StreamResult[] = [];
  for (let i = 0; i < 3; i++) traced.push(await gatewayStream(inst.url, ADMIN_KEY, c.agent, body));
  const tracedMarks = await inst.trace();
  const gcPauses = tracedMarks.filter((m) => m[1] === 'gc').map((m) => Number(m[2]));
  const relays = splitRequests(tracedMarks).map(relayDelays);
  if (process.env.BENCH_DEBUG) {
    const last = splitRequests(tracedMarks).pop() ?? [];
    progress(
      `trace of the last traced stream: ${last.map((m) => `${(m[0] - last[0][0]).toFixed(2)} ${m[1]}${m[2] ? `(${m[2]})` : ''}`).join(', ')}`,
    );
  }
  const relay = relays.flatMap((r) => r.delays);
  const relayAt = relays.flatMap((r) => r.at);
  const worst = relayAt[relay.indexOf(Math.max(...relay))];
  const textRelay = relays.flatMap((r) => r.delays.filter((_, i) => r.at[i] >= 1 && r.at[i] <= SLOW_CHUNKS));
  const silent = relays.reduce((n, r) => n + r.silent, 0);
  const tg = traced.flatMap(gaps);
  const readGaps = relays.flatMap((r) => r.readGaps);
  const writeGaps = relays.flatMap((r) => r.writeGaps);

  const gg = gw.flatMap(gaps);
  const dg = dr.flatMap(gaps);
  const dev = (xs: number[]) => xs.map((x) => Math.abs(x - SLOW_DELAY_MS));
  const gd = dev(gg);
  const dd = dev(dg);
  const chunksSeen = gw.map((r) => r.textChunks);
  const row = (name: string, xs: number[], ds: number[], target = '') => [
    name,
    String(xs.length),
    ms(Math.min(...xs)),
    ms(median(xs)),
    ms(Math.max(...xs)),
    ms(median(ds)),
    ms(percentile(ds, 99)),
    ms(Math.max(...ds)),
    target,
  ];
  print(`== 3. Chunk spacing: upstream sends ${SLOW_CHUNKS} text deltas ${SLOW_DELAY_MS} ms apart; inter-arrival at the client ==`);
  print(
    table([
      ['', 'intervals', 'min', 'p50', 'max', '|dev| p50', '|dev| p99', '|dev| max', 'target'],
      row(`gateway (${gw.length} streams)`, gg, gd, `|dev| ≤ ${TARGET.spacingDev} ms`),
      row(`direct (${dr.length} streams)`, dg, dd, 'reference: upstream + machine jitter'),
      row(`traced gateway: client (${traced.length} streams)`, tg, dev(tg)),
      row('  upstream reads in the gateway', readGaps, dev(readGaps), 'what the gateway received'),
      row('  SSE writes of text chunks', writeGaps, dev(writeGaps), 'what it sent on'),
    ]),
  );
  print(`   text chunks per gateway stream: ${chunksSeen.join(', ')} (expected ${SLOW_CHUNKS}; fewer would mean frames were merged)`);
  print(`   ${cpuLine}`);
  print(
    `   the gateway's main thread waited ${ms(gwWait, 1)} in the run queue (runnable, no free CPU) during its ${gw.length} streams (/proc schedstat)`,
  );
  print(
    `   GC pauses in the traced gateway during its streams: ${gcPauses.length}, max ${ms(gcPauses.length ? Math.max(...gcPauses) : 0, 2)}`,
  );
  print(
    `   relay inside the traced gateway: upstream DATA read → SSE write for ${relay.length} reads: ` +
      `p50 ${ms(median(relay), 3)}, p99 ${ms(percentile(relay, 99), 3)}, max ${ms(Math.max(...relay), 3)} at read #${worst} ` +
      `(#0 messageStart, #1–${SLOW_CHUNKS} text, then block stop, messageStop, metadata; ${silent} reads produced no chunk)`,
  );
  print(
    `   text deltas only: max relay ${ms(Math.max(...textRelay), 3)} over ${textRelay.length} chunks (the end of stream is slower by design: [DONE] is written after settlement)`,
  );
  print();
  results.spacing = {
    gateway: {
      intervals: gg.length,
      p50: round(median(gg)),
      devP50: round(median(gd)),
      devP99: round(percentile(gd, 99)),
      devMax: round(Math.max(...gd)),
      chunks: chunksSeen,
    },
    direct: {
      intervals: dg.length,
      p50: round(median(dg)),
      devP50: round(median(dd)),
      devP99: round(percentile(dd, 99)),
      devMax: round(Math.max(...dd)),
    },
    relayInsideGateway: {
      reads: relay.length,
      p50: round(median(relay)),
      p99: round(percentile(relay, 99)),
      max: round(Math.max(...relay)),
      maxAtRead: worst,
      textMax: round(Math.max(...textRelay)),
    },
    tracedClientDevMax: round(Math.max(...dev(tg))),
    gatewayRunQueueWaitMs: round(gwWait, 1),
    tracedGcPauseMaxMs: round(gcPauses.length ? Math.max(...gcPauses) : 0),
    tracedReadDevMax: round(Math.max(...dev(readGaps))),
    tracedWriteDevMax: round(Math.max(...dev(writeGaps))),
  };
  addSummary(
    'chunk spacing |dev| p99 (gateway)',
    ms(percentile(gd, 99)),
    `≤ ${TARGET.spacingDev} ms (direct ${ms(percentile(dd, 99))})`,
    verdict(percentile(gd, 99), TARGET.spacingDev),
  );
  addSummary(
    'chunk spacing |dev| max (gateway)',
    ms(Math.max(...gd)),
    `≤ ${TARGET.spacingDev} ms (direct ${ms(Math.max(...dd))})`,
    verdict(Math.max(...gd), TARGET.spacingDev),
  );
  addSummary(
    'relay of text chunks read → SSE write, max',
    ms(Math.max(...textRelay), 3),
    `≤ ${TARGET.spacingDev} ms`,
    verdict(Math.max(...textRelay), TARGET.spacingDev),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Bundles
// ---------------------------------------------------------------------------------------------------------------

interface BundleFigures {
  name: string;
  result?: BundleResult;
  error?: string;
  importMs?: number[];
  importMsSourceMaps?: number[];
}

async function sectionBundles(): Promise<BundleFigures[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-bundle-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const figures: BundleFigures[] = [];
  for (const [name, entry] of [
    ['chat', 'lambdas/chat/index.ts'],
    ['admin', 'lambdas/admin/index.ts'],
  ] as const) {
    progress(`4. bundling ${entry} and timing ${COLD_RUNS}+${COLD_RUNS} cold imports`);
    const f: BundleFigures = { name };
    figures.push(f);
    try {
      f.result = await bundle(REPO_ROOT, entry, join(dir, name));
      f.importMs = [];
      f.importMsSourceMaps = [];
      for (let i = 0; i < COLD_RUNS; i++) {
        f.importMs.push(await coldImportMs(f.result.outfile));
        f.importMsSourceMaps.push(await coldImportMs(f.result.outfile, ['--enable-source-maps']));
      }
    } catch (e) {
      f.error = (e as Error).message.split('\n').slice(0, 3).join(' ');
    }
  }
  return figures;
}

function printBundles(figures: BundleFigures[]): void {
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(2)} MB`;
  print(
    '== 4. Bundles (esbuild as NodejsFunction runs it: esm, node22, minify, bundle all, main-fields module,main, createRequire banner) ==',
  );
  print(
    `   cold import = fresh \`node ${process.version}\` process, performance.now() around await import(bundle), median of ${COLD_RUNS}`,
  );
  print(
    table([
      ['bundle', 'bytes', 'size', '.map', 'build', 'import p50 (min)', 'with --enable-source-maps', 'target'],
      ...figures.map((f) =>
        f.result
          ? [
              f.name,
              String(f.result.bytes),
              mb(f.result.bytes),
              mb(f.result.mapBytes),
              ms(f.result.buildMs, 0),
              `${ms(median(f.importMs ?? []), 1)} (${ms(Math.min(...(f.importMs ?? [])), 1)})`,
              `${ms(median(f.importMsSourceMaps ?? []), 1)} (${ms(Math.min(...(f.importMsSourceMaps ?? [])), 1)})`,
              f.name === 'chat' ? `≤ ${mb(TARGET.bundleBytes)}` : '',
            ]
          : [f.name, 'FAILED', f.error ?? '', '', '', '', '', ''],
      ),
    ]),
  );
  for (const f of figures) {
    if (!f.result) continue;
    const top = f.result.top.slice(0, 6).map((t) => `${t.name} ${(t.bytes / 1024).toFixed(0)} KB`);
    print(`   ${f.name} largest parts: ${top.join(', ')}`);
  }
  print();
  results.bundles = figures.map((f) => ({
    name: f.name,
    bytes: f.result?.bytes,
    mapBytes: f.result?.mapBytes,
    importMsMedian: f.importMs ? round(median(f.importMs), 1) : undefined,
    importMsSourceMapsMedian: f.importMsSourceMaps ? round(median(f.importMsSourceMaps), 1) : undefined,
    importMs: f.importMs?.map((x) => round(x, 1)),
    importMsSourceMaps: f.importMsSourceMaps?.map((x) => round(x, 1)),
    top: f.result?.top.slice(0, 6),
    error: f.error,
  }));
  const chat = figures.find((f) => f.name === 'chat');
  if (chat?.result) {
    addSummary(
      'chat bundle size',
      `${chat.result.bytes} B (${mb(chat.result.bytes)})`,
      `≤ ${mb(TARGET.bundleBytes)}`,
      verdict(chat.result.bytes, TARGET.bundleBytes),
    );
    addSummary(
      'chat bundle cold import p50 (min)',
      `${ms(median(chat.importMs ?? []), 1)} (${ms(Math.min(...(chat.importMs ?? [])), 1)})`,
      `info (with source maps ${ms(median(chat.importMsSourceMaps ?? []), 1)})`,
      'INFO',
    );
  } else addSummary('chat bundle size', 'bundle failed', `≤ ${mb(TARGET.bundleBytes)}`, 'MISS');
}

// ---------------------------------------------------------------------------------------------------------------
// 5. DynamoDB work before the first byte
// ---------------------------------------------------------------------------------------------------------------

interface Breakdown {
  /** Gateway code before the upstream call, DynamoDB SDK calls excluded. */
  code: number;
  /** DynamoDB SDK calls before the upstream call (send → resolved)… */
  ddbSdk: number;
  /** …of which on the wire (HTTP request → response end, via the proxy). */
  ddbWire: number;
  /** BedrockRuntimeClient.send → HTTP/2 request issued (middleware, endpoint, signing). */
  sdkOut: number;
  /** HTTP/2 request → first upstream DATA read. */
  upstream: number;
  /** First upstream read → first SSE write. */
  relay: number;
  inGateway: number;
  outside: number;
  /** Last upstream read → response finished (settlement). */
  afterStream: number;
}

/** Where one request's time to first byte went, from the gateway's trace and the client's TTFB. */
function breakdown(req: Mark[], r: StreamResult): Breakdown | undefined {
  const t = (kind: string) => req.find((m) => m[1] === kind)?.[0];
  const tin = req[0][0];
  const brSend = t('br-send');
  const brReq = t('br-req');
  const brData = t('br-data');
  const write = t('out-write');
  const end = t('out-end');
  if (brSend === undefined || brReq === undefined || brData === undefined || write === undefined) return undefined;
  // Calls before the upstream call are sequential: pair the i-th start with the i-th end.
  const span = (startKind: string, endKind: string) => {
    const starts = req.filter((m) => m[1] === startKind && m[0] < brSend).map((m) => m[0]);
    const ends = req.filter((m) => m[1] === endKind && m[0] < brSend).map((m) => m[0]);
    return starts.reduce((n, s, i) => n + ((ends[i] ?? s) - s), 0);
  };
  const ddbSdk = span('ddb-send', 'ddb-done');
  const lastRead = [...req].reverse().find((m) => m[1] === 'br-data' || m[1] === 'br-end')?.[0] ?? brData;
  return {
    code: brSend - tin - ddbSdk,
    ddbSdk,
    ddbWire: span('ddb-start', 'ddb-end'),
    sdkOut: brReq - brSend,
    upstream: brData - brReq,
    relay: write - brData,
    inGateway: write - tin,
    // Durations from two clocks may be subtracted: the client's TTFB minus the gateway's own share.
    outside: r.ttfb - (write - tin),
    afterStream: (end ?? lastRead) - lastRead,
  };
}

/** Section 5's figures for one key. */
interface DynamoFigures {
  before: string[];
  after: string[];
  sequenceShare: string;
  ddbMsBeforeFirstByteP50: number;
  ddbLocalMsPerOpP50: Record<string, number>;
}

/** Section 1's figures (results.ttfb), the fields read later. */
interface TtfbFigures {
  direct?: Record<string, number>;
}

async function sectionDynamo(c: Ctx, inst: Instrumented): Promise<void> {
  progress('5. DynamoDB calls per request, through a counting proxy, with the gateway traced');
  await c.setScript(SHORT_SCRIPT);
  const body = chatBody();
  const MEASURED = 20;
  const proxy = inst.proxy;

  print('== 5. DynamoDB requests per streaming call (warm: bootstrap done, model/grant cache hot), via a counting proxy ==');
  const rows: string[][] = [['key', 'before first byte', 'after first byte', 'DDB time before 1st byte p50', 'client TTFB p50']];
  const detail: string[] = [];
  const json: Record<string, unknown> = {};
  const perKey: Partial<Record<'admin' | 'user', DynamoFigures>> = {};
  const breakdowns: Record<string, Breakdown[]> = {};
  for (const [label, key] of [
    ['admin', ADMIN_KEY],
    ['user', c.userKey],
  ] as const) {
    for (let i = 0; i < 5; i++) await gatewayStream(inst.url, key, c.agent, body); // warm
    await inst.trace(); // clear
    const perRequest: Array<{ r: StreamResult; before: DdbCall[]; after: DdbCall[] }> = [];
    for (let i = 0; i < MEASURED; i++) {
      proxy.calls = [];
      proxy.recording = true;
      const r = await gatewayStream(inst.url, key, c.agent, body);
      proxy.recording = false;
      const fb = r.start + r.ttfb;
      const calls = proxy.calls.filter((x) => x.start >= r.start).sort((x, y) => x.start - y.start);
      perRequest.push({ r, before: calls.filter((x) => x.start < fb), after: calls.filter((x) => x.start >= fb) });
    }
    const traced = splitRequests(await inst.trace());
    breakdowns[label] = traced
      .map((req, i) => (perRequest[i] ? breakdown(req, perRequest[i].r) : undefined))
      .filter((b): b is Breakdown => b !== undefined);

    const sig = (xs: DdbCall[]) => xs.map((x) => x.op).join(', ') || '(none)';
    // The most common sequence is the representative one.
    const counts = new Map<string, number>();
    for (const p of perRequest) {
      const k = `${sig(p.before)} | ${sig(p.after)}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const [common, times] = [...counts.entries()].sort((x, y) => y[1] - x[1])[0];
    const [before, after] = common.split(' | ');
    const ddbBefore = perRequest.map((p) => p.before.reduce((n, x) => n + (x.end - x.start), 0));
    rows.push([label, before, after, ms(median(ddbBefore)), ms(median(perRequest.map((p) => p.r.ttfb)))]);
    const last = perRequest[perRequest.length - 1];
    const rel = (x: number) => (x - last.r.start).toFixed(1);
    const events = [
      ...[...last.before, ...last.after].map((x) => ({ t: x.start, s: `${x.op} ${rel(x.start)}–${rel(x.end)}` })),
      { t: last.r.start + last.r.ttfb, s: `FIRST BYTE ${rel(last.r.start + last.r.ttfb)}` },
      { t: last.r.start + last.r.total, s: `end ${rel(last.r.start + last.r.total)}` },
    ].sort((x, y) => x.t - y.t);
    detail.push(
      `   ${label}: ${times}/${MEASURED} requests had this sequence; last one (ms from send): ${events.map((e) => e.s).join(' → ')}`,
    );
    const perOp = new Map<string, number[]>();
    for (const p of perRequest) for (const x of [...p.before, ...p.after]) perOp.set(x.op, [...(perOp.get(x.op) ?? []), x.end - x.start]);
    perKey[label] = {
      before: before.split(', '),
      after: after.split(', '),
      sequenceShare: `${times}/${MEASURED}`,
      ddbMsBeforeFirstByteP50: round(median(ddbBefore)),
      ddbLocalMsPerOpP50: Object.fromEntries([...perOp.entries()].map(([op, v]) => [op, round(median(v))])),
    };
    json[label] = perKey[label];
    addSummary(`DynamoDB calls before first byte, ${label} key`, before, 'info', 'INFO');
  }
  print(table(rows));
  for (const d of detail) print(d);
  const perOpLine = (['admin', 'user'] as const).map(
    (l) =>
      `${l}: ${Object.entries(perKey[l]!.ddbLocalMsPerOpP50)
        .map(([op, v]) => `${op} ${v} ms`)
        .join(', ')}`,
  );
  print(`   DynamoDB Local time per call at the proxy, p50 — ${perOpLine.join('; ')}`);
  print();

  const seg = (name: string, f: (b: Breakdown) => number, note: string) => [
    name,
    ms(median(breakdowns.admin.map(f))),
    ms(median(breakdowns.user.map(f))),
    note,
  ];
  print(
    `   Where the time to first byte goes (p50 of ${breakdowns.admin.length}/${breakdowns.user.length} traced requests; DynamoDB here includes the proxy hop):`,
  );
  print(
    table([
      ['segment', 'admin', 'user', ''],
      seg('gateway code before upstream call', (b) => b.code, 'event, auth, zod, model cache, mapping (DynamoDB excluded)'),
      seg('DynamoDB SDK calls', (b) => b.ddbSdk, 'GetItem key (+ UpdateItem reservation), send → resolved'),
      seg('  of which HTTP round trip', (b) => b.ddbWire, 'rest = SDK marshalling, middleware, unmarshalling'),
      seg('Bedrock SDK send → HTTP/2 request', (b) => b.sdkOut, 'the direct client pays this too'),
      seg(
        'upstream: request → first event',
        (b) => b.upstream,
        `direct SDK TTFB p50 was ${ms((results.ttfb as TtfbFigures | undefined)?.direct?.p50 ?? NaN)}`,
      ),
      seg('relay: first event → first SSE write', (b) => b.relay, 'event-stream decode, mapping, write'),
      seg('= inside the gateway', (b) => b.inGateway, ''),
      seg('outside (client ↔ gateway hop)', (b) => b.outside, 'client TTFB − inside: HTTP/1.1 hop, scheduling'),
      seg('≈ added vs direct', (b) => b.code + b.ddbSdk + b.relay + b.outside, 'code + DynamoDB + relay + hop'),
      seg('last upstream event → response end', (b) => b.afterStream, 'settlement (counter UpdateItem + TransactWriteItems), then [DONE]'),
    ]),
  );
  print();
  json.breakdownP50 = Object.fromEntries(
    Object.entries(breakdowns).map(([k, bs]) => [
      k,
      Object.fromEntries(Object.keys(bs[0] ?? {}).map((f) => [f, round(median(bs.map((b) => b[f as keyof Breakdown])))])),
    ]),
  );
  results.dynamo = json;
}

// ---------------------------------------------------------------------------------------------------------------

let exitCode = 0;
const onSignal = (sig: string) => {
  progress(`${sig}: cleaning up`);
  void cleanup().then(() => process.exit(130));
};
process.once('SIGINT', () => onSignal('SIGINT'));
process.once('SIGTERM', () => onSignal('SIGTERM'));

try {
  await main();
} catch (e) {
  exitCode = 1;
  print(`BENCH CRASHED: ${(e as Error).stack ?? String(e)}`);
} finally {
  progress('stopping everything');
  await cleanup();
}
console.log(out.join('\n'));
console.log(JSON.stringify({ benchResults: results }));
process.exit(exitCode);
