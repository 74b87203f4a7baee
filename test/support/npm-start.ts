/**
 * `npm start` as a child process, for black-box tests: the product runs exactly as a user starts it
 * (`node --import tsx local/start.ts` with PORT, DATA_DIR and ADMIN_API_KEY, without AWS credentials) in its own
 * process group, and is driven only over HTTP. stopAllInstances() (in afterAll) leaves no process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const HEALTH_TIMEOUT_MS = 60_000;
export const EXIT_TIMEOUT_MS = 10_000;

export interface Instance {
  name: string;
  port: number;
  url: string;
  dataDir: string;
  adminKey?: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitInfo?: { code: number | null; signal: NodeJS.Signals | null };
}

const instances: Instance[] = [];
const tempDirs: string[] = [];

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

function freshDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `gw-npm-start-${tag}-`));
  tempDirs.push(dir);
  return dir;
}

/** The environment of a user who has no AWS credentials at all (the vitest worker's own AWS settings removed). */
function childEnv(port: number, dataDir: string, adminKey?: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('AWS_') || k.startsWith('VITEST') || k.startsWith('POWERTOOLS_')) continue;
    if (['TABLE_NAME', 'ADMIN_API_KEY', 'ADMIN_KEY_SECRET_ARN', 'NODE_ENV', 'TEST', 'LOG_LEVEL'].includes(k)) continue;
    env[k] = v;
  }
  Object.assign(env, {
    PORT: String(port),
    DATA_DIR: dataDir,
    AWS_EC2_METADATA_DISABLED: 'true',
    // no shared credentials/config files either, whatever the machine has in ~/.aws
    AWS_SHARED_CREDENTIALS_FILE: join(dataDir, 'no-such-aws-credentials'),
    AWS_CONFIG_FILE: join(dataDir, 'no-such-aws-config'),
  });
  if (process.env.AWS_CA_BUNDLE) env.AWS_CA_BUNDLE = process.env.AWS_CA_BUNDLE;
  if (adminKey) env.ADMIN_API_KEY = adminKey;
  return { ...env, ...extra };
}

export interface InstanceOptions {
  adminKey?: string;
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Default: a free port. */
  port?: number;
}

/** npm start's entry as a child, as startInstance, but not waited for: for starts that are meant to fail. */
export async function spawnInstance(name: string, opts: InstanceOptions = {}): Promise<Instance> {
  const port = opts.port ?? (await freePort());
  const dataDir = opts.dataDir ?? freshDir(name);
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    cwd: ROOT,
    env: childEnv(port, dataDir, opts.adminKey, opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group, so that afterAll can SIGKILL whatever is left of it
  });
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const inst: Instance = {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    dataDir,
    adminKey: opts.adminKey,
    child,
    output: () => out,
    exited: new Promise((res) =>
      child.once('exit', (code, signal) => {
        inst.exitInfo = { code, signal };
        res({ code, signal });
      }),
    ),
  };
  instances.push(inst);
  return inst;
}

/** npm start's entry as a child process, ready (GET /health 200). */
export async function startInstance(name: string, opts: InstanceOptions = {}): Promise<Instance> {
  const inst = await spawnInstance(name, opts);
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  for (;;) {
    if (inst.exitInfo) throw new Error(`${name} exited early (${JSON.stringify(inst.exitInfo)}):\n${inst.output()}`);
    try {
      const r = await fetch(`${inst.url}/health`, { signal: AbortSignal.timeout(2_000) });
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${name}: GET /health not 200 within ${HEALTH_TIMEOUT_MS} ms:\n${inst.output()}`);
    await sleep(200);
  }
  return inst;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Proc {
  pid: number;
  ppid: number;
  state: string;
  cmd: string;
}

function procTable(): Map<number, Proc> {
  const table = new Map<number, Proc>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      table.set(Number(entry), { pid: Number(entry), state: rest[0], ppid: Number(rest[1]), cmd });
    } catch {
      /* gone meanwhile */
    }
  }
  return table;
}

export function descendants(root: number): Proc[] {
  const table = procTable();
  const found: Proc[] = [];
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const p of table.values()) {
      if (p.ppid === parent) {
        found.push(p);
        queue.push(p.pid);
      }
    }
  }
  return found;
}

/** Still a live process (a zombie waiting to be reaped has exited already). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export function processesMentioning(text: string): Proc[] {
  return [...procTable().values()].filter((p) => p.state !== 'Z' && p.cmd.includes(text) && p.pid !== process.pid);
}

/** Stops every instance started in this file (SIGTERM, then SIGKILL to its process group) and removes temp dirs. */
export async function stopAllInstances(): Promise<void> {
  for (const inst of instances) {
    if (inst.exitInfo) continue;
    try {
      process.kill(inst.child.pid!, 'SIGTERM');
    } catch {
      /* gone */
    }
    const r = await Promise.race([inst.exited, sleep(EXIT_TIMEOUT_MS).then(() => 'timeout')]);
    if (r === 'timeout') {
      try {
        process.kill(-inst.child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  // anything of a group still alive (e.g. an orphaned DynamoDB Local) goes too
  for (const inst of instances) {
    try {
      process.kill(-inst.child.pid!, 'SIGKILL');
    } catch {
      /* group empty */
    }
  }
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}
