import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The one JSON line gateway.ts prints when it is ready. */
interface GatewayReady {
  url: string;
  adminKey: string;
}

/**
 * Builds nothing (npm run test:console builds first) but checks that a build exists, then starts the gateway
 * process and hands its URL and admin key to the specs through the environment. Returns the teardown.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!existsSync(join(ROOT, 'console', 'dist', 'index.html'))) {
    throw new Error('console/dist is missing: run `npm run build` (npm run test:console does it for you).');
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'console/e2e/gateway.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = await new Promise<GatewayReady>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the test gateway did not start within 90 s:\n${output}`)), 90_000);
    child.stdout.on('data', (b: Buffer) => {
      output += b.toString();
      const line = output.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        ok(JSON.parse(line) as GatewayReady);
      }
    });
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`the test gateway exited (${code}):\n${output}`));
    });
  });
  process.env.CONSOLE_E2E_URL = ready.url;
  process.env.CONSOLE_E2E_ADMIN_KEY = ready.adminKey;
  return async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((ok) => child.once('exit', ok));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((ok) => setTimeout(ok, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
}
