/**
 * The real Claude Code CLI (@anthropic-ai/claude-code 2.1.197) against the gateway, fully offline: its base URL is
 * the gateway (without /v1), its key a gateway key, its model a model row's name, and the quiet settings of
 * REFERENCE §5 keep it from contacting anything else.
 * - `claude -p` answers a prompt through `npm start` (a child process, exactly as a user starts it, Bedrock simulated).
 * - A tool run through the in-process gateway, its simulator scripted to call Write, creates the file.
 * - A stream that breaks mid-way is answered again, as JSON, when Claude Code re-sends without `stream`.
 * Each call appears as a thread with tokens and fee in /admin/thread/list, in the session Claude Code named.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { script, type ScriptRequest } from '../../local/bedrock-simulator/index.js';
import { fakeSignature, type Script } from '../../local/bedrock-simulator/scenario.js';
import { claudeBinary, runClaude, tempDir } from '../support/claude-code.js';
import { api, startTestGateway, type TestGateway } from '../support/gateway.js';
import { startInstance, stopAllInstances } from '../support/npm-start.js';

/** A name Claude Code knows, so it sends the request shape it sends Anthropic's own model (thinking, betas, tools). */
const MODEL = 'claude-sonnet-4-5';
const MODEL_ID = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const ADMIN_KEY = 'br-claude-code-admin-0123456789abcdefghij';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON records, asserted on field by field
type Json = any;

async function setUpKey(admin: ReturnType<typeof api>): Promise<{ id: number; api_key: string }> {
  const model = await admin.post('/admin/model/save', {
    name: MODEL,
    provider: 'bedrock-converse',
    config: { modelId: MODEL_ID },
    price_in: 3,
    price_out: 15,
  });
  expect(model.status, JSON.stringify(model.body)).toBe(200);
  const key = (await admin.post('/admin/api-key/apply', { name: 'claude-code', role: 'user', email: '', month_quota: 10 })).body.data;
  await admin.post('/admin/api-key/bind-model', { key_id: key.id, model_id: model.body.data.id });
  return key;
}

/** The key's threads once there are `n` (a call is settled just after its last byte, so it can lag the CLI's exit). */
const threadsOf = (admin: ReturnType<typeof api>, keyId: number, n = 1): Promise<Json[]> =>
  vi.waitFor(
    async () => {
      const items = (await admin.get(`/admin/thread/list?key_id=${keyId}&limit=50`)).body.data.items as Json[];
      expect(items.length).toBeGreaterThanOrEqual(n);
      return items;
    },
    { timeout: 5000, interval: 20 },
  );

const explain = (r: { code: number | null; stdout: string; stderr: string }) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

beforeAll(() => {
  // No binary is a failure, never a skip.
  expect(claudeBinary()).toMatch(/claude$/);
});

describe('Claude Code against npm start', () => {
  afterAll(async () => {
    await stopAllInstances();
  });

  it('claude -p answers a prompt through the simulator, and the call is a thread with tokens and fee', async () => {
    const inst = await startInstance('claude-code', { adminKey: ADMIN_KEY });
    const admin = api(inst.url, ADMIN_KEY);
    const key = await setUpKey(admin);

    const run = await runClaude({ baseUrl: inst.url, apiKey: key.api_key, model: MODEL, prompt: 'Say hello to the gateway' });
    expect(run.code, explain(run)).toBe(0);
    expect(run.timedOut).toBe(false);
    expect(run.json?.is_error, explain(run)).toBe(false);
    expect(run.json?.result).toBe('[simulated Bedrock] You said: Say hello to the gateway');

    const [thread] = await threadsOf(admin, key.id);
    expect(thread).toMatchObject({ model: MODEL, status: 'ok', completion: run.json?.result });
    const detail = (await admin.get(`/admin/thread/detail/${thread.id}`)).body.data;
    expect(detail.prompt).toMatch(/<system-reminder>[\s\S]*Say hello to the gateway$/); // Claude Code's reminders come first
    expect(thread.tokens_in).toBeGreaterThan(1000); // Claude Code's system prompt and 24 tools
    expect(thread.tokens_out).toBeGreaterThan(0);
    expect(thread.fee).toBeGreaterThan(0);
    const sessions: Json[] = (await admin.get(`/admin/session/list?key_id=${key.id}`)).body.data.items;
    expect(sessions.map((s) => s.session_key)).toEqual([run.json?.session_id]);
    // titled by the user's words, not by the reminders in front of them
    expect(sessions[0].title).toBe('Say hello to the gateway');
  }, 180_000);
});

