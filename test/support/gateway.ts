import { afterAll, beforeAll } from 'vitest';
import { config, overrideConfig } from '../../lambdas/core/config.js';
import { startBedrockSimulator, type BedrockSimulator } from '../../local/bedrock-simulator/index.js';
import { ensureTable } from '../../local/table.js';
import { api, type ApiClient } from './api.js';

export { api, type ApiClient, type Envelope } from './api.js';

export const ADMIN_KEY = 'br-test-admin-key-0123456789abcdefghij';

/** Gateway settings a test file changes (lambdas/core/config.ts), applied before its gateway starts. */
type ConfigOverrides = Parameters<typeof overrideConfig>[0];

export interface TestGateway {
  url: string;
  sim: BedrockSimulator;
  adminKey: string;
  /**
   * Resolves once every invocation in flight has returned. A streamed call is settled (charged and recorded) just
   * after its last byte: a test that reads the books right after a stream waits for this first.
   */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The local server exactly as `npm start` runs it (same handlers, same event shapes), on a free port, with its
 * own table in DynamoDB Local and its own Bedrock simulator. ADMIN_KEY is its bootstrap admin key until close().
 */
export async function startTestGateway(): Promise<TestGateway> {
  const undo = overrideConfig({ adminApiKey: ADMIN_KEY });
  await ensureTable(config().tableName);
  const sim = await startBedrockSimulator();
  // The AWS SDK's own setting (not the gateway's config): where the Bedrock Runtime client sends its calls.
  process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = sim.url;
  const { startLocalGateway } = await import('../../local/server.js');
  const gw = await startLocalGateway();
  return {
    url: gw.url,
    sim,
    adminKey: ADMIN_KEY,
    idle: () => gw.idle(),
    close: async () => {
      await gw.close();
      await sim.close();
      undo();
    },
  };
}

export interface TestGatewayContext {
  gw: TestGateway;
  admin: ApiClient;
}

export interface TestGatewayOptions {
  /**
   * Config overrides for the whole file, applied in beforeAll before the gateway starts and undone after it is
   * closed. A function is called then, so it may read what an earlier beforeAll set up (a fake's URL).
   */
  config?: ConfigOverrides | (() => ConfigOverrides);
}

/**
 * The usual file setup: one gateway for the file (started in beforeAll, closed in afterAll) and an admin client.
 * Read `ctx.gw` / `ctx.admin` inside tests and hooks (they exist once this beforeAll has run; a file's own
 * beforeAll registered after this call runs after it).
 */
export function useTestGateway(opts: TestGatewayOptions = {}): TestGatewayContext {
  const ctx = {} as TestGatewayContext;
  let undo: (() => void) | undefined;
  beforeAll(async () => {
    if (opts.config) undo = overrideConfig(typeof opts.config === 'function' ? opts.config() : opts.config);
    ctx.gw = await startTestGateway();
    ctx.admin = api(ctx.gw.url, ctx.gw.adminKey);
  });
  afterAll(async () => {
    try {
      await ctx.gw?.close();
    } finally {
      undo?.();
    }
  });
  return ctx;
}

/**
 * A Converse model row named `model` (Nova Lite, 3 in / 15 out) and a new user key named `keyName` (month quota 5)
 * bound to it: the key, with its secret.
 */
export async function userKeyOnConverseModel(admin: ApiClient, model: string, keyName: string) {
  const saved = (
    await admin.post('/admin/model/save', {
      name: model,
      provider: 'bedrock-converse',
      config: { modelId: 'amazon.nova-lite-v1:0' },
      price_in: 3,
      price_out: 15,
    })
  ).body.data;
  const key = (await admin.post('/admin/api-key/apply', { name: keyName, role: 'user', email: '', month_quota: 5 })).body.data;
  await admin.post('/admin/api-key/bind-model', { key_id: key.id, model_id: saved.id });
  return key;
}
