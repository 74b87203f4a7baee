/**
 * `npm run bench`: the gateway's cost per call on one machine, side by side with direct Bedrock SDK calls made in
 * the same run. Prints, asserts nothing, exits 0 unless the bench itself crashed. `BENCH_QUICK=1` (or `--quick`):
 * tiny counts, a smoke run. Everything listens on 127.0.0.1 and is stopped at the end.
 *
 * Processes: this one (the clients: node:http for the gateway, the AWS SDK for direct calls), the Bedrock
 * simulator (one process, one listener per client so that each one's HTTP/2 sessions are counted apart; h2c and
 * TLS), DynamoDB Local twice (in memory, and on disk as `npm start` runs it) and one process per gateway, like a
 * Lambda instance: h2c, TLS, on-disk, and one behind a DynamoDB proxy that counts capacity units, traced.
 *
 * TLS: NODE_EXTRA_CA_CERTS is read when a process starts, so the bench makes a self-signed certificate and runs
 * itself again with the variable set (the gateways inherit it); the direct TLS client is the SDK's default one.
 *
 * `BENCH_SECTIONS=faults,bundles` (comma-separated names of ORDER below) runs only those sections, and starts only
 * what they need: `faults` alone starts one DynamoDB Local and its own gateway process; chat and wires run together.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { ensureTable } from '../local/table.js';
import type { Script } from '../local/bedrock-simulator/index.js';
import { ADMIN_KEY, QUICK, Report, progress, provision, type Ctx, type Direct, type Gateway, type Keys, type Mark } from './lib/bench.js';
import { startChild } from './lib/child.js';
import { directClient } from './lib/clients.js';
import { childPids, load1 } from './lib/cpu.js';
import { startCountingProxy } from './lib/ddb-proxy.js';
import { table } from './lib/stats.js';
import { makeSelfSignedCert } from './lib/tls.js';
import { printBundles, sectionBundles } from './sections/bundles.js';
import { sectionDynamo } from './sections/dynamo.js';
import { sectionFaults } from './sections/faults.js';
import { sectionChat, sectionLimits, sectionWires, summarizeLatency } from './sections/latency.js';
import { sectionCeiling } from './sections/ceiling.js';
import { sectionLoad } from './sections/load.js';
import { sectionMemory } from './sections/memory.js';
import { sectionSpacing } from './sections/spacing.js';
import type { SimCounts } from './sim-child.js';

// Before any SDK client exists in this process (DynamoDB Local's readiness probe creates one).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** Undo steps, run last first; each may return a promise, and a step that throws does not stop the others. */
const cleanups: Array<() => unknown> = [];
async function cleanup(): Promise<void> {
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    await new Promise((resolve) => resolve(fn())).catch((e) => progress(`cleanup step failed: ${(e as Error).message}`));
  }
}

/** The printed order of the report's sections. */
const ORDER = ['chat', 'wires', 'limits', 'load', 'ceiling', 'dynamo', 'spacing', 'memory', 'faults', 'bundles'];

/** BENCH_SECTIONS: the sections to run (all when unset). */
const SELECTED = process.env.BENCH_SECTIONS?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const unknown = SELECTED?.filter((s) => !ORDER.includes(s)) ?? [];
if (unknown.length) throw new Error(`BENCH_SECTIONS: no section ${unknown.join(', ')} (sections: ${ORDER.join(', ')})`);
const want = (section: string) => !SELECTED || SELECTED.includes(section);
/** Sections that use the shared simulator, gateways and direct clients (Ctx). */
const CTX_SECTIONS = ['chat', 'wires', 'limits', 'load', 'ceiling', 'dynamo', 'spacing', 'memory'];

/** Helper processes whose stderr the report's tail shows. */
const children: Array<{ name: string; child: Gateway['child'] }> = [];

