/**
 * DynamoDB work per call, through a proxy in front of DynamoDB Local that adds ReturnConsumedCapacity: INDEXES to
 * every request and sums the ConsumedCapacity of the answers: the calls made before the first byte, after it and
 * after the last byte, and the read and write capacity units per call; for the admin key, a user key and a user
 * key with limits, streaming and not. With the gateway's trace: where the time to first byte goes.
 */
import { GOAL, N, atMost, progress, splitRequests, type Ctx, type Mark } from '../lib/bench.js';
import { chatBody, gatewayCall, type StreamResult } from '../lib/clients.js';
import { startBiller } from '../lib/billing.js';
import type { DdbCall } from '../lib/ddb-proxy.js';
import { median, ms, round, table } from '../lib/stats.js';
import { SHORT_SCRIPT } from './latency.js';

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
  /** Last upstream read → response finished. */
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

interface Measured {
  r: StreamResult;
  before: DdbCall[];
  after: DdbCall[];
  /** Calls started after the client had the last byte (work after the answer, before the handler returns). */
  late: DdbCall[];
}

export interface DynamoFigures {
  [keyAndMode: string]: {
    rcu: number;
    wcu: number;
    /** Write units by DynamoDB's billing rules (lib/billing.ts), where DynamoDB Local reports fewer. */
    wcuBilled: number;
    indexUnits: number;
    refused: number;
    before: string;
    after: string;
    late: string;
    share: string;
  };
}

const sum = (xs: DdbCall[], f: (x: DdbCall) => number) => xs.reduce((n, x) => n + f(x), 0);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
const sig = (xs: DdbCall[]) => xs.map((x) => x.op).join(', ') || '–';
const u = (v: number) => (Number.isFinite(v) ? String(round(v, 2)) : 'n/a');

