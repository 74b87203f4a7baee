/**
 * Faults: calls through the gateway while DynamoDB and Bedrock faults are injected (issue 11), and what the books
 * say after. The run lives in bench/faults-child.ts, one process owning the gateway, the fault-injecting DynamoDB
 * proxy, the simulator and the in-process settlement retrier; this section starts it on the in-memory DynamoDB
 * Local (a table of its own) and prints what it found.
 *
 * How each count is made:
 * - answered: a 200 whose content is the call's own scripted answer, whole (a stream: every delta, `[DONE]`, no
 *   error frame); refused: anything else, by cause — a 503 whose call never reached the simulator (a store fault
 *   before the upstream), a 429 after the simulator throttled it, other;
 * - settled in-line / late: an answered call with exactly one thread, whose settlement was not / was handed to the
 *   deferred path (localRetrier.add, watched in the child) — late ones are applied by the retrier, on its own
 *   timer while the run goes on or when it is flushed once the store is back;
 * - lost: an answered call with no thread or a thread without a fee once the retrier is empty, plus each key whose
 *   total_fee grew by less than the sum of its threads' fees;
 * - double-charged: every thread beyond a call's first, a charged thread of a refused call or of no call of the
 *   run, plus each key whose total_fee grew by more than the sum of its threads' fees.
 */
import { N, progress, type Report, type Verdict } from '../lib/bench.js';
import { startChild } from '../lib/child.js';
import { ms, table } from '../lib/stats.js';
import type { CallOutcome, FaultsResult } from '../faults-child.js';

/** Money is compared as JSON numbers (fees of 1e-4 $ here): closer than this is equal. */
const FEE_TOLERANCE = 1e-9;
const CONCURRENCY = 16;

export interface FaultsFigures {
  attempted: number;
  answered: number;
  refused: { store: number; throttled: number; other: number };
  settledInline: number;
  settledLate: number;
  lost: number;
  doubleCharged: number;
}