async function main(report: Report): Promise<void> {
  const t0 = performance.now();
  const print = report.section('head');
  if (QUICK) print('QUICK RUN (BENCH_QUICK / --quick): tiny counts, the figures are not meaningful');
  if (SELECTED) print(`BENCH_SECTIONS: only ${SELECTED.join(', ')}`);
  if (Number(load1()) > cpus().length) {
    print(`NOTE: the machine is busy before the bench starts (load average ${load1()} on ${cpus().length} CPUs): tail latencies`);
    print('      include other work; each section prints the CPU taken by processes outside the bench ("others").');
  }
  print();
  // Bundles first, while nothing else runs (cold-import timings want a quiet machine).
  const bundles = want('bundles') ? await sectionBundles() : undefined;

  const env = process.env;
  if (CTX_SECTIONS.some(want) || want('faults')) {
    Object.assign(env, {
      TABLE_NAME: `bench-${process.pid}`,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_EC2_METADATA_DISABLED: 'true',
      ADMIN_API_KEY: ADMIN_KEY,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    delete env.AWS_PROFILE;
    delete env.ADMIN_KEY_SECRET_ARN;
    progress('starting DynamoDB Local (in memory)');
    const javaBefore = new Set(childPids(process.pid, 'java'));
    const newJava = () => childPids(process.pid, 'java').find((p) => !javaBefore.has(p) && (javaBefore.add(p), true));
    const dynamo = await startDynamoDbLocal();
    cleanups.push(() => dynamo.stop());
    const dynamoPid = newJava();
    if (CTX_SECTIONS.some(want)) await gatewaySections(report, { endpoint: dynamo.endpoint, pid: dynamoPid }, newJava);
    if (want('faults')) await sectionFaults(report, env, dynamo.endpoint);
  }
  if (bundles) printBundles(report, bundles);

  const tail = report.section('tail');
  for (const { name, child } of children) {
    if (child.stderrLines === 0) continue;
    tail(`${name} stderr: ${child.stderrLines} line(s); first ones:`);
    for (const l of child.stderr.slice(0, 4)) tail(`  ${l}`);
    tail();
  }
  const seconds = (performance.now() - t0) / 1000;
  tail("== Side by side: direct SDK and the gateway, same run (goals: README's performance goals, from issue 12) ==");
  tail(table([['figure', 'direct SDK', 'gateway, admin key', 'gateway, user key', 'goal', ''], ...report.summary]));
  tail();
  tail(
    `bench wall time ${seconds.toFixed(1)} s${QUICK ? ' (quick)' : ''}; node ${process.version}; ${cpus().length} CPUs; load average now ${load1()}`,
  );
  report.json.wallSeconds = Number(seconds.toFixed(1));
}

/** The sections that share the simulator, the gateways and the direct clients (each only if BENCH_SECTIONS wants it). */
async function gatewaySections(
  report: Report,
  dynamo: { endpoint: string; pid: number | undefined },
  newJava: () => number | undefined,
): Promise<void> {
  const dynamoPid = dynamo.pid;
  progress('starting DynamoDB Local on disk, the simulator and the gateways');
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-ddb-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const dynamoDisk = await startDynamoDbLocal({ dataDir });
  cleanups.push(() => dynamoDisk.stop());
  const dynamoDiskPid = newJava();

  const env = process.env;
  for (const endpoint of [dynamoDisk.endpoint, dynamo.endpoint]) {
    env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
    await ensureTable(env.TABLE_NAME!);
  }

  const tls = env.BENCH_TLS_CERT ? true : false;
  const tlsNote = env.BENCH_TLS_NOTE ?? (tls ? '' : 'TLS off');
  const sim = await startChild('sim-child.ts', { ...env }, 'simulator');
  cleanups.push(() => sim.stop());
  const simUrl = (name: string, secure = false) => sim.call<string>({ type: 'start', name, tls: secure });

  children.push({ name: 'simulator', child: sim });
  const startGateway = async (name: string, simName: string, extra: NodeJS.ProcessEnv, keys?: Keys, pid?: number): Promise<Gateway> => {
    const url = await simUrl(simName, simName.endsWith('-tls'));
    const child = await startChild('gateway-child.ts', { ...env, AWS_ENDPOINT_URL_BEDROCK_RUNTIME: url, ...extra }, `gateway (${name})`);
    cleanups.push(() => child.stop());
    children.push({ name: `gateway (${name})`, child });
    const gwUrl = String(child.ready.url);
    return {
      name,
      url: gwUrl,
      child,
      pid: child.proc.pid,
      sim: simName,
      dynamoPid: pid ?? dynamoPid,
      keys: keys ?? (await provision(gwUrl)),
    };
  };
  const mem = { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint };
  const gw = await startGateway('h2c', 'gw', mem);
  const gwDisk = await startGateway(
    'on-disk DynamoDB',
    'disk',
    { AWS_ENDPOINT_URL_DYNAMODB: dynamoDisk.endpoint },
    undefined,
    dynamoDiskPid,
  );
  const gwTls = tls ? await startGateway('TLS', 'gw-tls', mem, gw.keys) : undefined;
  const proxy = await startCountingProxy(dynamo.endpoint);
  cleanups.push(() => proxy.close());
  const instGw = await startGateway('counted, traced', 'inst', { AWS_ENDPOINT_URL_DYNAMODB: proxy.url, BENCH_TRACE: '1' }, gw.keys);
  const inst = { ...instGw, proxy, trace: () => instGw.child.call<Mark[]>({ type: 'trace' }) };

  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  cleanups.push(() => agent.destroy());
  const directAt = async (suffix: string): Promise<Direct> => {
    const secure = suffix === '-tls';
    const d: Direct = {
      default: directClient(await simUrl(`direct${suffix}`, secure)),
      shared: directClient(await simUrl(`shared${suffix}`, secure), 'shared'),
      simDefault: `direct${suffix}`,
      simShared: `shared${suffix}`,
    };
    cleanups.push(
      () => d.default.destroy(),
      () => d.shared.destroy(),
    );
    return d;
  };
  const ctx: Ctx = {
    report,
    agent,
    setScript: (s: Script) => sim.call({ type: 'setDefault', script: s }),
    simCounts: () => sim.call<SimCounts>({ type: 'counts' }),
    simPid: sim.proc.pid,
    dynamoEndpoint: dynamo.endpoint,
    simUrl: (name) => simUrl(name),
    gw,
    gwTls,
    gwDisk,
    inst,
    direct: await directAt(''),
    directTls: tls ? await directAt('-tls') : undefined,
    tlsNote,
    startGateway: (name) => startGateway(name, 'gw', mem, gw.keys),
  };

  if (want('chat') || want('wires')) {
    const chat = await sectionChat(ctx);
    const wires = await sectionWires(ctx);
    summarizeLatency(ctx, chat, wires);
  }
  if (want('limits')) {
    const limits = await sectionLimits(ctx);
    report.add({
      rank: 70,
      figure: 'cost of limits, one at a time: added TTFB p50 / p99',
      user: `${limits.limitedMinusUser.p50.toFixed(2)} / ${limits.limitedMinusUser.p99.toFixed(2)} ms (limited − unlimited key)`,
    });
  }
  if (want('load')) await sectionLoad(ctx);
  if (want('ceiling')) await sectionCeiling(ctx);
  if (want('dynamo')) await sectionDynamo(ctx);
  if (want('spacing')) await sectionSpacing(ctx);
  if (want('memory')) await sectionMemory(ctx);
}

/** Makes the certificate and runs this script again with NODE_EXTRA_CA_CERTS; its exit code, or undefined to run here. */
async function withTls(): Promise<number | undefined> {
  if (process.env.BENCH_TLS_CERT || process.env.BENCH_TLS_NOTE || process.env.BENCH_NO_TLS === '1') return undefined;
  const cert = makeSelfSignedCert();
  if ('error' in cert) {
    process.env.BENCH_TLS_NOTE = `TLS rows skipped: ${cert.error}`;
    return undefined;
  }
  try {
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: cert.trustFile, BENCH_TLS_CERT: cert.certFile, BENCH_TLS_KEY: cert.keyFile },
    });
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
    return await new Promise<number>((done) => child.on('exit', (code, signal) => done(code ?? (signal ? 130 : 1))));
  } finally {
    cert.remove();
  }
}

const reexec = await withTls();
if (reexec !== undefined) process.exit(reexec);

let exitCode = 0;
const onSignal = (sig: string) => {
  progress(`${sig}: cleaning up`);
  void cleanup().then(() => process.exit(130));
};
process.once('SIGINT', () => onSignal('SIGINT'));
process.once('SIGTERM', () => onSignal('SIGTERM'));

const report = new Report();
try {
  await main(report);
} catch (e) {
  exitCode = 1;
  report.section('tail')(`BENCH CRASHED: ${(e as Error).stack ?? String(e)}`);
} finally {
  progress('stopping everything');
  await cleanup();
}
console.log(['head', ...ORDER, 'tail'].flatMap((k) => report.lines(k)).join('\n'));
console.log(JSON.stringify({ benchResults: report.json }));
process.exit(exitCode);
