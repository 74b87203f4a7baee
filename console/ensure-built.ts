import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Makes sure console/dist is a build of the current sources: builds it (Vite, offline, a few seconds) when it is
 * missing or older than anything under console/src, index.html or the Vite config. Used by `npm start` (prestart)
 * and by the CDK synth (lib/constructs/console-site.ts), so neither serves nor deploys a stale or absent console.
 * Throws with the build's output when the build fails.
 */
const CONSOLE_DIR = fileURLToPath(new URL('./', import.meta.url));
export const CONSOLE_DIST = join(CONSOLE_DIR, 'dist');

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

export function consoleBuildIsCurrent(): boolean {
  const index = join(CONSOLE_DIST, 'index.html');
  if (!existsSync(index)) return false;
  const sources = ['src', 'index.html', 'vite.config.ts', 'package.json'].map((p) => join(CONSOLE_DIR, p)).filter((p) => existsSync(p));
  const built = statSync(index).mtimeMs;
  return sources.every((p) => newestMtime(p) <= built);
}

const LOCK = join(CONSOLE_DIR, '.build-lock');
const LOCK_STALE_MS = 5 * 60_000;

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Several processes (parallel test files, a synth) may ask at once: one builds, the others wait for it. */
function withBuildLock<T>(fn: () => T): T {
  const deadline = Date.now() + LOCK_STALE_MS;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > LOCK_STALE_MS) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        /* released meanwhile */
      }
      if (Date.now() > deadline) throw new Error(`Timed out waiting for another console build (${LOCK}).`);
      sleep(200);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

export function ensureConsoleBuilt(opts: { log?: (line: string) => void } = {}): string {
  if (consoleBuildIsCurrent()) return CONSOLE_DIST;
  return withBuildLock(() => (consoleBuildIsCurrent() ? CONSOLE_DIST : build(opts)));
}

function build(opts: { log?: (line: string) => void }): string {
  opts.log?.('console/dist is missing or older than its sources: building the console (npm run build -w console)…');
  const root = resolve(CONSOLE_DIR, '..');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', 'build', '-w', 'console'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0 || !existsSync(join(CONSOLE_DIST, 'index.html'))) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`.trim().slice(-4000);
    throw new Error(`Building the web console failed (npm run build -w console). Fix the build, or run it yourself first.\n${output}`);
  }
  return CONSOLE_DIST;
}

// `tsx console/ensure-built.ts` (npm's prestart): build when needed, say so, fail loudly.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    ensureConsoleBuilt({ log: (line) => console.log(line) });
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