describe('Claude Code against the in-process gateway (scripted simulator)', () => {
  let gw: TestGateway;
  let admin: ReturnType<typeof api>;
  let key: { id: number; api_key: string };

  beforeAll(async () => {
    gw = await startTestGateway();
    admin = api(gw.url, gw.adminKey);
    key = await setUpKey(admin);
  });
  afterAll(async () => {
    await gw?.close();
  });

  const hasToolResult = (req: ScriptRequest) => {
    const last: Json = (req.body.messages as Json[]).at(-1);
    return Array.isArray(last?.content) && last.content.some((b: Json) => b.type === 'tool_result');
  };

  it('a tool run: the model calls Write, Claude Code writes the file and sends the result (and the thinking) back', async () => {
    gw.sim.reset();
    const cwd = tempDir('gw-cc-tool-');
    const file = join(cwd, 'hello.txt');
    const thinking = 'The user wants a file; I will use Write.';
    // Each turn reads 1000 and writes 200 cached tokens: Claude Code must count them once per turn.
    const usage = { inputTokens: 1500, outputTokens: 20, cacheReadInputTokens: 1000, cacheWriteInputTokens: 200 };
    gw.sim.setDefault((req): Script =>
      hasToolResult(req)
        ? script.text('done writing', { chunkSize: 4, usage })
        : {
            content: [
              { reasoning: { text: thinking, signature: fakeSignature(thinking) } },
              { toolUse: { name: 'Write', input: { file_path: file, content: 'hello' } } },
            ],
            chunkSize: 8,
            usage,
          },
    );
    try {
      const run = await runClaude({
        baseUrl: gw.url,
        apiKey: key.api_key,
        model: MODEL,
        prompt: 'Create hello.txt containing hello',
        cwd,
        args: ['--allowedTools', 'Write'],
      });
      expect(run.code, explain(run)).toBe(0);
      expect(run.json).toMatchObject({ is_error: false, result: 'done writing', num_turns: 2 });
      // Cache usage reaches Claude Code once per turn (message_start and message_delta both carry it; it never adds up twice).
      expect(run.json?.usage).toMatchObject({
        input_tokens: 3000,
        output_tokens: 40,
        cache_read_input_tokens: 2000,
        cache_creation_input_tokens: 400,
      });
      expect(readFileSync(file, 'utf8')).toBe('hello');

      const calls = gw.sim.requests;
      expect(calls.map((c) => c.operation)).toEqual(['InvokeModelWithResponseStream', 'InvokeModelWithResponseStream']);
      expect(calls[0].modelId).toBe(MODEL_ID);
      // What Claude Code sent, as Bedrock got it: betas filtered, no stream/model, the thinking block back verbatim.
      expect(calls[0].body.anthropic_version).toBe('bedrock-2023-05-31');
      expect(calls[0].body.anthropic_beta).not.toContain('claude-code-20250219');
      expect(calls[0].body).not.toHaveProperty('stream');
      expect(calls[0].body.tools.length).toBeGreaterThan(10);
      const replayed = calls[1].body.messages.at(-2);
      expect(replayed.role).toBe('assistant');
      expect(replayed.content[0]).toEqual({ type: 'thinking', thinking, signature: fakeSignature(thinking) });
      expect(replayed.content[1]).toMatchObject({ type: 'tool_use', name: 'Write', input: { file_path: file, content: 'hello' } });

      const threads = (await threadsOf(admin, key.id, 2)).slice(0, 2);
      expect(threads.map((t) => t.status)).toEqual(['ok', 'ok']);
      expect(threads.map((t) => t.completion).sort()).toEqual(['', 'done writing']);
      const toolThread = threads.find((t) => t.completion === '');
      expect(toolThread.finish_reason).toBe('tool_calls');
      expect(toolThread.tool_calls[0].function.name).toBe('Write');
      expect(toolThread.reasoning).toBe(thinking);
      for (const t of threads) {
        expect(t).toMatchObject({ tokens_in: 1500, tokens_out: 20, tokens_cache_read: 1000, tokens_cache_write: 200 });
        // 1500×3 + 20×15 + 1000×0.3 + 200×3.75 per 1M (cache prices derived: 10% and 125% of price_in)
        expect(t.fee).toBeCloseTo((1500 * 3 + 20 * 15 + 1000 * 0.3 + 200 * 3.75) / 1e6, 12);
      }
    } finally {
      gw.sim.setDefault(null);
    }
  }, 120_000);

  it('a stream that breaks mid-way: Claude Code re-sends without `stream` and gets the answer as JSON', async () => {
    gw.sim.reset();
    gw.sim.enqueue(
      script.text('this stream will break', { chunkSize: 3, failAfterEvents: { count: 4, exception: 'modelStreamErrorException' } }),
      script.text('answered as JSON'),
    );
    const run = await runClaude({ baseUrl: gw.url, apiKey: key.api_key, model: MODEL, prompt: 'hi' });
    expect(run.code, explain(run)).toBe(0);
    expect(run.json).toMatchObject({ is_error: false, result: 'answered as JSON' });
    expect(gw.sim.requests.map((c) => c.operation)).toEqual(['InvokeModelWithResponseStream', 'InvokeModel']);
    const [json, broken] = await threadsOf(admin, key.id);
    expect([json.status, broken.status]).toEqual(['ok', 'error']);
  }, 120_000);
});
