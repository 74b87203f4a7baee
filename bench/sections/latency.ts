/**
 * Latency, one call at a time, paired: every round runs the direct SDK call(s) and the gateway call(s) back to
 * back, so each gateway call is compared with a direct call made a few milliseconds earlier on the same machine.
 */
import { performance } from 'node:perf_hooks';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { script, type Script } from '../../local/bedrock-simulator/index.js';
import { GOAL, LIMITS, N, all, atMost, cpuWatch, progress, type Ctx, type Direct, type Gateway } from '../lib/bench.js';
import type { SimCounts } from '../sim-child.js';
import {
  chatBody,
  directInvokeStream,
  directStream,
  gatewayCall,
  gatewayStream,
  messagesBody,
  responsesBody,
  type StreamResult,
} from '../lib/clients.js';
import { ms, round, summarize, table } from '../lib/stats.js';

export const SHORT_SCRIPT: Script = script.text('Hello from the benchmark simulator.', {
  chunkSize: 8,
  usage: { inputTokens: 5, outputTokens: 9 },
});

const TTFB_N = N.ttfb;
const WIRE_N = N.wire;
const LIMITS_N = N.limits;
const WARMUP = N.warmup;

type Call = () => Promise<StreamResult>;

/** Runs `n` rounds of the calls in order (after `warmup` unmeasured rounds); results by name, index = round. */
async function rounds(
  n: number,
  warmup: number,
  calls: Record<string, Call>,
): Promise<{ by: Record<string, StreamResult[]>; ok: number[] }> {
  const names = Object.keys(calls);
  for (let i = 0; i < warmup; i++) for (const k of names) await calls[k]();
  const by: Record<string, StreamResult[]> = Object.fromEntries(names.map((k) => [k, []]));
  for (let i = 0; i < n; i++) for (const k of names) by[k].push(await calls[k]());
  const ok = [...Array(n).keys()].filter((i) => names.every((k) => by[k][i].ok));
  return { by, ok };
}

type Metric = 'ttfb' | 'ttft' | 'total';

const values = (rs: StreamResult[], ok: number[], m: Metric) => ok.map((i) => rs[i][m]);
const diffs = (a: StreamResult[], b: StreamResult[], ok: number[], m: Metric) => ok.map((i) => a[i][m] - b[i][m]);

/** p50 / p99 cells of a metric for one client, or of the paired difference of two. */
function cells(ms2: number[][]): string[] {
  return ms2.flatMap((xs) => {
    const s = summarize(xs);
    return [ms(s.p50), ms(s.p99)];
  });
}

const perCall = (before: SimCounts, after: SimCounts, name: string) => {
  const s = (after[name]?.sessions ?? 0) - (before[name]?.sessions ?? 0);
  const c = (after[name]?.calls ?? 0) - (before[name]?.calls ?? 0);
  return { sessions: s, calls: c, perCall: c ? s / c : Number.NaN, text: c ? `${(s / c).toFixed(3)} (${s}/${c})` : 'n/a' };
};

/** Figures the summary and other sections read. */
export interface LatencyFigures {
  [transport: string]: {
    addedTtfbAdmin: { p50: number; p99: number };
    addedTtfbUser: { p50: number; p99: number };
    addedTtftAdmin: { p50: number; p99: number };
    addedTtftUser: { p50: number; p99: number };
    addedTotalAdmin: { p50: number; p99: number };
    addedTotalUser: { p50: number; p99: number };
    addedTtfbAdminShared: { p50: number; p99: number };
    directTtfbP50: number;
    directTotalP50: number;
    directSessionsPerCall: number;
    gatewaySessionsPerCall: number;
    sharedSessionsPerCall: number;
  };
}

// ---------------------------------------------------------------------------------------------------------------

