/**
 * The faults run of `npm run bench` (bench/sections/faults.ts), in a process of its own that owns everything a
 * fault touches: the gateway (local/server.ts, in this process so that its in-process settlement retrier —
 * lambdas/core/billing/deferred.ts, localRetrier — can be watched and flushed), the fault-injecting DynamoDB proxy
 * in front of DynamoDB Local (local/dynamodb-proxy.ts) and the Bedrock simulator with scripted failures.
 *
 * Each call gets a scenario (a fixed mix, shuffled with a fixed seed) and carries a marker `fault-call-<n>` in its
 * prompt, so the simulator and the proxy can fail that very call, and its thread can be found in the books after:
 * - settlement faults: proxy rules on TransactWriteItems whose body holds `CHARGE#` and the call's input tokens;
 * - faults before the upstream (key lookup, admission): proxy rules on the item of a key used by that scenario only
 *   (its hash is in the GetItem / UpdateItem body);
 * - upstream faults: the simulator's script for the marker (ThrottlingException / ServiceUnavailableException
 *   before the first byte, once or every time).
 * At the end the store comes back (every rule lifted), the retrier is flushed until it is empty, and the books are
 * read through the admin API: threads per call, fees, and each key's total_fee.
 */
import { hashApiKey } from '../lambdas/core/key-material.js';
import { localRetrier } from '../lambdas/core/billing/deferred.js';
import { getKeyById } from '../lambdas/core/store/keys.js';
import { script, startBedrockSimulator, type Script, type ScriptRequest } from '../local/bedrock-simulator/index.js';
import { startDynamoDbProxy, type FaultKind, type FaultRule } from '../local/dynamodb-proxy.js';
import { ensureTable } from '../local/table.js';
import type { GetRoutes, PostRoutes } from '../test/support/api.js';

// ---------------------------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------------------------

type Upstream = 'throttle-once' | 'throttled' | 'unavailable';

interface Scenario {
  name: string;
  /** Calls per 200. */
  weight: number;
  /** What the simulator does with this call. */
  upstream?: Upstream;
  /** Proxy rules on the settlement transaction of this call. */
  settle?: Omit<FaultRule, 'match' | 'ops'>;
  /** Proxy rules on the item of this scenario's own key (before the upstream). */
  key?: Omit<FaultRule, 'match'>;
  /** What the call should see: answered, or refused with this status. */
  expect: 'answered' | 503 | 429;
}

/** The store's SDK attempts per call in this run (DYNAMODB_MAX_ATTEMPTS; the deployed default). */
const STORE_ATTEMPTS = 3;
/**
 * Per-call DynamoDB limit in this run (deployed: 5000 ms; shorter here so that a hang costs little, but not so
 * short that a busy machine's DynamoDB Local times out on its own).
 */
const STORE_TIMEOUT_MS = 1000;
/** In-line settlement attempts before a settlement is deferred (deferred.ts INLINE_ATTEMPTS). */
const INLINE_ATTEMPTS = 4;
const ALWAYS = 1_000_000;

