/**
 * The real Codex CLI against `npm start` (a child process with its own DynamoDB Local and the Bedrock simulator,
 * no AWS account, nothing contacted but 127.0.0.1). The model row is named `gpt-5.5` so that Codex sends the request
 * it sends OpenAI (its developer prompt, exec_command and the free-form apply_patch tool, tool_search, reasoning
 * with encrypted_content, store: false), and points at a Claude model id, so every turn thinks and multi-turn tool
 * use needs the reasoning round trip. The simulated model follows `sim:` lines of the prompt
 * (local/bedrock-simulator/prompt-scripts.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { removeCodexDirs, runCodex } from '../support/codex.js';
import { api } from '../support/gateway.js';
import { type Instance, startInstance, stopAllInstances } from '../support/npm-start.js';

const ADMIN = 'br-codex-e2e-admin-0123456789abcdefghij';
const MODEL = 'gpt-5.5';
let inst: Instance;
let admin: ReturnType<typeof api>;
let key: string;
let keyId: number;
let base: string;

beforeAll(async () => {
  inst = await startInstance('codex', { adminKey: ADMIN });
  base = `${inst.url}/v1`;
  admin = api(inst.url, ADMIN);
  const group = (await admin.post('/admin/group/save', { name: 'codex' })).body.data;
  const saved = await admin.post('/admin/model/save', {
    name: MODEL,
    config: { modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' },
    provider: 'bedrock-converse',
    price_in: 3,
    price_out: 15,
    group_id: group.id,
  });
  expect(saved.status).toBe(200);
  const applied = await admin.post('/admin/api-key/apply', {
    name: 'codex-user',
    group_id: group.id,
    role: 'user',
    email: '',
    month_quota: 5,
  });
  key = applied.body.data.api_key;
  keyId = applied.body.data.id;
}, 120_000);

afterAll(async () => {
  await stopAllInstances();
  removeCodexDirs();
});

interface ThreadRow {
  model: string;
  status: string;
  prompt: string;
  completion: string;
  reasoning: string;
  tool_calls: Array<{ function: { name: string; arguments: string } }>;
  session_id: number;
  fee: number;
}
/** The key's threads, newest first. */
/** The key's threads, once there are at least `n` (a call is settled just after its last byte: it can lag codex's exit). */
const threadsOfKey = (n = 0) =>
  vi.waitFor(
    async () => {
      const items = (await admin.get(`/admin/thread/list?key_id=${keyId}&limit=100`)).body.data.items as ThreadRow[];
      expect(items.length).toBeGreaterThanOrEqual(n);
      return items;
    },
    { timeout: 5000, interval: 20 },
  );
/** Codex run as this file's key on MODEL; `write` lets it write in its working directory. */
const codex = (prompt: string, opts: { write?: boolean } = {}) => runCodex({ baseUrl: base, key, model: MODEL, prompt, ...opts });
const PATCH = '*** Begin Patch\n*** Add File: hello.txt\n+hello from codex\n*** End Patch\n';

describe('codex exec through the gateway', () => {
  it('answers a prompt', async () => {
    const before = (await threadsOfKey()).length;
    const run = await codex('Greet me.\nsim:say Hello from the Bedrock gateway.');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('Hello from the Bedrock gateway.');
    // usage reached Codex through response.completed
    expect(run.stderr).toMatch(/tokens used\s+\d+/);
    const threads = await threadsOfKey(before + 1);
    expect(threads.length).toBe(before + 1);
    expect(threads[0]).toMatchObject({ model: MODEL, status: 'ok', completion: 'Hello from the Bedrock gateway.' });
  }, 90_000);

  it('applies a patch with the free-form apply_patch tool, then answers (reasoning sent back between the turns)', async () => {
    const before = (await threadsOfKey()).length;
    const run = await codex(`Create hello.txt.\nsim:tool apply_patch ${JSON.stringify(PATCH)}\nsim:say Created hello.txt.`, {
      write: true,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(join(run.cwd, 'hello.txt'), 'utf8')).toBe('hello from codex\n');
    expect(run.stdout.trim()).toBe('Created hello.txt.');

    const all = await threadsOfKey(before + 2);
    const threads = all.slice(0, all.length - before).reverse();
    expect(threads).toHaveLength(2);
    const [call, answer] = threads;
    expect(call.tool_calls).toEqual([expect.objectContaining({ function: expect.objectContaining({ name: 'apply_patch' }) })]);
    expect(JSON.parse(call.tool_calls[0].function.arguments)).toEqual({ input: PATCH });
    expect(answer.completion).toBe('Created hello.txt.');
    // The second turn thought: its assistant tool turn carried the signed reasoning that Codex sent back as our
    // encrypted_content (without it, thinking is switched off for that turn and nothing would be recorded here).
    expect(call.reasoning).toContain('[simulated reasoning]');
    expect(answer.reasoning).toContain('[simulated reasoning]');
    // both turns in one session, named by Codex's session-id header; both billed
    expect(answer.session_id).toBe(call.session_id);
    expect(Number(call.fee)).toBeGreaterThan(0);
    expect(Number(answer.fee)).toBeGreaterThan(0);
  }, 90_000);

  it('runs a function tool (exec_command) and feeds its output back', async () => {
    const before = (await threadsOfKey()).length;
    const run = await codex(
      `Write a file.\nsim:tool exec_command {"cmd":"echo ran-by-codex > out.txt && echo wrote"}\nsim:say The command ran.`,
      { write: true },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(run.cwd, 'out.txt'))).toBe(true);
    expect(readFileSync(join(run.cwd, 'out.txt'), 'utf8')).toBe('ran-by-codex\n');
    expect(run.stdout.trim()).toBe('The command ran.');
    const [answer, call] = await threadsOfKey(before + 2);
    expect(call.tool_calls[0].function.name).toBe('exec_command');
    expect(answer.prompt).toContain('wrote');
  }, 90_000);

  it('records the calls in Codex’s session and bills the key', async () => {
    const sessions = (await admin.get(`/admin/session/list?key_id=${keyId}`)).body.data.items as Array<{
      session_key: string;
      title: string;
    }>;
    // one session per codex exec run, named by its session-id header (a UUID), titled by the user's words (not by
    // the <environment_context> Codex sends first)
    expect(sessions.length).toBe(3);
    for (const s of sessions) expect(s.session_key).toMatch(/^[0-9a-f-]{36}$/);
    expect(sessions.map((s) => s.title.split(' sim:')[0]).sort()).toEqual(['Create hello.txt.', 'Greet me.', 'Write a file.']);
    const keys = (await admin.get(`/admin/api-key/list?name=codex-user`)).body.data.items as Array<{ month_fee: number }>;
    const threads = await threadsOfKey();
    const total = threads.reduce((sum, t) => sum + Number(t.fee), 0);
    expect(Number(keys[0].month_fee)).toBeCloseTo(total, 9);
    expect(total).toBeGreaterThan(0);
  });
});
