/**
 * Throughput at 64 concurrent streaming clients, and the CPU each process spends per call meanwhile (from
 * /proc/<pid>/stat utime+stime over the load window ÷ completed calls): the gateway, its DynamoDB Local (java),
 * the simulator and the bench's own client process (for the direct run: the SDK client alone).
 */
import { performance } from 'node:perf_hooks';
import { script, type Script } from '../../local/bedrock-simulator/index.js';
import { CONCURRENCY, GOAL, N, all, atLeast, atMost, cpuWatch, progress, type Ctx, type Gateway } from '../lib/bench.js';
import { directStream, gatewayStream, type StreamResult } from '../lib/clients.js';
import { ms, percentile, round, table } from '../lib/stats.js';

const TEXT_200 = 'The quick brown fox jumps over the lazy dog. '.repeat(5).slice(0, 200);
const LOAD_CHUNKS = 20;
const LOAD_SCRIPT: Script = script.text(TEXT_200, { chunkSize: 200 / LOAD_CHUNKS, usage: { inputTokens: 5, outputTokens: 50 } });

interface LoadRun {
  label: string;
  seconds: number;
  completed: number;
  errors: number;
  firstErrors: string[];
  ttfb: number[];
  total: number[];
  /** CPU ms per completed call, by process. */
  cpu: Record<string, number>;
  cpuLine: string;
  /** New Bedrock sessions opened per completed call. */
  sessionsPerCall: number;
}

