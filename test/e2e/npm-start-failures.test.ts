/**
 * `npm start` that cannot start fails kindly: one line that says what to do, a non-zero exit, and nothing left
 * behind — no DynamoDB Local `java` process, no admin key written that was never printed. Black box: npm start's
 * entry runs as a child process (test/support/npm-start.ts) and is judged by its output, exit code, files and the
 * process table.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EXIT_TIMEOUT_MS,
  freePort,
  type Instance,
  processesMentioning,
  sleep,
  spawnInstance,
  stopAllInstances,
} from '../support/npm-start.js';

const servers: Server[] = [];

afterAll(async () => {
  for (const s of servers) await new Promise<void>((done) => s.close(() => done()));
  await stopAllInstances();
}, 60_000);

/** Holds a loopback port the way another program would. */
async function occupiedPort(): Promise<number> {
  const port = await freePort();
  const server = createServer();
  servers.push(server);
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok());
  });
  return port;
}

/** Waits for the child to exit on its own (it must: a failed start does not hang). */
async function exitOf(inst: Instance) {
  const res = await Promise.race([inst.exited, sleep(60_000).then(() => 'timeout' as const)]);
  expect(res, `${inst.name} exits by itself:\n${inst.output()}`).not.toBe('timeout');
  return res as { code: number | null; signal: NodeJS.Signals | null };
}

/** Nothing of the failed start is still running: no process (java above all) mentions its DATA_DIR. */
async function nothingLeft(inst: Instance) {
  // a child killed a moment ago may still be on its way out
  for (let i = 0; i < EXIT_TIMEOUT_MS / 100 && processesMentioning(inst.dataDir).length > 0; i++) await sleep(100);
  expect(processesMentioning(inst.dataDir).map((p) => `${p.pid} ${p.cmd}`)).toEqual([]);
}

const oneLine = (inst: Instance) => inst.output().trim();

describe('npm start that cannot start', () => {
  it('on a busy port: one line naming the port and PORT, exit 1, no java left, no admin key written', async () => {
    const port = await occupiedPort();
    const inst = await spawnInstance('busy-port', { port });
    const { code } = await exitOf(inst);
    expect(code).toBe(1);
    const line = oneLine(inst);
    expect(line, 'a single line').not.toContain('\n');
    expect(line).toBe(`port ${port} is in use — set PORT=… to use another one (e.g. PORT=${port + 1} npm start)`);
    expect(line).not.toMatch(/EADDRINUSE|at .*\.ts:\d+/);
    expect(existsSync(join(inst.dataDir, 'admin-key')), 'no admin key written that was never printed').toBe(false);
    await nothingLeft(inst);
  });

  it('without Java on the PATH: one line with the install hint, exit 1, nothing left behind', async () => {
    // An empty directory as the whole PATH: no java (the child itself is started by its absolute node path).
    const emptyBin = mkdtempSync(join(tmpdir(), 'gw-no-java-'));
    const inst = await spawnInstance('no-java', { env: { PATH: emptyBin } });
    const { code } = await exitOf(inst);
    expect(code).toBe(1);
    const line = oneLine(inst);
    expect(line, 'a single line').not.toContain('\n');
    expect(line).toMatch(/^DynamoDB Local needs Java 17\+, and `java` was not found on the PATH: install Java 17\+/);
    expect(line).toContain('apt-get install openjdk-17-jre-headless');
    expect(line).toContain('AWS_ENDPOINT_URL_DYNAMODB');
    expect(existsSync(join(inst.dataDir, 'admin-key'))).toBe(false);
    await nothingLeft(inst);
  });

  it('PORT that is not a port: one line, exit 1', async () => {
    const inst = await spawnInstance('bad-port', { env: { PORT: 'eighty' } });
    const { code } = await exitOf(inst);
    expect(code).toBe(1);
    expect(oneLine(inst)).toBe('PORT must be a number from 0 to 65535 (got "eighty")');
  });

  it('a failure after DynamoDB Local started (an invalid TABLE_NAME) stops its java process and exits 1', async () => {
    const inst = await spawnInstance('bad-table', { env: { TABLE_NAME: 'ab' } });
    const { code } = await exitOf(inst);
    expect(code).toBe(1);
    expect(inst.output()).toContain('npm start failed');
    expect(existsSync(join(inst.dataDir, 'dynamodb')), 'DynamoDB Local was started (its data folder exists)').toBe(true);
    expect(existsSync(join(inst.dataDir, 'admin-key'))).toBe(false);
    await nothingLeft(inst);
  });
});
