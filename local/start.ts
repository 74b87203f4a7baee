/**
 * `npm start`: the whole gateway on one machine. DynamoDB Local (or AWS_ENDPOINT_URL_DYNAMODB), the table, the
 * bootstrap admin key, Bedrock (real with AWS credentials, the simulator without), and the local HTTP server
 * running the same handlers the CDK stack deploys.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateApiKey } from '../lambdas/core/key-material.js';
import { startBedrockSimulator } from './bedrock-simulator/index.js';
import { javaProblem, startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.js';
import { ensureTable } from './table.js';

const env = process.env;
const DEFAULT_PORT = 8866;
const portText = env.PORT || String(DEFAULT_PORT);
const port = Number(portText);
const host = env.HOST || '127.0.0.1';
const dataDir = resolve(env.DATA_DIR || '.data');
/** DYNAMODB_IN_MEMORY=1: DynamoDB Local keeps the table in memory (about twice the throughput; gone at exit). */
const inMemory = /^(1|true|yes)$/i.test(env.DYNAMODB_IN_MEMORY ?? '');
env.TABLE_NAME ||= 'bedrock-gateway';
env.AWS_REGION ||= env.AWS_DEFAULT_REGION || 'us-east-1';
env.POWERTOOLS_LOG_LEVEL ||= env.LOG_LEVEL || 'WARN';
// CloudWatch EMF metric lines are for Lambda; locally they would only clutter the console.
env.POWERTOOLS_METRICS_DISABLED ||= 'true';
// Everything here is loopback or explicit; never let the SDK wander to the instance metadata address.
env.AWS_EC2_METADATA_DISABLED ||= 'true';
env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ||= 'true';

function hasAwsCredentials(): boolean {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return true;
  if (
    env.AWS_PROFILE ||
    env.AWS_WEB_IDENTITY_TOKEN_FILE ||
    env.AWS_CONTAINER_CREDENTIALS_FULL_URI ||
    env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
  )
    return true;
  const files = [
    env.AWS_SHARED_CREDENTIALS_FILE || join(homedir(), '.aws', 'credentials'),
    env.AWS_CONFIG_FILE || join(homedir(), '.aws', 'config'),
  ];
  return files.some((f) => existsSync(f));
}

/** A start that cannot go on, explained in one line that says what to do (printed without a stack trace). */
class StartupError extends Error {}

/**
 * The bootstrap admin key. A generated one is only written to DATA_DIR once the gateway listens (`persist`), so a
 * start that fails leaves no key behind that it never printed.
 */
function adminKey(): { key: string; generated: boolean; file?: string; persist(): void } {
  const none = () => undefined;
  if (env.ADMIN_API_KEY) return { key: env.ADMIN_API_KEY, generated: false, persist: none };
  const file = join(dataDir, 'admin-key');
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), generated: false, file, persist: none };
  const key = generateApiKey();
  return { key, generated: true, file, persist: () => writeFileSync(file, `${key}\n`, { mode: 0o600 }) };
}

