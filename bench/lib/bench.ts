/** What the bench's sections share: run sizes, goals, the report, and the processes and clients they drive. */
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { Script } from '../../local/bedrock-simulator/index.js';
import type { PostRoutes } from '../../test/support/api.js';
import type { SimCounts } from '../sim-child.js';
import type { Child } from './child.js';
import { cpuUse, formatCpu, load1, sampleCpu, type CpuSample } from './cpu.js';
import type { CountingProxy } from './ddb-proxy.js';

/** `BENCH_QUICK=1` or `--quick`: every section with tiny counts (a smoke run of a minute or so; figures meaningless). */
export const QUICK = process.env.BENCH_QUICK === '1' || process.argv.includes('--quick');

const n = (envName: string, full: number, quick: number) => Number(process.env[envName] ?? (QUICK ? quick : full));

/** Run sizes; each may be overridden by its environment variable. */
export const N = {
  /** Rounds of the paired chat-completions latency run (h2c and TLS). */
  ttfb: n('BENCH_TTFB_N', 300, 15),
  /** Rounds of the /v1/messages and /v1/responses run. */
  wire: n('BENCH_WIRE_N', 150, 10),
  /** Rounds of the limits run (user key with and without limits). */
  limits: n('BENCH_LIMITS_N', 150, 10),
  /** Unmeasured rounds before each latency run. */
  warmup: n('BENCH_WARMUP', 30, 3),
  /** Seconds of each 64-client load run. */
  loadSeconds: n('BENCH_LOAD_SECONDS', 8, 1.5),
  /** Calls per key and mode through the counting proxy. */
  dynamo: n('BENCH_DYNAMO_N', 20, 3),
  /** Cold imports per bundle (with and without source maps). */
  coldRuns: n('BENCH_COLD_RUNS', 5, 1),
  /** Slow-upstream streams for chunk spacing. */
  spacingStreams: n('BENCH_SPACING_N', 5, 1),
  /** Text chunks of the long stream of the memory section. */
  longStreamChunks: n('BENCH_LONG_CHUNKS', 4000, 300),
  /** Calls of the faults run (16 at a time, with DynamoDB and Bedrock faults injected). */
  faults: n('BENCH_FAULTS_N', 200, 40),
};

export const CONCURRENCY = 64;

/**
 * The goals the bench checks, as README states them (README's performance goals are issue 12's; the chunk
 * spacing and bundle size ones are README's older table).
 */
export const GOAL = {
  gatewayCpuMsPerCall: 3,
  addedTtftAdminP50: 2,
  addedTtftAdminP99: 8,
  addedTtftUserP50: 3,
  /** Over TLS the gateway should beat a default direct SDK call: paired added TTFB p50 below zero. */
  tlsAddedTtfbP50: 0,
  wholeAnswerOverDirectP50: 3,
  userWcuPerCall: 6,
  userRcuPerCall: 2,
  /** 64 clients, in-memory DynamoDB Local: ≥ 2× the reference's 113–120 req/s. */
  inMemoryReqPerSec: 240,
  spacingDevMs: 5,
  chatBundleBytes: 1.5 * 1024 * 1024,
} as const;

export type Verdict = 'PASS' | 'MISS' | 'info' | 'n/a';

export const atMost = (value: number, max: number): Verdict => (!Number.isFinite(value) ? 'n/a' : value <= max ? 'PASS' : 'MISS');
export const atLeast = (value: number, min: number): Verdict => (!Number.isFinite(value) ? 'n/a' : value >= min ? 'PASS' : 'MISS');
/** PASS only when every part passes; n/a when one could not be measured. */
export const all = (...vs: Verdict[]): Verdict => (vs.includes('n/a') ? 'n/a' : vs.includes('MISS') ? 'MISS' : 'PASS');

// ---------------------------------------------------------------------------------------------------------------

export const progress = (msg: string): void => {
  process.stderr.write(`[bench ${(performance.now() / 1000).toFixed(1)}s] ${msg}\n`);
};

/** The report: printed blocks keyed by section (sections run in one order and print in another), and the summary. */
export class Report {
  private readonly blocks = new Map<string, string[]>();
  readonly json: Record<string, unknown> = {};
  private readonly rows: Array<{ rank: number; cells: string[] }> = [];

  /** A printer for the lines of section `key`. */
  section(key: string): (s?: string) => void {
    const lines = this.blocks.get(key) ?? [];
    this.blocks.set(key, lines);
    return (s = '') => {
      lines.push(s);
    };
  }

  lines(key: string): string[] {
    return this.blocks.get(key) ?? [];
  }

  /** A row of the final side-by-side table; rows print by `rank` (then in the order added), whatever ran first. */
  add(row: { rank: number; figure: string; direct?: string; admin?: string; user?: string; goal?: string; verdict?: Verdict }): void {
    this.rows.push({
      rank: row.rank,
      cells: [row.figure, row.direct ?? '–', row.admin ?? '–', row.user ?? '–', row.goal ?? '', row.verdict ?? 'info'],
    });
  }