export async function sectionFaults(report: Report, env: NodeJS.ProcessEnv, dynamoEndpoint: string): Promise<FaultsFigures> {
  const print = report.section('faults');
  const calls = N.faults;
  progress(`faults: ${calls} calls, ${CONCURRENCY} at a time, with DynamoDB and Bedrock faults injected`);
  const child = await startChild(
    'faults-child.ts',
    { ...env, AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint, TABLE_NAME: `bench-faults-${process.pid}` },
    'gateway (faults)',
  );
  let r: FaultsResult;
  try {
    r = await child.call<FaultsResult>({ type: 'run', calls, concurrency: CONCURRENCY });
  } finally {
    await child.stop();
  }

  const c = r.calls;
  const answered = c.filter((o) => o.answered);
  const refused = c.filter((o) => !o.answered);
  const count = (xs: CallOutcome[], f: (o: CallOutcome) => boolean) => xs.filter(f).length;
  const onBooks = (o: CallOutcome) => o.threads === 1 && o.fee > 0;

  const lostCalls = count(answered, (o) => o.threads === 0 || o.fee <= 0);
  const short = r.keys.filter((k) => k.deltaFee < k.threadFees - FEE_TOLERANCE);
  const over = r.keys.filter((k) => k.deltaFee > k.threadFees + FEE_TOLERANCE);
  const extraThreads = c.reduce((n, o) => n + Math.max(0, o.threads - 1), 0);
  const chargedRefusals = count(refused, (o) => o.fee > 0);
  const strayCharged = r.strayFee > 0 ? r.strayThreads : 0;
  const figures: FaultsFigures = {
    attempted: c.length,
    answered: answered.length,
    refused: {
      store: count(refused, (o) => o.cause === 'store'),
      throttled: count(refused, (o) => o.cause === 'throttled'),
      other: count(refused, (o) => o.cause === 'other'),
    },
    settledInline: count(answered, (o) => onBooks(o) && !o.deferred),
    settledLate: count(answered, (o) => onBooks(o) && o.deferred),
    lost: lostCalls + short.length,
    doubleCharged: extraThreads + chargedRefusals + strayCharged + over.length,
  };

  print(`== Faults: ${c.length} calls, ${r.concurrency} at a time, while DynamoDB and Bedrock fail (issue 11) ==`);
  print(`   one gateway process with its own DynamoDB proxy (faults per call: its settlement transaction, or the item of a key`);
  print(`   only its scenario uses) and simulator (ThrottlingException / ServiceUnavailableException before the first byte);`);
  print(
    `   store client: ${r.store.attempts} SDK attempts, ${r.store.timeoutMs} ms per call; half the calls stream. Calls took ${ms(r.wallMs, 0)}; the`,
  );
  print(`   retrier was empty ${ms(r.drainMs, 0)} after the store came back. Faults injected: ${fmtInjected(r.injected)}`);
  const rows: string[][] = [['scenario', 'calls', 'answered', 'store 503', 'Bedrock 429', 'other', 'deferred', 'threads', 'expected']];
  r.scenarios.forEach((s, i) => {
    const of = c.filter((o) => o.scenario === i);
    if (!of.length) return;
    const expected = s.expect === 'answered' ? count(of, (o) => o.answered) : count(of, (o) => !o.answered && o.status === s.expect);
    rows.push([
      s.name,
      String(of.length),
      String(count(of, (o) => o.answered)),
      String(count(of, (o) => o.cause === 'store')),
      String(count(of, (o) => o.cause === 'throttled')),
      String(count(of, (o) => o.cause === 'other')),
      String(count(of, (o) => o.deferred)),
      String(of.reduce((n, o) => n + o.threads, 0)),
      `${s.expect === 'answered' ? 'answered' : s.expect}: ${expected}/${of.length}`,
    ]);
  });
  print(table(rows));
  const others = refused.filter((o) => o.cause === 'other');
  if (others.length) {
    const statuses = new Map<number, number>();
    for (const o of others) statuses.set(o.status, (statuses.get(o.status) ?? 0) + 1);
    print(`   refused, other: ${[...statuses].map(([s, n]) => `${n} × ${s || 'no answer'}`).join(', ')}; first: ${others[0].error ?? ''}`);
  }
  const unexpected = c.filter((o) => {
    const want = r.scenarios[o.scenario].expect;
    return want === 'answered' ? !o.answered : o.answered || o.status !== want;
  });
  for (const o of unexpected.slice(0, 4))
    print(
      `   not as expected: ${r.scenarios[o.scenario].name}${o.stream ? ', streamed' : ''}: ${o.status || 'no answer'} after ${ms(o.ms, 0)}, ` +
        `${o.upstreamCalls} Bedrock request(s): ${(o.error ?? '').slice(0, 160)}`,
    );
  const noRetryAfter = count(refused, (o) => (o.status === 503 || o.status === 429) && !o.retryAfter);
  print(
    `   refused with 503/429 but no retry-after: ${noRetryAfter}; refused calls on the books (status error, no fee): ${count(refused, (o) => o.threads > 0)}`,
  );
  print(
    table([
      ['key', 'threads', 'Σ thread fees', 'Δ total_fee', 'leases left', 'reserved'],
      ...r.keys.map((k) => [k.name, String(k.threads), k.threadFees.toFixed(6), k.deltaFee.toFixed(6), String(k.leases), k.reserved]),
    ]),
  );
  if (r.pendingAtEnd) print(`   MISS: ${r.pendingAtEnd} deferred settlement(s) still pending after the store came back`);
  if (figures.lost)
    print(
      `   MISS: LOST ${figures.lost}: ${lostCalls} answered call(s) not on the books, ${short.length} key(s) charged less than their threads`,
    );
  if (figures.doubleCharged)
    print(
      `   MISS: DOUBLE-CHARGED ${figures.doubleCharged}: ${extraThreads} extra thread(s), ${chargedRefusals} refused call(s) charged, ` +
        `${strayCharged} stray charged thread(s), ${over.length} key(s) charged more than their threads`,
    );
  if (child.stderrLines) print(`   the faults gateway wrote ${child.stderrLines} stderr line(s); first: ${child.stderr[0] ?? ''}`);
  print();

  report.json.faults = figures;
  const zero = (n: number): Verdict => (n === 0 ? 'PASS' : 'MISS');
  const rowsOut: Array<{ figure: string; user: string; goal?: string; verdict?: Verdict }> = [
    { figure: `faults: calls attempted (${r.concurrency} concurrent)`, user: String(figures.attempted) },
    { figure: 'faults: answered', user: String(figures.answered) },
    {
      figure: 'faults: refused: store fault 503 before the upstream / upstream throttled 429 / other',
      user: `${figures.refused.store} / ${figures.refused.throttled} / ${figures.refused.other}`,
    },
    {
      figure: 'faults: settled in-line / settled late (deferred, then applied)',
      user: `${figures.settledInline} / ${figures.settledLate}`,
    },
    {
      figure: 'faults: reservations left on keys after the run (they expire with their lease)',
      user: String(r.keys.reduce((n, k) => n + Math.max(0, k.leases), 0)),
    },
    { figure: 'faults: lost (answered, not on the books)', user: loud(figures.lost), goal: '0', verdict: zero(figures.lost) },
    { figure: 'faults: double-charged', user: loud(figures.doubleCharged), goal: '0', verdict: zero(figures.doubleCharged) },
  ];
  rowsOut.forEach((row, i) => report.add({ rank: 100 + i, ...row }));
  return figures;
}

const loud = (n: number) => (n === 0 ? '0' : `${n} !!! MISS`);

function fmtInjected(injected: FaultsResult['injected']): string {
  const parts = Object.entries(injected).map(([k, n]) => `${n} ${k}`);
  return parts.length ? parts.join(', ') : 'none';
}