async function load(
  c: Ctx,
  label: string,
  seconds: number,
  one: () => Promise<StreamResult>,
  gw?: Gateway,
  sim?: string,
): Promise<LoadRun> {
  progress(`load: ${label}, ${CONCURRENCY} clients for ${seconds} s`);
  const r: LoadRun = {
    label,
    seconds,
    completed: 0,
    errors: 0,
    firstErrors: [],
    ttfb: [],
    total: [],
    cpu: {},
    cpuLine: '',
    sessionsPerCall: NaN,
  };
  const pids = { gateway: gw?.pid, 'DynamoDB Local': gw?.dynamoPid, simulator: c.simPid, 'bench clients': process.pid };
  const before = sim ? await c.simCounts() : undefined;
  const watch = cpuWatch(pids);
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const x = await one();
      if (x.ok) {
        r.completed++;
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
  watch.stop();
  r.seconds = (performance.now() - start) / 1000; // includes the tail of calls started before the deadline
  // No completed call: no per-call figure (the CPU went into failures).
  r.cpu = r.completed ? watch.perCall(r.completed) : {};
  r.cpuLine = watch.line();
  if (sim && before) {
    const after = await c.simCounts();
    if (r.completed) r.sessionsPerCall = ((after[sim]?.sessions ?? 0) - (before[sim]?.sessions ?? 0)) / r.completed;
  }
  return r;
}

export interface LoadFigures {
  [label: string]: { reqPerSec: number; errors: number; cpuMsPerCall: Record<string, number>; sessionsPerCall: number };
}

export async function sectionLoad(c: Ctx): Promise<LoadFigures> {
  const print = c.report.section('load');
  await c.setScript(LOAD_SCRIPT);
  const s = N.loadSeconds;
  // DynamoDB Local's JIT needs a few seconds of traffic before its per-call CPU settles.
  const warm = (one: () => Promise<StreamResult>, seconds = 1) => load(c, 'warm-up', Math.min(seconds, s), one);
  const runs: LoadRun[] = [];
  const gwRun = async (label: string, g: Gateway, key: string) =>
    runs.push(await load(c, label, s, () => gatewayStream(g.url, key, c.agent), g, g.sim));

  await warm(() => directStream(c.direct.default));
  runs.push(await load(c, 'direct SDK, default client', s, () => directStream(c.direct.default), undefined, c.direct.simDefault));
  await warm(() => gatewayStream(c.gw.url, c.gw.keys.admin, c.agent), 3);
  await gwRun('gateway, admin key, in-memory DynamoDB', c.gw, c.gw.keys.admin);
  await gwRun('gateway, user key, in-memory DynamoDB', c.gw, c.gw.keys.user);
  await gwRun('gateway, user key with limits, in-memory', c.gw, c.gw.keys.limited);
  const concurrentUnits = await unitsUnderLoad(c, Math.max(2, s / 2));
  await warm(() => gatewayStream(c.gwDisk.url, c.gwDisk.keys.admin, c.agent), 3);
  await gwRun('gateway, admin key, on-disk DynamoDB', c.gwDisk, c.gwDisk.keys.admin);
  await gwRun('gateway, user key, on-disk DynamoDB', c.gwDisk, c.gwDisk.keys.user);

  const cpu = (r: LoadRun, k: string) => (Number.isFinite(r.cpu[k]) ? r.cpu[k].toFixed(2) : '–');
  print(
    `== Throughput: ${CONCURRENCY} concurrent streaming clients, ~${s} s each; answer = ${LOAD_CHUNKS} text chunks of 10 chars, no upstream delay ==`,
  );
  print('   CPU ms per completed call from /proc/<pid>/stat (utime+stime) over the run; "others" = the rest of the machine');
  print(
    table([
      [
        '',
        'req/s',
        'errors',
        'TTFB p50',
        'TTFB p99',
        'last byte p50',
        'gateway CPU/call',
        'DynamoDB Local CPU/call',
        'simulator CPU/call',
        'clients CPU/call',
        'others/call',
        'new sessions/call',
      ],
      ...runs.map((r) => [
        r.label,
        (r.completed / r.seconds).toFixed(1),
        String(r.errors),
        ms(percentile(r.ttfb, 50), 1),
        ms(percentile(r.ttfb, 99), 1),
        ms(percentile(r.total, 50), 1),
        cpu(r, 'gateway'),
        cpu(r, 'DynamoDB Local'),
        cpu(r, 'simulator'),
        cpu(r, 'bench clients'),
        cpu(r, 'others'),
        Number.isFinite(r.sessionsPerCall) ? r.sessionsPerCall.toFixed(3) : 'n/a',
      ]),
    ]),
  );
  for (const r of runs) if (r.firstErrors.length) print(`   ${r.label}: first errors: ${r.firstErrors.join(' | ')}`);
  for (const r of runs) print(`   ${r.label}: ${r.cpuLine}`);
  print();

  const figures: LoadFigures = Object.fromEntries(
    runs.map((r) => [
      r.label,
      {
        reqPerSec: round(r.completed / r.seconds, 1),
        errors: r.errors,
        cpuMsPerCall: Object.fromEntries(Object.entries(r.cpu).map(([k, v]) => [k, round(v, 2)])),
        sessionsPerCall: round(r.sessionsPerCall),
      },
    ]),
  );
  c.report.json.load = figures;

  const [direct, admin, user, limited, diskAdmin, diskUser] = runs;
  const rps = (r: LoadRun) => `${(r.completed / r.seconds).toFixed(0)} req/s`;
  const errs = (r: LoadRun) => (r.errors ? `, ${r.errors} errors` : '');
  const r = c.report;
  r.add({
    rank: 10,
    figure: `gateway process CPU per streamed call, ${CONCURRENCY} clients`,
    direct: `${cpu(direct, 'bench clients')} ms (SDK client alone)`,
    admin: `${cpu(admin, 'gateway')} ms`,
    user: `${cpu(user, 'gateway')} ms`,
    goal: `≤ ${GOAL.gatewayCpuMsPerCall} ms`,
    verdict: all(atMost(admin.cpu.gateway, GOAL.gatewayCpuMsPerCall), atMost(user.cpu.gateway, GOAL.gatewayCpuMsPerCall)),
  });
  r.add({
    rank: 11,
    figure: 'DynamoDB Local CPU per call, in memory / on disk',
    admin: `${cpu(admin, 'DynamoDB Local')} / ${cpu(diskAdmin, 'DynamoDB Local')} ms`,
    user: `${cpu(user, 'DynamoDB Local')} / ${cpu(diskUser, 'DynamoDB Local')} ms`,
  });
  r.add({
    rank: 21,
    figure: `new Bedrock HTTP/2 sessions per call, ${CONCURRENCY} clients`,
    direct: direct.sessionsPerCall.toFixed(3),
    admin: admin.sessionsPerCall.toFixed(3),
    user: user.sessionsPerCall.toFixed(3),
    goal: 'reused (≈ 0)',
    verdict: all(atMost(admin.sessionsPerCall, 0.05), atMost(user.sessionsPerCall, 0.05)),
  });
  r.add({
    rank: 60,
    figure: `throughput, ${CONCURRENCY} streaming clients, in-memory DynamoDB Local`,
    direct: rps(direct) + errs(direct),
    admin: rps(admin) + errs(admin),
    user: rps(user) + errs(user),
    goal: `≥ ${GOAL.inMemoryReqPerSec} req/s (2× reference 113–120)`,
    verdict: all(
      atLeast(admin.completed / admin.seconds, GOAL.inMemoryReqPerSec),
      atLeast(user.completed / user.seconds, GOAL.inMemoryReqPerSec),
      admin.errors + user.errors ? 'MISS' : 'PASS',
    ),
  });
  r.add({
    rank: 61,
    figure: `throughput, ${CONCURRENCY} streaming clients, on-disk DynamoDB Local`,
    admin: rps(diskAdmin) + errs(diskAdmin),
    user: rps(diskUser) + errs(diskUser),
    goal: '(npm start default)',
  });
  r.add({
    rank: 53,
    figure: `DynamoDB read / write units per call, ${CONCURRENCY} streaming clients on one key`,
    admin: concurrentUnits.admin.line,
    user: concurrentUnits.user.line,
    goal: '(the key item carries one lease per call in flight)',
  });
  r.add({
    rank: 71,
    figure: `cost of limits under load: limited key req/s, gateway CPU/call`,
    user: `${rps(limited)}${errs(limited)}, ${cpu(limited, 'gateway')} ms (unlimited ${cpu(user, 'gateway')} ms)`,
  });
  return figures;
}

/**
 * Capacity units per call while CONCURRENCY clients share one key, through the counting proxy: the units of the
 * dynamo section are of calls made one at a time, when the key item is small; here it carries a lease per call in
 * flight, and every write of it (admission, settlement) is billed on its size then.
 */
async function unitsUnderLoad(c: Ctx, seconds: number): Promise<Record<'admin' | 'user', { rcu: number; wcu: number; line: string }>> {
  const out = {} as Record<'admin' | 'user', { rcu: number; wcu: number; line: string }>;
  for (const role of ['admin', 'user'] as const) {
    const key = c.inst.keys[role];
    await load(c, 'warm-up', 1, () => gatewayStream(c.inst.url, key, c.agent));
    await c.inst.proxy.idle();
    c.inst.proxy.calls.length = 0;
    c.inst.proxy.recording = true;
    const run = await load(c, `units, ${role} key, through the counting proxy`, seconds, () => gatewayStream(c.inst.url, key, c.agent));
    await c.inst.proxy.idle(); // the settlements of the last calls
    c.inst.proxy.recording = false;
    const calls = c.inst.proxy.calls.splice(0);
    const sum = (f: (x: (typeof calls)[number]) => number) => calls.reduce((t, x) => t + f(x), 0);
    const rcu = run.completed ? sum((x) => x.rcu) / run.completed : NaN;
    const wcu = run.completed ? sum((x) => x.wcu) / run.completed : NaN;
    out[role] = { rcu: round(rcu, 2), wcu: round(wcu, 2), line: `${rcu.toFixed(2)} R / ${wcu.toFixed(2)} W` };
  }
  c.report.json.unitsUnderLoad = out;
  return out;
}
