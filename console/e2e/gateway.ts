/**
 * The gateway the console's browser tests run against, in its own process: DynamoDB Local (in memory), a table,
 * the Bedrock simulator and the local server, put together the way test/support/gateway.ts does for the API
 * tests. The simulator answers slowly on purpose (a small text delta every 150 ms), so that the playground's
 * streaming can be seen arriving piece by piece.
 *
 * Prints one JSON line `{"url": ..., "adminKey": ...}` when ready; SIGTERM or SIGINT stops everything.
 * Run: node --import tsx console/e2e/gateway.ts
 */
const env = process.env;
const adminKey = env.ADMIN_API_KEY || 'br-console-e2e-admin-key-0123456789abcdef';
Object.assign(env, {
  ADMIN_API_KEY: adminKey,
  TABLE_NAME: `console-e2e-${process.pid}`,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  AWS_MAX_ATTEMPTS: '1',
  POWERTOOLS_LOG_LEVEL: env.E2E_LOG_LEVEL ?? 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
});
delete env.AWS_PROFILE;
delete env.ADMIN_KEY_SECRET_ARN;

const STREAM_DELAY_MS = Number(env.E2E_STREAM_DELAY_MS ?? 150);

async function main(): Promise<void> {
  const { startDynamoDbLocal } = await import('../../local/dynamodb-local.js');
  const { ensureTable } = await import('../../local/table.js');
  const { startBedrockSimulator, defaultScript } = await import('../../local/bedrock-simulator/index.js');

  const dynamo = env.AWS_ENDPOINT_URL_DYNAMODB ? undefined : await startDynamoDbLocal();
  if (dynamo) env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  await ensureTable(env.TABLE_NAME!);
  const sim = await startBedrockSimulator();
  sim.setDefault((req) => ({ ...defaultScript(req), chunkSize: 6, delayMs: STREAM_DELAY_MS }));
  env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = sim.url;
  const { startLocalGateway } = await import('../../local/server.js');
  const gw = await startLocalGateway({ port: Number(env.PORT || 0) });
  process.stdout.write(`${JSON.stringify({ url: gw.url, adminKey })}\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await gw.close().catch(() => undefined);
    await sim.close().catch(() => undefined);
    await dynamo?.stop().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  // The test runner went away without a signal: do not outlive it.
  process.stdin.on('end', () => void stop());
  process.stdin.resume();
}

main().catch((e) => {
  console.error('console e2e gateway failed to start:', e);
  process.exit(1);
});