const SCENARIOS: Scenario[] = [
  { name: 'no fault', weight: 60, expect: 'answered' },
  // After the answer: the settlement transaction of this call fails, is slow, hangs, or lands with its answer lost.
  { name: 'settlement 500 ×2 (SDK retries)', weight: 12, settle: { kind: 'server-error', times: 2 }, expect: 'answered' },
  {
    name: 'settlement 500 ×4 (in-line retry)',
    weight: 10,
    settle: { kind: 'server-error', times: STORE_ATTEMPTS + 1 },
    expect: 'answered',
  },
  {
    name: 'settlement fails in-line, then heals (deferred)',
    weight: 8,
    settle: { kind: 'server-error', times: INLINE_ATTEMPTS * STORE_ATTEMPTS + 1 },
    expect: 'answered',
  },
  {
    name: 'settlement fails until the store is back (deferred)',
    weight: 8,
    settle: { kind: 'server-error', times: ALWAYS },
    expect: 'answered',
  },
  { name: 'settlement written, answer lost (reset)', weight: 10, settle: { kind: 'reset-after-write', times: 1 }, expect: 'answered' },
  { name: 'settlement hangs once (timeout)', weight: 6, settle: { kind: 'hang', times: 1 }, expect: 'answered' },
  { name: 'settlement +300 ms', weight: 6, settle: { kind: 'latency', ms: 300, times: 1 }, expect: 'answered' },
  // Before the upstream: the key lookup or the admission of this scenario's key fails.
  {
    name: 'key lookup throttled once (SDK retries)',
    weight: 10,
    key: { ops: ['GetItem'], kind: 'throttle', times: 1 },
    expect: 'answered',
  },
  { name: 'key lookup throttled', weight: 10, key: { ops: ['GetItem'], kind: 'throttle', times: STORE_ATTEMPTS }, expect: 503 },
  { name: 'key lookup 500', weight: 8, key: { ops: ['GetItem'], kind: 'server-error', times: STORE_ATTEMPTS }, expect: 503 },
  { name: 'key lookup connection reset', weight: 8, key: { ops: ['GetItem'], kind: 'reset', times: STORE_ATTEMPTS }, expect: 503 },
  { name: 'key lookup hangs (timeout)', weight: 6, key: { ops: ['GetItem'], kind: 'hang', times: STORE_ATTEMPTS }, expect: 503 },
  { name: 'admission 500', weight: 8, key: { ops: ['UpdateItem'], kind: 'server-error', times: STORE_ATTEMPTS }, expect: 503 },
  // Bedrock refuses before the first byte.
  { name: 'Bedrock throttles once', weight: 12, upstream: 'throttle-once', expect: 'answered' },
  { name: 'Bedrock throttles every attempt', weight: 10, upstream: 'throttled', expect: 429 },
  { name: 'Bedrock unavailable every attempt', weight: 8, upstream: 'unavailable', expect: 503 },
];

