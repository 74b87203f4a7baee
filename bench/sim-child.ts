/**
 * The Bedrock simulator in a process of its own (as the real service is remote), so its work does not share
 * an event loop with the clients or the gateway. The parent sets the default script over IPC.
 *
 * It serves several named instances (one listener each, same process, same scripts): one per kind of client
 * (the gateway, the direct SDK client with its defaults, ...) and per transport (cleartext h2c, or TLS with the
 * certificate in BENCH_TLS_CERT / BENCH_TLS_KEY), so that HTTP/2 sessions opened and calls served can be counted
 * per client at the simulator itself.
 */
import { readFileSync } from 'node:fs';
import { startBedrockSimulator, type BedrockSimulator, type Script } from '../local/bedrock-simulator/index.js';

interface Instance {
  sim: BedrockSimulator;
  /** Calls recorded before the periodic reset cleared them. */
  servedBefore: number;
}

const instances = new Map<string, Instance>();
let defaultScript: Script | undefined;

const certFile = process.env.BENCH_TLS_CERT;
const keyFile = process.env.BENCH_TLS_KEY;
const tls = certFile && keyFile ? { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') } : undefined;

/** Sessions opened and calls served so far, per instance. */
export interface SimCounts {
  [name: string]: { sessions: number; calls: number };
}

async function start(name: string, secure: boolean): Promise<string> {
  if (secure && !tls) throw new Error('TLS asked for, but BENCH_TLS_CERT / BENCH_TLS_KEY are not set');
  const sim = await startBedrockSimulator(secure ? { tls } : {});
  if (secure && !sim.url.startsWith('https:')) {
    await sim.close();
    throw new Error('this simulator has no TLS option (local/bedrock-simulator: BedrockSimulatorOptions.tls)');
  }
  if (defaultScript) sim.setDefault(defaultScript);
  instances.set(name, { sim, servedBefore: 0 });
  return sim.url;
}

const counts = (): SimCounts =>
  Object.fromEntries(
    [...instances.entries()].map(([name, i]) => [name, { sessions: i.sim.sessionsOpened, calls: i.servedBefore + i.sim.requests.length }]),
  );

/** A request from the parent over IPC. */
interface ParentMessage {
  type?: string;
  id?: number;
  script?: Script;
  name?: string;
  tls?: boolean;
}

process.on('message', (m: ParentMessage | undefined) => {
  const answer = (reply: unknown) => process.send?.({ id: m?.id, reply });
  const fail = (e: unknown) => process.send?.({ id: m?.id, error: (e as Error).message });
  try {
    if (m?.type === 'start') {
      void start(String(m.name), m.tls === true).then(answer, fail);
    } else if (m?.type === 'setDefault') {
      defaultScript = m.script!;
      for (const i of instances.values()) i.sim.setDefault(defaultScript);
      answer(true);
    } else if (m?.type === 'counts') {
      answer(counts());
    } else {
      fail(new Error(`unknown message ${JSON.stringify(m)}`));
    }
  } catch (e) {
    fail(e);
  }
});

// Keep the recorded-request lists from growing during long runs (their length is added to the served count first).
setInterval(() => {
  for (const i of instances.values()) {
    i.servedBefore += i.sim.requests.length;
    i.sim.reset();
  }
}, 2000).unref();

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await Promise.all([...instances.values()].map((i) => i.sim.close()));
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('disconnect', () => void stop());
process.send?.({ type: 'ready', tls: tls !== undefined });