/** Chat completions, streaming: TTFB, TTFT and last byte against the direct SDK, h2c and (when on) TLS. */
export async function sectionChat(c: Ctx): Promise<LatencyFigures> {
  const print = c.report.section('chat');
  await c.setScript(SHORT_SCRIPT);
  const modes: Array<{ name: string; gw: Gateway; direct: Direct }> = [{ name: 'h2c', gw: c.gw, direct: c.direct }];
  if (c.gwTls && c.directTls) modes.push({ name: 'TLS', gw: c.gwTls, direct: c.directTls });
  const calls: Record<string, Call> = {};
  for (const m of modes) {
    calls[`${m.name} direct default`] = () => directStream(m.direct.default);
    calls[`${m.name} direct shared`] = () => directStream(m.direct.shared);
    calls[`${m.name} admin`] = () => gatewayStream(m.gw.url, m.gw.keys.admin, c.agent);
    calls[`${m.name} user`] = () => gatewayStream(m.gw.url, m.gw.keys.user, c.agent);
  }
  progress(
    `latency: chat completions, ${WARMUP} warm-up + ${TTFB_N} rounds of ${Object.keys(calls).length} calls (${modes.map((m) => m.name).join(' + ')})`,
  );
  // Warm-up outside the session count: the first call of each client opens its session(s).
  await rounds(0, WARMUP, calls);
  const watch = cpuWatch({
    gateway: c.gw.pid,
    'gateway (TLS)': c.gwTls?.pid,
    'DynamoDB Local': c.gw.dynamoPid,
    simulator: c.simPid,
    'bench clients': process.pid,
  });
  const before = await c.simCounts();
  const { by, ok } = await rounds(TTFB_N, 0, calls);
  const after = await c.simCounts();
  watch.stop();
  const cpuPerCall = watch.perCall(2 * TTFB_N); // each gateway served an admin and a user call per round

  const hop = await quietRoundTrips(c.dynamoEndpoint);

  const figures: LatencyFigures = {};
  const rows: string[][] = [
    ['Bedrock', 'client', 'TTFB p50', 'TTFB p99', 'TTFT p50', 'TTFT p99', 'last byte p50', 'last byte p99', 'new sessions/call'],
  ];
  const metrics: Metric[] = ['ttfb', 'ttft', 'total'];
  for (const m of modes) {
    const d = by[`${m.name} direct default`];
    const sh = by[`${m.name} direct shared`];
    const a = by[`${m.name} admin`];
    const u = by[`${m.name} user`];
    const sd = perCall(before, after, m.direct.simDefault);
    const ss = perCall(before, after, m.direct.simShared);
    const sg = perCall(before, after, m.gw.sim);
    rows.push([m.name, 'direct SDK, default client', ...cells(metrics.map((x) => values(d, ok, x))), sd.text]);
    rows.push(['', 'direct SDK, shared sessions', ...cells(metrics.map((x) => values(sh, ok, x))), ss.text]);
    rows.push(['', 'gateway, admin key', ...cells(metrics.map((x) => values(a, ok, x))), `${sg.text} (admin+user)`]);
    rows.push(['', 'gateway, user key', ...cells(metrics.map((x) => values(u, ok, x))), '']);
    rows.push(['', '  added: admin − direct default', ...cells(metrics.map((x) => diffs(a, d, ok, x))), '']);
    rows.push(['', '  added: user − direct default', ...cells(metrics.map((x) => diffs(u, d, ok, x))), '']);
    rows.push(['', '  added: admin − direct shared', ...cells(metrics.map((x) => diffs(a, sh, ok, x))), '']);
    rows.push(['', '  added: user − direct shared', ...cells(metrics.map((x) => diffs(u, sh, ok, x))), '']);
    const s = (xs: number[]) => {
      const q = summarize(xs);
      return { p50: round(q.p50), p99: round(q.p99) };
    };
    figures[m.name] = {
      addedTtfbAdmin: s(diffs(a, d, ok, 'ttfb')),
      addedTtfbUser: s(diffs(u, d, ok, 'ttfb')),
      addedTtftAdmin: s(diffs(a, d, ok, 'ttft')),
      addedTtftUser: s(diffs(u, d, ok, 'ttft')),
      addedTotalAdmin: s(diffs(a, d, ok, 'total')),
      addedTotalUser: s(diffs(u, d, ok, 'total')),
      addedTtfbAdminShared: s(diffs(a, sh, ok, 'ttfb')),
      directTtfbP50: round(summarize(values(d, ok, 'ttfb')).p50),
      directTotalP50: round(summarize(values(d, ok, 'total')).p50),
      directSessionsPerCall: round(sd.perCall),
      gatewaySessionsPerCall: round(sg.perCall),
      sharedSessionsPerCall: round(ss.perCall),
    };
  }
  const failed = Object.entries(by).flatMap(([k, rs]) => rs.filter((r) => !r.ok).map((r) => `${k}: ${r.error ?? r.status}`));
  print(`== Chat completions, streaming, one call at a time: ${ok.length} rounds (after ${WARMUP} warm-up), paired against direct ==`);
  print('   each round, back to back: direct SDK (default client), direct SDK (shared sessions), gateway admin key, gateway user key');
  print(
    `   ${modes.length > 1 ? 'then the same against the TLS simulator' : `TLS rows skipped: ${c.tlsNote}`}; "added" rows are paired differences (p50/p99 of gateway − direct within a round)`,
  );
  print(
    '   TTFB = first SSE frame with role/content (gateway) / first event, messageStart (SDK); TTFT = first text delta; last byte = end of response',
  );
  print(
    '   direct default = new BedrockRuntimeClient({ endpoint }) made once, reused; shared = the same with kept-alive shared HTTP/2 sessions',
  );
  print(table(rows));
  if (failed.length) print(`   failed calls: ${failed.length} (first: ${failed[0]})`);
  print(`   ${watch.line()}`);
  print(
    `   the machine's share: a GetItem from this process to this DynamoDB Local takes ${ms(hop.busy)} (p50) back to back and ` +
      `${ms(hop.quiet)} after ${QUIET_MS} ms of quiet (+${ms(hop.quiet - hop.busy)});`,
  );
  print(
    "   each gateway call here follows other clients' calls, so its key read or admission write meets a DynamoDB Local woken from idle",
  );
  const cpuMs = (k: string) => (Number.isFinite(cpuPerCall[k]) ? `${cpuPerCall[k].toFixed(2)} ms` : 'n/a');
  print(
    `   CPU per gateway call, one at a time: gateway ${cpuMs('gateway')}${c.gwTls ? `, gateway (TLS) ${cpuMs('gateway (TLS)')}` : ''}; ` +
      `DynamoDB Local ${(cpuPerCall['DynamoDB Local'] / modes.length).toFixed(2)} ms (shared by the ${modes.length} gateways)`,
  );
  print();
  c.report.add({
    rank: 12,
    figure: 'gateway process CPU per streamed call, one at a time (h2c)',
    admin: `${cpuMs('gateway')} (admin + user)`,
    user: '(same process)',
  });
  c.report.json.chat = figures;
  c.report.json.dynamoRoundTrip = { busyP50: round(hop.busy), quietP50: round(hop.quiet) };
  return figures;
}

