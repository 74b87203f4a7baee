/**
 * Chunk spacing for a slow upstream (text deltas 50 ms apart): inter-arrival at the client, gateway against direct,
 * and inside the traced gateway the delay from each upstream read to the SSE write it causes.
 */
import { script, type Script } from '../../local/bedrock-simulator/index.js';
import { GOAL, N, atMost, cpuWatch, progress, splitRequests, type Ctx, type Mark } from '../lib/bench.js';
import { chatBody, directStream, gatewayStream, type StreamResult } from '../lib/clients.js';
import { runQueueWaitMs } from '../lib/cpu.js';
import { median, ms, percentile, round, table } from '../lib/stats.js';
import { SHORT_SCRIPT } from './latency.js';

const SLOW_DELAY_MS = 50;
const SLOW_CHUNKS = 20;
const TEXT_200 = 'The quick brown fox jumps over the lazy dog. '.repeat(5).slice(0, 200);
const SLOW_SCRIPT: Script = script.text(TEXT_200, {
  chunkSize: 200 / SLOW_CHUNKS,
  delayMs: SLOW_DELAY_MS,
  usage: { inputTokens: 5, outputTokens: 50 },
});

function gaps(r: StreamResult): number[] {
  const g: number[] = [];
  for (let i = 1; i < r.arrivals.length; i++) g.push(r.arrivals[i] - r.arrivals[i - 1]);
  return g;
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

export async function sectionSpacing(c: Ctx): Promise<void> {
  const print = c.report.section('spacing');
  const inst = c.inst;
  const admin = c.gw.keys.admin;
  progress(`chunk spacing: ${SLOW_CHUNKS} chunks, ${SLOW_DELAY_MS} ms apart`);
  const body = chatBody();
  // The traced gateway is fresh: warm it (bootstrap, first connections, JIT) so its first stream is not a cold one.
  await c.setScript(SHORT_SCRIPT);
  for (let i = 0; i < Math.max(3, N.warmup / 2); i++) await gatewayStream(inst.url, admin, c.agent, body);
  await c.setScript(SLOW_SCRIPT);
  const watch = cpuWatch({ gateway: c.gw.pid, 'DynamoDB Local': c.gw.dynamoPid, simulator: c.simPid, 'bench clients': process.pid });
  const gw: StreamResult[] = [];
  const dr: StreamResult[] = [];
  const wait0 = runQueueWaitMs(c.gw.pid);
  for (let i = 0; i < N.spacingStreams; i++) gw.push(await gatewayStream(c.gw.url, admin, c.agent, body));
  const gwWait = runQueueWaitMs(c.gw.pid) - wait0;
  for (let i = 0; i < Math.min(3, N.spacingStreams); i++) dr.push(await directStream(c.direct.default));
  watch.stop();
  const cpuLine = watch.line();
  await inst.trace(); // clear
  const traced: StreamResult[] = [];
  for (let i = 0; i < Math.min(3, N.spacingStreams); i++) traced.push(await gatewayStream(inst.url, admin, c.agent, body));
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
  print(`== Chunk spacing: upstream sends ${SLOW_CHUNKS} text deltas ${SLOW_DELAY_MS} ms apart; inter-arrival at the client ==`);
  print(
    table([
      ['', 'intervals', 'min', 'p50', 'max', '|dev| p50', '|dev| p99', '|dev| max', 'goal'],
      row(`gateway (${gw.length} streams)`, gg, gd, `|dev| ≤ ${GOAL.spacingDevMs} ms`),
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
    `   text deltas only: max relay ${ms(Math.max(...textRelay), 3)} over ${textRelay.length} chunks (the end of the stream is not counted: its last frame may wait for settlement)`,
  );
  print();
  c.report.json.spacing = {
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
  c.report.add({
    rank: 90,
    figure: 'chunk spacing, 50 ms upstream: |deviation| p99 / max',
    direct: `${ms(percentile(dd, 99))} / ${ms(Math.max(...dd))}`,
    admin: `${ms(percentile(gd, 99))} / ${ms(Math.max(...gd))}`,
    goal: `≤ ${GOAL.spacingDevMs} ms (README)`,
    verdict: atMost(percentile(gd, 99), GOAL.spacingDevMs),
  });
}
