import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * A helper process (simulator, gateway) run as `node --import tsx <file>` with an IPC channel. It reports
 * `{type:'ready', ...}` once listening and answers `{id, ...}` requests with `{id, reply}`.
 */
export interface Child {
  proc: ChildProcess;
  ready: Record<string, unknown>;
  /** The last lines the child wrote to stderr (kept for the report). */
  stderr: string[];
  stderrLines: number;
  call<T = unknown>(msg: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

/** What a child sends over IPC: `{type:'ready', ...}` once, then `{id, reply}` or `{id, error}` answers. */
interface Message {
  [field: string]: unknown;
  type?: unknown;
  id?: unknown;
  reply?: unknown;
  error?: string;
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function startChild(file: string, env: NodeJS.ProcessEnv, name: string): Promise<Child> {
  // BENCH_CPU_PROF=<dir>: each gateway process writes a V8 CPU profile there when it stops (open it in Chrome DevTools).
  const prof =
    process.env.BENCH_CPU_PROF && file === 'gateway-child.ts' ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const proc = spawn(process.execPath, [...prof, '--import', 'tsx', fileURLToPath(new URL(`../${file}`, import.meta.url))], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const stderr: string[] = [];
  let stderrLines = 0;
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (d: string) => {
    for (const l of d.split('\n')) {
      if (!l.trim()) continue;
      stderrLines++;
      if (stderr.length < 8) stderr.push(l.slice(0, 300));
    }
  });
  let nextId = 1;
  const pending = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  proc.on('message', (m: Message | undefined) => {
    if (m && typeof m.id === 'number' && pending.has(m.id)) {
      const p = pending.get(m.id)!;
      pending.delete(m.id);
      if (m.error) p.fail(new Error(`${name}: ${m.error}`));
      else p.ok(m.reply);
    }
  });
  proc.on('exit', () => {
    for (const p of pending.values()) p.fail(new Error(`${name} exited`));
    pending.clear();
  });

  const ready = await new Promise<Record<string, unknown>>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not start within 60 s\n${stderr.join('\n')}`)), 60_000);
    const onMsg = (m: Message | undefined) => {
      if (m?.type === 'ready') {
        clearTimeout(timer);
        proc.off('message', onMsg);
        ok(m);
      }
    };
    proc.on('message', onMsg);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${name} exited with code ${code} before it was ready\n${stderr.join('\n')}`));
    });
  });

  return {
    proc,
    ready,
    stderr,
    get stderrLines() {
      return stderrLines;
    },
    call<T>(msg: Record<string, unknown>): Promise<T> {
      const id = nextId++;
      return new Promise<T>((ok, fail) => {
        // The child answers with what the message asked for: the caller names its type.
        pending.set(id, { ok: (v) => ok(v as T), fail });
        proc.send({ ...msg, id });
      });
    },
    stop: () =>
      new Promise<void>((done) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return done();
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        proc.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        proc.kill('SIGTERM');
      }),
  };
}