export async function sectionDynamo(c: Ctx): Promise<DynamoFigures> {
  const print = c.report.section('dynamo');
  progress('DynamoDB calls and capacity units per call, through the counting proxy, the gateway traced');
  await c.setScript(SHORT_SCRIPT);
  const inst = c.inst;
  const proxy = inst.proxy;
  const rows: string[][] = [
    [
      'key',
      'stream',
      'before first byte',
      'after first byte',
      'after last byte',
      'RCU/call',
      'WCU/call',
      "WCU/call, DynamoDB's rules",
      'of which index',
      'refused/call',
      'TTFB p50',
    ],
  ];
  const units: string[] = [];
  const figures: DynamoFigures = {};
  const breakdowns: Record<string, Breakdown[]> = {};
  const biller = await startBiller(c.dynamoEndpoint);
  for (const [label, key] of [
    ['admin', inst.keys.admin],
    ['user', inst.keys.user],
    ['user with limits', inst.keys.limited],
  ] as const) {
    for (const stream of [true, false]) {
      const call = () => gatewayCall(inst.url, 'chat', key, c.agent, chatBody('ping', stream));
      for (let i = 0; i < 3; i++) await call(); // warm
      await proxy.idle();
      await inst.trace(); // clear
      const measured: Measured[] = [];
      for (let i = 0; i < N.dynamo; i++) {
        proxy.calls = [];
        proxy.recording = true;
        const r = await call();
        await proxy.idle();
        proxy.recording = false;
        const fb = r.start + r.ttfb;
        const lb = r.start + r.total;
        const calls = proxy.calls.filter((x) => x.start >= r.start).sort((x, y) => x.start - y.start);
        measured.push({
          r,
          before: calls.filter((x) => x.start < fb),
          after: calls.filter((x) => x.start >= fb && x.start < lb),
          late: calls.filter((x) => x.start >= lb),
        });
      }
      const traced = splitRequests(await inst.trace());
      if (stream)
        breakdowns[label] = traced
          .map((req, i) => (measured[i] ? breakdown(req, measured[i].r) : undefined))
          .filter((b): b is Breakdown => b !== undefined);
      // The most common sequence is the representative one (a model/grant cache refresh adds a GetItem now and then).
      const counts = new Map<string, Measured[]>();
      for (const m of measured) {
        const k = `${sig(m.before)} | ${sig(m.after)} | ${sig(m.late)}`;
        counts.set(k, [...(counts.get(k) ?? []), m]);
      }
      const [common, like] = [...counts.entries()].sort((x, y) => y[1].length - x[1].length)[0];
      const [before, after, late] = common.split(' | ');
      const all3 = (m: Measured) => [...m.before, ...m.after, ...m.late];
      const rcu = mean(measured.map((m) => sum(all3(m), (x) => x.rcu)));
      const wcu = mean(measured.map((m) => sum(all3(m), (x) => x.wcu)));
      const indexUnits = mean(measured.map((m) => sum(all3(m), (x) => x.indexUnits)));
      const billed: number[] = [];
      for (const m of measured) billed.push(await biller.writeUnits(all3(m)));
      const wcuBilled = mean(billed);
      const failed = measured.filter((m) => !m.r.ok).length;
      const refused = mean(measured.map((m) => all3(m).filter((x) => x.status !== 200).length));
      rows.push([
        label,
        stream ? 'yes' : 'no',
        before,
        after,
        late,
        u(rcu),
        u(wcu),
        u(wcuBilled),
        u(indexUnits),
        u(refused),
        ms(median(measured.map((m) => m.r.ttfb))) + (failed ? ` (${failed} failed)` : ''),
      ]);
      const one = all3(like[0]);
      units.push(
        `   ${label}, ${stream ? 'streaming' : 'not streaming'} (${like.length}/${measured.length} calls had this sequence): ` +
          one
            .map(
              (x) =>
                `${x.op} ${x.rcu ? `${u(x.rcu)} R` : ''}${x.wcu ? `${u(x.wcu)} W` : ''}${x.rcu || x.wcu ? '' : '0'}${x.status === 200 ? '' : ` (HTTP ${x.status})`}`,
            )
            .join(', '),
      );
      figures[`${label}${stream ? '' : ', not streaming'}`] = {
        rcu: round(rcu, 2),
        wcu: round(wcu, 2),
        wcuBilled: round(wcuBilled, 2),
        indexUnits: round(indexUnits, 2),
        before,
        after,
        late,
        share: `${like.length}/${measured.length}`,
        refused: round(refused, 2),
      };
    }
  }
  biller.close();
  print(`== DynamoDB work per call: ${N.dynamo} sequential calls per row (warm), via a proxy adding ReturnConsumedCapacity ==`);
  print('   units are the mean per call of ConsumedCapacity as DynamoDB Local reports it (index writes included; transactions');
  print(
    '   at twice the rate; a model/grant cache refresh, every 5 s, adds a GetItem now and then); not streaming, the first byte\n   is the first byte of the whole body',
  );
  print("   DynamoDB's rules: what DynamoDB would bill for the same writes (bench/lib/billing.ts): each item of a transaction");
  print('   2 units per KB rounded up, where DynamoDB Local reports a transaction as one write of all its items');
  print(table(rows));
  print('   refused = DynamoDB calls answered with an error (a failed condition, a cancelled transaction): DynamoDB Local reports');
  print('   no units for them, DynamoDB bills them (a cancelled transaction its full write units), so units above are a floor');
  print('   units per DynamoDB call of the representative call:');
  for (const l of units) print(l);
  print();

  const seg = (name: string, f: (b: Breakdown) => number, note: string) => [
    name,
    ...['admin', 'user'].map((k) => ms(median((breakdowns[k] ?? []).map(f)))),
    note,
  ];
  print(
    `   Where the time to first byte goes (p50 of ${breakdowns.admin?.length ?? 0}/${breakdowns.user?.length ?? 0} traced streaming calls; DynamoDB here includes the proxy hop):`,
  );
  print(
    table([
      ['segment', 'admin', 'user', ''],
      seg('gateway code before upstream call', (b) => b.code, 'event, auth, zod, model cache, mapping (DynamoDB excluded)'),
      seg('DynamoDB SDK calls', (b) => b.ddbSdk, 'send → resolved'),
      seg('  of which HTTP round trip', (b) => b.ddbWire, 'rest = SDK marshalling, signing, middleware'),
      seg('Bedrock SDK send → HTTP/2 request', (b) => b.sdkOut, 'the direct client pays this too'),
      seg('upstream: request → first event', (b) => b.upstream, ''),
      seg('relay: first event → first SSE write', (b) => b.relay, 'event-stream decode, mapping, write'),
      seg('= inside the gateway', (b) => b.inGateway, ''),
      seg('outside (client ↔ gateway hop)', (b) => b.outside, 'client TTFB − inside: HTTP/1.1 hop, scheduling'),
      seg('last upstream event → response end', (b) => b.afterStream, 'what the last frame waits for (≤ 0: nothing)'),
    ]),
  );
  print();
  c.report.json.dynamo = figures;

  const cell = (k: string) =>
    figures[k]
      ? `${u(figures[k].rcu)} R / ${u(figures[k].wcu)} W${figures[k].refused ? ` (+${u(figures[k].refused)} refused)` : ''}`
      : 'n/a';
  const billedCell = (k: string) => (figures[k] ? `${u(figures[k].wcuBilled)} W` : 'n/a');
  for (const suffix of ['', ', not streaming']) {
    const user = figures[`user${suffix}`];
    c.report.add({
      rank: suffix ? 51 : 50,
      figure: `DynamoDB read / write units per call as DynamoDB Local reports them${suffix ? ', not streaming' : ', streaming'}`,
      admin: cell(`admin${suffix}`),
      user: cell(`user${suffix}`),
      // DynamoDB Local's write units undercount transactions: the write goal is judged on the billed row below.
      goal: `user ≤ ${GOAL.userRcuPerCall} R (W: by DynamoDB's rules, below)`,
      verdict: user ? atMost(user.rcu, GOAL.userRcuPerCall) : 'n/a',
    });
  }
  const billedUser = figures.user;
  c.report.add({
    rank: 52,
    figure: "DynamoDB write units per call by DynamoDB's billing rules (transaction items each, twice), streaming",
    admin: billedCell('admin'),
    user: billedCell('user'),
    goal: `user ≤ ${GOAL.userWcuPerCall} W`,
    verdict: billedUser ? atMost(billedUser.wcuBilled, GOAL.userWcuPerCall) : 'n/a',
  });
  c.report.add({
    rank: 52.5,
    figure: 'DynamoDB calls before first byte, streaming',
    admin: figures.admin?.before,
    user: figures.user?.before,
  });
  return figures;
}