const QUIET_MS = 40;

/**
 * One GetItem's round trip from this process to DynamoDB Local, p50, back to back and after QUIET_MS of nothing: how
 * much of a gateway call's added time on this machine is processes waking up rather than work.
 */
async function quietRoundTrips(endpoint: string): Promise<{ busy: number; quiet: number }> {
  // As the gateway's store client: one resolved middleware stack per command class.
  const client = new DynamoDBClient({ endpoint, cacheMiddleware: true });
  const get = new GetItemCommand({ TableName: process.env.TABLE_NAME, Key: { pk: { S: 'BENCH#none' }, sk: { S: 'BENCH#none' } } });
  const once = async () => {
    const t0 = performance.now();
    await client.send(get);
    return performance.now() - t0;
  };
  try {
    for (let i = 0; i < 500; i++) await once(); // the SDK's code warm, as in a gateway that has served a while
    const busy: number[] = [];
    for (let i = 0; i < 200; i++) busy.push(await once());
    const quiet: number[] = [];
    for (let i = 0; i < (N.ttfb >= 100 ? 100 : 10); i++) {
      await new Promise((r) => setTimeout(r, QUIET_MS));
      quiet.push(await once());
    }
    return { busy: summarize(busy).p50, quiet: summarize(quiet).p50 };
  } finally {
    client.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** Time to first token on /v1/messages and /v1/responses, paired against the call the gateway itself makes. */
export type WireFigures = Record<string, { addedTtftAdmin: P; addedTtftUser: P; addedTtfbAdmin: P; addedTtfbUser: P }>;
type P = { p50: number; p99: number };

export async function sectionWires(c: Ctx): Promise<WireFigures> {
  const print = c.report.section('wires');
  await c.setScript(SHORT_SCRIPT);
  const calls: Record<string, Call> = {
    'invoke direct': () => directInvokeStream(c.direct.default),
    'messages admin': () => gatewayCall(c.gw.url, 'messages', c.gw.keys.admin, c.agent, messagesBody()),
    'messages user': () => gatewayCall(c.gw.url, 'messages', c.gw.keys.user, c.agent, messagesBody()),
    'converse direct': () => directStream(c.direct.default),
    'responses admin': () => gatewayCall(c.gw.url, 'responses', c.gw.keys.admin, c.agent, responsesBody()),
    'responses user': () => gatewayCall(c.gw.url, 'responses', c.gw.keys.user, c.agent, responsesBody()),
  };
  progress(`latency: /v1/messages and /v1/responses, ${WARMUP} warm-up + ${WIRE_N} rounds of 6 calls`);
  const { by, ok } = await rounds(WIRE_N, WARMUP, calls);
  const metrics: Metric[] = ['ttfb', 'ttft', 'total'];
  const rows: string[][] = [['wire API', 'client', 'TTFB p50', 'TTFB p99', 'TTFT p50', 'TTFT p99', 'last byte p50', 'last byte p99']];
  const json: WireFigures = {};
  for (const [wire, direct, label] of [
    ['messages', 'invoke direct', 'direct SDK InvokeModelWithResponseStream'],
    ['responses', 'converse direct', 'direct SDK ConverseStream'],
  ] as const) {
    const d = by[direct];
    const a = by[`${wire} admin`];
    const u = by[`${wire} user`];
    rows.push([`/v1/${wire}`, label, ...cells(metrics.map((x) => values(d, ok, x)))]);
    rows.push(['', 'gateway, admin key', ...cells(metrics.map((x) => values(a, ok, x)))]);
    rows.push(['', 'gateway, user key', ...cells(metrics.map((x) => values(u, ok, x)))]);
    rows.push(['', '  added: admin − direct', ...cells(metrics.map((x) => diffs(a, d, ok, x)))]);
    rows.push(['', '  added: user − direct', ...cells(metrics.map((x) => diffs(u, d, ok, x)))]);
    const s = (xs: number[]) => {
      const q = summarize(xs);
      return { p50: round(q.p50), p99: round(q.p99) };
    };
    json[wire] = {
      addedTtftAdmin: s(diffs(a, d, ok, 'ttft')),
      addedTtftUser: s(diffs(u, d, ok, 'ttft')),
      addedTtfbAdmin: s(diffs(a, d, ok, 'ttfb')),
      addedTtfbUser: s(diffs(u, d, ok, 'ttfb')),
    };
  }
  const failed = Object.entries(by).flatMap(([k, rs]) => rs.filter((r) => !r.ok).map((r) => `${k}: ${r.error ?? r.status}`));
  print(`== /v1/messages and /v1/responses, streaming, one call at a time: ${ok.length} rounds (after ${WARMUP} warm-up), h2c, paired ==`);
  print('   paired with the Bedrock call the gateway makes for it: InvokeModelWithResponseStream (Claude natively) for messages,');
  print('   ConverseStream for responses; direct = the default SDK client');
  print('   TTFB = message_start / response.created (gateway), first chunk / first event (SDK); TTFT = first content_block_delta /');
  print('   response.output_text.delta (gateway), first text delta (SDK); last byte = end of response');
  print(table(rows));
  if (failed.length) print(`   failed calls: ${failed.length} (first: ${failed[0]})`);
  print();
  c.report.json.wires = json;
  return json;
}

// ---------------------------------------------------------------------------------------------------------------

export interface LimitsLatency {
  /** Paired TTFB p50 / p99: limited key − unlimited key. */
  limitedMinusUser: { p50: number; p99: number };
}

/** A user key with rpm/tpm/max_parallel limits against the same kind of key without, both paired with direct. */
export async function sectionLimits(c: Ctx): Promise<LimitsLatency> {
  const print = c.report.section('limits');
  await c.setScript(SHORT_SCRIPT);
  const calls: Record<string, Call> = {
    direct: () => directStream(c.direct.default),
    user: () => gatewayStream(c.gw.url, c.gw.keys.user, c.agent, chatBody()),
    limited: () => gatewayStream(c.gw.url, c.gw.keys.limited, c.agent, chatBody()),
  };
  progress(`latency: limits, ${WARMUP} warm-up + ${LIMITS_N} rounds (direct, user key, user key with limits)`);
  const { by, ok } = await rounds(LIMITS_N, WARMUP, calls);
  const metrics: Metric[] = ['ttfb', 'ttft', 'total'];
  const rows: string[][] = [
    ['client', 'TTFB p50', 'TTFB p99', 'TTFT p50', 'TTFT p99', 'last byte p50', 'last byte p99'],
    ['direct SDK, default client', ...cells(metrics.map((x) => values(by.direct, ok, x)))],
    ['gateway, user key without limits', ...cells(metrics.map((x) => values(by.user, ok, x)))],
    ['gateway, user key with limits', ...cells(metrics.map((x) => values(by.limited, ok, x)))],
    ['  added: no limits − direct', ...cells(metrics.map((x) => diffs(by.user, by.direct, ok, x)))],
    ['  added: limits − direct', ...cells(metrics.map((x) => diffs(by.limited, by.direct, ok, x)))],
    ['  cost of limits: limits − no limits', ...cells(metrics.map((x) => diffs(by.limited, by.user, ok, x)))],
  ];
  const failed = Object.entries(by).flatMap(([k, rs]) => rs.filter((r) => !r.ok).map((r) => `${k}: ${r.error ?? r.status}`));
  print(`== Cost of limits: ${ok.length} rounds (after ${WARMUP} warm-up), chat completions streaming, h2c, paired ==`);
  print(`   limits = ${JSON.stringify(LIMITS)} (checked on every call, never reached)`);
  print(table(rows));
  if (failed.length) print(`   failed calls: ${failed.length} (first: ${failed[0]})`);
  print();
  const q = summarize(diffs(by.limited, by.user, ok, 'ttfb'));
  const figures = { limitedMinusUser: { p50: round(q.p50), p99: round(q.p99) } };
  c.report.json.limits = figures;
  return figures;
}

// ---------------------------------------------------------------------------------------------------------------

const pair = (x: { p50: number; p99: number }) => `${ms(x.p50)} / ${ms(x.p99)}`;

/** Rows of the side-by-side table from the latency sections. */
export function summarizeLatency(c: Ctx, chat: LatencyFigures, wires: WireFigures): void {
  const r = c.report;
  const ttftVerdict = (f: { addedTtftAdmin: { p50: number; p99: number }; addedTtftUser: { p50: number } }) =>
    all(
      atMost(f.addedTtftAdmin.p50, GOAL.addedTtftAdminP50),
      atMost(f.addedTtftAdmin.p99, GOAL.addedTtftAdminP99),
      atMost(f.addedTtftUser.p50, GOAL.addedTtftUserP50),
    );
  const ttftGoal = `admin ≤ ${GOAL.addedTtftAdminP50} / ${GOAL.addedTtftAdminP99} ms, user p50 ≤ ${GOAL.addedTtftUserP50} ms`;
  for (const [mode, f] of Object.entries(chat)) {
    r.add({
      rank: mode === 'TLS' ? 32 : 30,
      figure: `added TTFB over direct, chat, ${mode}, p50 / p99`,
      direct: `${ms(f.directTtfbP50)} (TTFB p50)`,
      admin: pair(f.addedTtfbAdmin),
      user: pair(f.addedTtfbUser),
      goal: mode === 'TLS' ? `< ${GOAL.tlsAddedTtfbP50} ms p50 (faster than default SDK)` : '',
      verdict:
        mode === 'TLS'
          ? all(atMost(f.addedTtfbAdmin.p50, GOAL.tlsAddedTtfbP50), atMost(f.addedTtfbUser.p50, GOAL.tlsAddedTtfbP50))
          : 'info',
    });
    r.add({
      rank: mode === 'TLS' ? 33 : 31,
      figure: `added TTFT over direct, chat, ${mode}, p50 / p99`,
      admin: pair(f.addedTtftAdmin),
      user: pair(f.addedTtftUser),
      goal: ttftGoal,
      verdict: ttftVerdict(f),
    });
  }
  if (!chat.TLS)
    r.add({ rank: 32, figure: 'added TTFB / TTFT over direct, TLS', admin: 'skipped', user: 'skipped', goal: c.tlsNote, verdict: 'n/a' });
  for (const [wire, w] of Object.entries(wires)) {
    r.add({
      rank: 34,
      figure: `added TTFT over direct, /v1/${wire}, h2c, p50 / p99`,
      admin: pair(w.addedTtftAdmin),
      user: pair(w.addedTtftUser),
      goal: ttftGoal,
      verdict: ttftVerdict(w),
    });
  }
  const h = chat.h2c;
  r.add({
    rank: 40,
    figure: 'whole answer (last byte), chat, h2c: p50, added p50 / p99',
    direct: ms(h.directTotalP50),
    admin: pair(h.addedTotalAdmin),
    user: pair(h.addedTotalUser),
    goal: `p50 ≤ direct + ${GOAL.wholeAnswerOverDirectP50} ms`,
    verdict: all(atMost(h.addedTotalAdmin.p50, GOAL.wholeAnswerOverDirectP50), atMost(h.addedTotalUser.p50, GOAL.wholeAnswerOverDirectP50)),
  });
  const modes = Object.keys(chat);
  r.add({
    rank: 20,
    figure: `new Bedrock HTTP/2 sessions per call, one at a time (${modes.join(' / ')})`,
    direct: modes.map((m) => chat[m].directSessionsPerCall.toFixed(3)).join(' / '),
    admin: `${modes.map((m) => chat[m].gatewaySessionsPerCall.toFixed(3)).join(' / ')} (admin + user)`,
    user: '(same process)',
    goal: 'reused (≈ 0)',
    verdict: atMost(Math.max(...modes.map((m) => chat[m].gatewaySessionsPerCall)), 0.05),
  });
}