/** The scenario of each call: the mix scaled to `calls` (each scenario at least once), shuffled with a fixed seed. */
function plan(calls: number): number[] {
  const out: number[] = [];
  SCENARIOS.forEach((s, i) => {
    if (i === 0) return;
    for (let k = 0; k < Math.max(1, Math.round((s.weight * calls) / 200)); k++) out.push(i);
  });
  out.length = Math.min(out.length, calls);
  while (out.length < calls) out.push(0);
  let seed = 0x9e3779b9;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const markerOf = (n: number) => `fault-call-${String(n).padStart(5, '0')}`;
const MARKER = /fault-call-(\d{5})/;
const callOf = (text: string): number | undefined => {
  const m = MARKER.exec(text);
  return m ? Number(m[1]) : undefined;
};

// ---------------------------------------------------------------------------------------------------------------
// What the parent gets back
// ---------------------------------------------------------------------------------------------------------------

export interface CallOutcome {
  scenario: number;
  stream: boolean;
  status: number;
  answered: boolean;
  /** Refusal cause: a store fault before the upstream (503, Bedrock never saw the call), Bedrock throttling (429), or other. */
  cause?: 'store' | 'throttled' | 'other';
  retryAfter: boolean;
  /** Bedrock requests the call made (attempts). */
  upstreamCalls: number;
  /** Its settlement was handed to the deferred path (localRetrier). */
  deferred: boolean;
  threads: number;
  /** Sum of the fees of its threads. */
  fee: number;
  ms: number;
  error?: string;
}

export interface FaultsResult {
  /** The scenarios (CallOutcome.scenario indexes them) and what each call of one should see. */
  scenarios: Array<{ name: string; expect: Scenario['expect'] }>;
  /** The store client's settings in this run. */
  store: { attempts: number; timeoutMs: number };
  calls: CallOutcome[];
  concurrency: number;
  wallMs: number;
  /** Time from the last answer until the retrier was empty (store back, flushed). */
  drainMs: number;
  /** Deferred settlements still pending when the run gave up waiting (they count as lost if their call has no thread). */
  pendingAtEnd: number;
  /** Faults the proxy injected, by kind. */
  injected: Partial<Record<FaultKind, number>>;
  /** Per key: Δ total_fee, Σ thread fees, threads, and what is still reserved on it. */
  keys: Array<{ name: string; deltaFee: number; threadFees: number; threads: number; leases: number; reserved: string }>;
  /** Threads whose prompt names no call of the run. */
  strayThreads: number;
  strayFee: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Set-up: table, proxy, simulator, gateway, keys
// ---------------------------------------------------------------------------------------------------------------

const tableName = process.env.TABLE_NAME!;
await ensureTable(tableName);
const proxy = await startDynamoDbProxy(process.env.AWS_ENDPOINT_URL_DYNAMODB!);
proxy.recording = true;

/** Bedrock requests seen per call. */
const upstreamSeen = new Map<number, number>();
let scenarioOfCall: number[] = [];
const sim = await startBedrockSimulator();
sim.setDefault((req: ScriptRequest): Script => {
  const n = callOf(JSON.stringify(req.body.messages ?? ''));
  if (n === undefined) return script.text('no marker');
  const seen = (upstreamSeen.get(n) ?? 0) + 1;
  upstreamSeen.set(n, seen);
  const up = SCENARIOS[scenarioOfCall[n] ?? 0].upstream;
  if (up === 'throttled' || (up === 'throttle-once' && seen === 1)) return script.error('ThrottlingException');
  if (up === 'unavailable') return script.error('ServiceUnavailableException');
  return script.text(`answer ${markerOf(n)}`, { usage: { inputTokens: 100 + n, outputTokens: 20 } });
});
// Keep the simulator's own request log from growing.
setInterval(() => sim.reset(), 2000).unref();

Object.assign(process.env, {
  AWS_ENDPOINT_URL_DYNAMODB: proxy.url,
  AWS_ENDPOINT_URL_BEDROCK_RUNTIME: sim.url,
  DYNAMODB_MAX_ATTEMPTS: String(STORE_ATTEMPTS),
  DYNAMODB_REQUEST_TIMEOUT_MS: String(STORE_TIMEOUT_MS),
  DYNAMODB_CONNECT_TIMEOUT_MS: String(STORE_TIMEOUT_MS),
});
const { startLocalGateway } = await import('../local/server.js');
const gw = await startLocalGateway({ port: 0, host: '127.0.0.1' });
const adminKey = process.env.ADMIN_API_KEY!;

async function adminPost<P extends keyof PostRoutes>(path: P, body: unknown): Promise<PostRoutes[P]> {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { success?: boolean; data: PostRoutes[P] };
  if (!res.ok || !json.success) throw new Error(`${path}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json.data;
}

async function adminGet<P extends keyof GetRoutes>(path: P, query: string): Promise<GetRoutes[P]> {
  const res = await fetch(`${gw.url}${path}?${query}`, { headers: { authorization: `Bearer ${adminKey}` } });
  const json = (await res.json()) as { success?: boolean; data: GetRoutes[P] };
  if (!res.ok || !json.success) throw new Error(`${path}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json.data;
}

const model = await adminPost('/admin/model/save', {
  name: 'faults',
  config: { modelId: 'anthropic.claude-3-haiku-20240307-v1:0' },
  provider: 'bedrock-converse',
  price_in: 1,
  price_out: 1,
});
interface BenchKey {
  name: string;
  id: number;
  secret: string;
}
async function newKey(name: string, extra: Record<string, unknown> = {}): Promise<BenchKey> {
  const k = await adminPost('/admin/api-key/apply', {
    name,
    role: 'user',
    email: '',
    month_quota: 1_000_000,
    balance: 1_000_000,
    ...extra,
  });
  await adminPost('/admin/api-key/bind-model', { key_id: k.id, model_id: model.id });
  return { name, id: k.id, secret: k.api_key };
}
// Calls without key faults alternate between a plain key and one with limits (set, never reached); each scenario
// with faults on its key item has a key of its own, so that its rules hit its calls only.
const shared = [
  await newKey('faults-user'),
  await newKey('faults-limited', { rpm_limit: 1_000_000, tpm_limit: 1_000_000_000, max_parallel: 1000 }),
];
const keyOfScenario = new Map<number, BenchKey>();
for (const [i, s] of SCENARIOS.entries()) if (s.key) keyOfScenario.set(i, await newKey(`faults-${i}`));
const allKeys = [...shared, ...keyOfScenario.values()];

/** Calls whose settlement went to the deferred path. */
const deferredCalls = new Set<number>();
const addJob = localRetrier.add.bind(localRetrier);
localRetrier.add = (job) => {
  const n = callOf(job.record.prompt);
  if (n !== undefined) deferredCalls.add(n);
  addJob(job);
};

// ---------------------------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------------------------

/** The proxy rules of call `n`'s scenario, injected as the call starts. */
function arm(n: number, key: BenchKey): void {
  const s = SCENARIOS[scenarioOfCall[n]];
  // The settlement transaction holds no prompt (the thread is written beside it): it is told by the call's input
  // tokens, which its script makes unique (100 + n), in the statistics update.
  const tokensIn = `":i":{"N":"${100 + n}"}`;
  if (s.settle) proxy.inject({ ...s.settle, ops: ['TransactWriteItems'], match: (b) => b.includes('CHARGE#') && b.includes(tokensIn) });
  if (s.key) {
    const hash = hashApiKey(key.secret);
    proxy.inject({ ...s.key, match: (b) => b.includes(hash) });
  }
}

/** One call: answered means a 200 whose content is this call's scripted answer, whole, with no error frame. */
async function call(n: number, stream: boolean): Promise<CallOutcome> {
  const sIdx = scenarioOfCall[n];
  const key = keyOfScenario.get(sIdx) ?? shared[n % 2];
  arm(n, key);
  const t0 = performance.now();
  const out: CallOutcome = {
    scenario: sIdx,
    stream,
    status: 0,
    answered: false,
    retryAfter: false,
    upstreamCalls: 0,
    deferred: false,
    threads: 0,
    fee: 0,
    ms: 0,
  };
  try {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'faults', stream, messages: [{ role: 'user', content: `${markerOf(n)} say something` }] }),
      signal: AbortSignal.timeout(60_000),
    });
    out.status = res.status;
    out.retryAfter = Number(res.headers.get('retry-after')) > 0;
    const text = await res.text();
    const expected = `answer ${markerOf(n)}`;
    if (res.status === 200 && !stream) {
      const body = JSON.parse(text) as { choices?: Array<{ message?: { content?: string } }> };
      out.answered = body.choices?.[0]?.message?.content === expected;
      if (!out.answered) out.error = `unexpected body ${text.slice(0, 120)}`;
    } else if (res.status === 200) {
      let content = '';
      let done = false;
      for (const line of text.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        if (data === '[DONE]') {
          done = true;
          continue;
        }
        const frame = JSON.parse(data) as { error?: { message?: string }; choices?: Array<{ delta?: { content?: string } }> };
        if (frame.error) out.error = frame.error.message ?? 'error frame';
        content += frame.choices?.[0]?.delta?.content ?? '';
      }
      out.answered = done && !out.error && content === expected;
      if (!out.answered) out.error ??= `stream ended ${done ? 'with' : 'without'} [DONE], content ${JSON.stringify(content.slice(0, 60))}`;
    } else {
      out.error = text.slice(0, 160);
    }
  } catch (e) {
    out.error = (e as Error).message;
  }
  out.ms = performance.now() - t0;
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(calls: number, concurrency: number): Promise<FaultsResult> {
  scenarioOfCall = plan(calls);
  proxy.calls.length = 0;
  const before = new Map<number, number>();
  for (const k of allKeys) before.set(k.id, (await keyRow(k.id)).total_fee);

  const t0 = performance.now();
  const outcomes: CallOutcome[] = new Array<CallOutcome>(calls);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, calls) }, async () => {
      for (let n = next++; n < calls; n = next++) outcomes[n] = await call(n, n % 2 === 1);
    }),
  );
  const wallMs = performance.now() - t0;

  // Every invocation returns once its settlement is written or deferred; then the store comes back.
  await gw.idle();
  const tDrain = performance.now();
  proxy.clear();
  const injected: Partial<Record<FaultKind, number>> = {};
  for (const c of proxy.calls) if (c.fault) injected[c.fault] = (injected[c.fault] ?? 0) + 1;
  proxy.recording = false;
  for (let i = 0; localRetrier.size > 0 && i < 60; i++) {
    await localRetrier.flush();
    if (localRetrier.size > 0) await sleep(500);
  }
  const drainMs = performance.now() - tDrain;

  // The books: every thread of every key, matched to its call by the marker in its prompt.
  let strayThreads = 0;
  let strayFee = 0;
  const keys: FaultsResult['keys'] = [];
  for (const k of allKeys) {
    let threadFees = 0;
    let threads = 0;
    for (let offset = 0; ;) {
      const page = await adminGet('/admin/thread/list', `key_id=${k.id}&limit=200&offset=${offset}`);
      for (const t of page.items) {
        threads++;
        threadFees += t.fee;
        const n = callOf(t.prompt);
        if (n === undefined || n >= calls) {
          strayThreads++;
          strayFee += t.fee;
          continue;
        }
        outcomes[n].threads++;
        outcomes[n].fee += t.fee;
      }
      offset += page.items.length;
      if (page.items.length === 0 || offset >= page.total) break;
    }
    const stored = await getKeyById(k.id);
    keys.push({
      name: k.name,
      deltaFee: (await keyRow(k.id)).total_fee - before.get(k.id)!,
      threadFees,
      threads,
      leases: stored?.leases.size ?? -1,
      reserved: String(stored?.reserved ?? '?'),
    });
  }

  for (const [n, o] of outcomes.entries()) {
    o.upstreamCalls = upstreamSeen.get(n) ?? 0;
    o.deferred = deferredCalls.has(n);
    if (!o.answered)
      o.cause = o.status === 503 && o.upstreamCalls === 0 ? 'store' : o.status === 429 && o.upstreamCalls > 0 ? 'throttled' : 'other';
  }
  return {
    scenarios: SCENARIOS.map((x) => ({ name: x.name, expect: x.expect })),
    store: { attempts: STORE_ATTEMPTS, timeoutMs: STORE_TIMEOUT_MS },
    calls: outcomes,
    concurrency,
    wallMs,
    drainMs,
    pendingAtEnd: localRetrier.size,
    injected,
    keys,
    strayThreads,
    strayFee,
  };
}

async function keyRow(id: number): Promise<GetRoutes['/admin/api-key/list']['items'][number]> {
  const row = (await adminGet('/admin/api-key/list', 'limit=1000')).items.find((k) => k.id === id);
  if (!row) throw new Error(`key ${id} not listed`);
  return row;
}

// ---------------------------------------------------------------------------------------------------------------
// IPC
// ---------------------------------------------------------------------------------------------------------------

const stop = async () => {
  await gw.close();
  await proxy.close();
  await sim.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('disconnect', () => void stop());
/** A request from the parent over IPC. */
interface ParentMessage {
  type?: string;
  id?: number;
  calls?: number;
  concurrency?: number;
}
process.on('message', (m: ParentMessage | undefined) => {
  if (m?.type === 'run') {
    run(m.calls ?? 40, m.concurrency ?? 16).then(
      (reply) => process.send?.({ id: m.id, reply }),
      (e: Error) => process.send?.({ id: m.id, error: e.stack ?? e.message }),
    );
  } else process.send?.({ id: m?.id, error: 'unknown message' });
});
process.send?.({ type: 'ready', url: gw.url });