  get summary(): string[][] {
    return [...this.rows].sort((a, b) => a.rank - b.rank).map((r) => r.cells);
  }
}

// ---------------------------------------------------------------------------------------------------------------

export const ADMIN_KEY = 'br-bench-admin-key-0123456789abcdefghij';

export interface Keys {
  admin: string;
  /** A user key with a big quota and no rate limits. */
  user: string;
  /** The same with rpm_limit, tpm_limit and max_parallel set (never reached by the bench). */
  limited: string;
}

/** A gateway process (bench/gateway-child.ts) and what it talks to. */
export interface Gateway {
  name: string;
  url: string;
  child: Child;
  pid: number | undefined;
  /** The simulator instance it calls (for its session counts). */
  sim: string;
  /** The DynamoDB Local (java) process it uses, for CPU accounting. */
  dynamoPid: number | undefined;
  /** Keys valid on its table. */
  keys: Keys;
}

export type Mark = [time: number, kind: string, detail?: string];

interface Instrumented extends Gateway {
  proxy: CountingProxy;
  /** The gateway's trace since the last call (its own performance.now() clock). */
  trace: () => Promise<Mark[]>;
}

/** Direct SDK clients at one simulator endpoint, each with a simulator instance of its own (for session counts). */
export interface Direct {
  /** `new BedrockRuntimeClient({ endpoint })`, everything else default. */
  default: BedrockRuntimeClient;
  /** The same with kept-alive, shared sessions. */
  shared: BedrockRuntimeClient;
  simDefault: string;
  simShared: string;
}

export interface Ctx {
  report: Report;
  agent: http.Agent;
  setScript: (s: Script) => Promise<unknown>;
  simCounts: () => Promise<SimCounts>;
  simPid: number | undefined;
  /** The in-memory DynamoDB Local the main gateways use. */
  dynamoEndpoint: string;
  /** The URL of a (new) named h2c simulator instance, playing the default script. */
  simUrl: (name: string) => Promise<string>;
  /** h2c simulator, in-memory DynamoDB Local: the main subject. */
  gw: Gateway;
  /** The same calling the TLS simulator (undefined when TLS could not be set up). */
  gwTls?: Gateway;
  /** h2c simulator, on-disk DynamoDB Local (as `npm start` runs it). */
  gwDisk: Gateway;
  /** Through the capacity-counting DynamoDB proxy (in-memory DynamoDB Local), traced. */
  inst: Instrumented;
  direct: Direct;
  directTls?: Direct;
  /** Why TLS is off, when it is. */
  tlsNote: string;
  /** One more gateway process on the in-memory DynamoDB Local and the h2c simulator. */
  startGateway: (name: string) => Promise<Gateway>;
}

/** CPU of the named processes around a piece of work. */
export function cpuWatch(pids: Record<string, number | undefined>): {
  stop(): Record<string, number>;
  line(): string;
  /** CPU ms of each process, per call, after stop(). */
  perCall(calls: number): Record<string, number>;
} {
  const a: CpuSample = sampleCpu(pids);
  const l0 = load1();
  let u: Record<string, number> | undefined;
  let wallMs = 0;
  let l1 = l0;
  return {
    stop() {
      const b = sampleCpu(pids);
      wallMs = b.at - a.at;
      u = cpuUse(a, b);
      l1 = load1();
      return u;
    },
    line: () => `CPU: ${formatCpu(u ?? {})}; load average ${l0} → ${l1}`,
    perCall: (calls) =>
      Object.fromEntries(
        Object.entries(u ?? {})
          .filter(([k]) => k !== 'capacity')
          .map(([k, pct]) => [k, ((pct / 100) * wallMs) / Math.max(1, calls)]),
      ),
  };
}

/** The model, and two user keys with a big quota bound to it (one without limits, one with). */
export async function provision(gwUrl: string): Promise<Keys> {
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
  const key = async (name: string, extra: Record<string, unknown>) => {
    const k = await post('/admin/api-key/apply', { name, role: 'user', email: '', month_quota: 1_000_000, balance: 1_000_000, ...extra });
    await post('/admin/api-key/bind-model', { key_id: k.id, model_id: model.id });
    return k.api_key;
  };
  return { admin: ADMIN_KEY, user: await key('bench-user', {}), limited: await key('bench-user-limited', LIMITS) };
}

/** The limited key's limits: set, checked on every call, never reached by the bench. */
export const LIMITS = { rpm_limit: 1_000_000, tpm_limit: 1_000_000_000, max_parallel: 1000 };

/** Splits a trace of sequential requests into one list per request (each begins with its 'in' mark). */
export function splitRequests(marks: Mark[]): Mark[][] {
  const reqs: Mark[][] = [];
  for (const m of marks) {
    if (m[1] === 'in') reqs.push([m]);
    else reqs[reqs.length - 1]?.push(m);
  }
  return reqs;
}
