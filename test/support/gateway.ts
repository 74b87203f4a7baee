import { afterAll, beforeAll } from 'vitest';
import { startBedrockSimulator, type BedrockSimulator } from '../../local/bedrock-simulator/index.js';
import { ensureTable } from '../../local/table.js';

export const ADMIN_KEY = 'br-test-admin-key-0123456789abcdefghij';

export interface TestGateway {
  url: string;
  sim: BedrockSimulator;
  adminKey: string;
  close(): Promise<void>;
}

/**
 * The local server exactly as `npm start` runs it (same handlers, same event shapes), on a free port, with its
 * own table in DynamoDB Local and its own Bedrock simulator.
 */
export async function startTestGateway(): Promise<TestGateway> {
  process.env.ADMIN_API_KEY = ADMIN_KEY;
  await ensureTable(process.env.TABLE_NAME!);
  const sim = await startBedrockSimulator();
  process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = sim.url;
  const { startLocalGateway } = await import('../../local/server.js');
  const gw = await startLocalGateway();
  return {
    url: gw.url,
    sim,
    adminKey: ADMIN_KEY,
    close: async () => {
      await gw.close();
      await sim.close();
    },
  };
}

export interface Envelope<T = any> {
  status: number;
  body: { success: boolean; data: T; error?: { code: string; message: string } };
  headers: Headers;
}

/** A small client for the /admin and /user envelopes. */
export function api(base: string, key?: string) {
  const call = async <T = any>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<Envelope<T>> => {
    const headers: Record<string, string> = { ...extraHeaders };
    if (key) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: any;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { raw: text };
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return {
    get: <T = any>(path: string, headers?: Record<string, string>) => call<T>('GET', path, undefined, headers),
    post: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>('POST', path, body ?? {}, headers),
  };
}

/**
 * The usual file setup: one gateway for the file (started in beforeAll, closed in afterAll) and an admin client.
 * Read `ctx.gw` / `ctx.admin` inside tests (they exist once beforeAll has run).
 */
export function useTestGateway(): { gw: TestGateway; admin: ReturnType<typeof api> } {
  const ctx = {} as { gw: TestGateway; admin: ReturnType<typeof api> };
  beforeAll(async () => {
    ctx.gw = await startTestGateway();
    ctx.admin = api(ctx.gw.url, ctx.gw.adminKey);
  });
  afterAll(async () => {
    await ctx.gw?.close();
  });
  return ctx;
}