/** Why the gateway could not listen on PORT/HOST, as a StartupError, or the error itself when it is something else. */
function listenProblem(e: Error): Error {
  const code = (e as NodeJS.ErrnoException)?.code;
  const other = `set PORT=… to use another one (e.g. PORT=${port + 1} npm start)`;
  if (code === 'EADDRINUSE') return new StartupError(`port ${port} is in use — ${other}`);
  if (code === 'EACCES') return new StartupError(`port ${port} may not be used by this user — ${other}`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
    return new StartupError(`HOST=${host} is not an address of this machine — set HOST=127.0.0.1 (the default) or another local address`);
  return e;
}

/** Fails when the gateway could not listen on PORT/HOST, before anything is started or written. */
async function checkPort(): Promise<void> {
  if (!/^\d+$/.test(portText) || port > 65535) throw new StartupError(`PORT must be a number from 0 to 65535 (got "${portText}")`);
  await new Promise<void>((ok, fail) => {
    const probe = createServer();
    probe.once('error', (e) => fail(listenProblem(e)));
    probe.listen(port, host, () => probe.close(() => ok()));
  });
}

/** Everything `npm start` needs that it does not bring itself: a free port and, for DynamoDB Local, Java 17+. */
async function preflight(): Promise<void> {
  await checkPort();
  if (!env.AWS_ENDPOINT_URL_DYNAMODB) {
    const problem = javaProblem();
    if (problem) throw new StartupError(problem);
  }
}

/**
 * The key material that seals state handed to clients (Responses reasoning): generated once, kept under DATA_DIR,
 * so that tokens survive a restart of npm start (deployed, the stack keeps it in Secrets Manager).
 */
function sealingKey(): string {
  const file = join(dataDir, 'sealing-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/** The local stand-in for the KMS key that envelope-encrypts bot secrets in the table (store/secret-envelope.ts). */
function secretsKey(): string {
  const file = join(dataDir, 'secrets-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

// What has been started so far, stopped in this order on shutdown or on a failed start.
const stops: Array<() => Promise<void>> = [];

async function stopAll(): Promise<void> {
  for (const stop of stops.splice(0)) await stop().catch((e) => console.error(e));
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: shutting down…`);
  await stopAll();
  process.exit(0);
}

async function main(): Promise<void> {
  // Ctrl-C while DynamoDB Local is still starting stops it too.
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  await preflight();
  mkdirSync(dataDir, { recursive: true });

  let bedrockNote: string;
  const hasCredentials = hasAwsCredentials();
  if (!hasCredentials) {
    // Without credentials nothing here talks to AWS: DynamoDB Local, the simulator or an endpoint you gave us
    // accept any, and the SDK needs some to sign with.
    env.AWS_ACCESS_KEY_ID = 'local';
    env.AWS_SECRET_ACCESS_KEY = 'local';
  }
  const simulated = !hasCredentials && !env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME;
  if (simulated) {
    // No credentials: Bedrock is the in-project simulator.
    const sim = await startBedrockSimulator();
    env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = sim.url;
    stops.push(() => sim.close());
    bedrockNote = `SIMULATED at ${sim.url} (no AWS credentials found; replies are marked [simulated Bedrock])`;
  } else {
    bedrockNote = env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME
      ? `endpoint ${env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME}`
      : `real Amazon Bedrock in ${env.AWS_REGION}`;
  }

  let dynamo: DynamoDbLocal | undefined;
  if (!env.AWS_ENDPOINT_URL_DYNAMODB) {
    dynamo = await startDynamoDbLocal(inMemory ? {} : { dataDir: join(dataDir, 'dynamodb') });
    env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
    stops.push(() => dynamo!.stop());
  }
  const table = await ensureTable(env.TABLE_NAME!);
  if (dynamo && table === 'existed') {
    // Records kept on disk by an older version are moved to the present layout once (docs/data-model.md,
    // "Migrations"); a table elsewhere is migrated with `npm run migrate`.
    const { migrateRecordLayout } = await import('../lambdas/core/store/migrate-layout.js');
    const { moved } = await migrateRecordLayout();
    const n = Object.values(moved).reduce((a, b) => a + b, 0);
    if (n) console.log(`Moved ${n} record(s) kept by an older version to the present layout (${JSON.stringify(moved)}).`);
  }

  env.SEALING_KEY ||= sealingKey();
  if (!env.SECRETS_KMS_KEY_ID) env.SECRETS_KEY ||= secretsKey();
  const admin = adminKey();
  env.ADMIN_API_KEY = admin.key;
  // The migration above may have read the configuration already: the keys just set must be in it.
  const { reloadConfig } = await import('../lambdas/core/config.js');
  reloadConfig();
  const { ensureBootstrapAdmin } = await import('../lambdas/core/auth/bootstrap.js');
  await ensureBootstrapAdmin();
  // Bots saved by an older version kept their secrets in clear: sealed once here.
  const { sealLegacyBotSecrets } = await import('../lambdas/core/store/bots.js');
  const sealed = await sealLegacyBotSecrets();
  if (sealed) console.log(`Sealed the secrets of ${sealed} Feishu bot(s) saved in clear by an older version.`);

  const { startLocalGateway } = await import('./server.js');
  // GATEWAY_BUNDLES=cdk.out serves the esbuild bundles `npm run synth` packaged, exactly as Lambda runs them.
  const gw = await startLocalGateway({ port, host, bundles: env.GATEWAY_BUNDLES || undefined }).catch((e: Error) => {
    throw listenProblem(e); // the port was free a moment ago: someone took it meanwhile
  });
  stops.unshift(() => gw.close());
  admin.persist();

  const base = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${gw.port}`;
  const bar = '='.repeat(78);
  console.log(`\n${bar}\n Bedrock gateway listening on ${base}\n${bar}`);
  console.log(
    ` DynamoDB : ${dynamo ? `DynamoDB Local ${dynamo.endpoint} (${inMemory ? 'IN MEMORY: gone when npm start stops' : `data in ${join(dataDir, 'dynamodb')}`})` : env.AWS_ENDPOINT_URL_DYNAMODB}, table ${env.TABLE_NAME}`,
  );
  console.log(` Bedrock  : ${bedrockNote}`);
  if (env.GATEWAY_BUNDLES) console.log(` Code     : the Lambda bundles in ${resolve(env.GATEWAY_BUNDLES)}`);
  console.log(` Console  : ${base}/console/ (sign in with the admin key)`);
  if (simulated) console.log(`\n  !!! NO AWS CREDENTIALS: Bedrock is SIMULATED. Answers are canned, not a real model. !!!\n`);
  if (admin.generated) console.log(` Admin key (generated now, shown once; also saved to ${admin.file}):\n\n   ${admin.key}\n`);
  else if (admin.file) console.log(` Admin key: the one in ${admin.file}`);
  else console.log(' Admin key: the ADMIN_API_KEY you set');
  console.log(` Try:\n   export ADMIN=${admin.generated || admin.file ? `$(cat ${admin.file})` : '$ADMIN_API_KEY'}`);
  console.log(`   curl -s ${base}/admin/model/list -H "Authorization: Bearer $ADMIN"`);
  console.log(`   (README.md walks through groups, models, user keys and chat)\n${bar}\n`);
}

main().catch(async (e: unknown) => {
  // Nothing started stays behind: the simulator, DynamoDB Local (its java process) and the server are stopped.
  await stopAll();
  if (e instanceof StartupError) console.error(e.message);
  else console.error('npm start failed:', e);
  process.exit(1);
});
