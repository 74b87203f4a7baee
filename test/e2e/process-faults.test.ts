/**
 * A process fault: the local server is killed (SIGKILL) in the middle of a burst of streaming calls, and started
 * again on the same table. The books must still be exact: every call that finished is settled once, every call
 * that was cut off holds only its lease (no charge, no thread), Σ thread fees = Δ total_fee, and once the leases
 * are older than the longest call they are swept, so the key is not locked out.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { admit, LEASE_SECONDS } from '../../lambdas/core/billing/admission.js';
import { setClockOffsetForTests } from '../../lambdas/core/clock.js';
import { money } from '../../lambdas/core/money.js';
import { getKeyById, leaseAttribute } from '../../lambdas/core/store/keys.js';
import { script, startBedrockSimulator, type BedrockSimulator } from '../../local/bedrock-simulator/index.js';
import { api, userKeyOnConverseModel } from '../support/gateway.js';
import { type Instance, sleep, startInstance, stopAllInstances } from '../support/npm-start.js';

const ADMIN = `br-local-admin-${randomBytes(12).toString('hex')}`;
const MODEL = 'killable';
let sim: BedrockSimulator;

/** The same table and simulator for both lives of the server (the store outlives the process, as in AWS). */
const env = () => ({
  AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
  TABLE_NAME: process.env.TABLE_NAME,
  AWS_ENDPOINT_URL_BEDROCK_RUNTIME: sim.url,
});

beforeAll(async () => {
  sim = await startBedrockSimulator();
});
afterAll(async () => {
  await stopAllInstances();
  await sim?.close();
  setClockOffsetForTests(0);
}, 60_000);

async function startServer(name: string): Promise<Instance> {
  return startInstance(name, { adminKey: ADMIN, env: env() });
}

describe('SIGKILL during a burst', () => {
  it('leaves exact books behind: finished calls settled once, cut-off calls only leased, leases swept later', async () => {
    const first = await startServer('killed');
    const admin = api(first.url, ADMIN);
    const key = await userKeyOnConverseModel(admin, MODEL, 'burst');

    // Quick calls finish before the kill; slow streams are cut off in the middle.
    let n = 0;
    sim.setDefault(() => {
      n++;
      return n <= 6
        ? script.text(`quick ${n}`, { usage: { inputTokens: 10, outputTokens: 5 } })
        : script.text('a slow answer that never ends in time', { chunkSize: 2, delayMs: 300 });
    });
    const call = (i: number) =>
      fetch(`${first.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.api_key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: `q${i}` }], stream: true, max_tokens: 64 }),
      }).then((r) => r.text().catch(() => 'cut off'));
    const quick = await Promise.all(Array.from({ length: 6 }, (_, i) => call(i)));
    expect(quick.every((t) => t.includes('[DONE]'))).toBe(true);
    const slow = Array.from({ length: 10 }, (_, i) => call(100 + i).catch(() => 'cut off'));
    // Wait until every slow stream is admitted and streaming, then kill the process without warning.
    for (let i = 0; i < 100 && sim.requests.length < 16; i++) await sleep(50);
    await sleep(300);
    process.kill(first.child.pid!, 'SIGKILL');
    await first.exited;
    await Promise.all(slow);

    const second = await startServer('restarted');
    const admin2 = api(second.url, ADMIN);
    const threads = (await admin2.get(`/admin/thread/list?key_id=${key.id}&limit=100`)).body.data;
    const stored = (await getKeyById(key.id))!;
    // The 6 quick calls are on record and charged exactly; the 10 cut-off calls left nothing but their leases.
    expect(threads.items).toHaveLength(6);
    const fees = threads.items.reduce((s, t) => s + money(t.fee), 0n);
    expect(stored.totalFee).toBe(fees);
    expect(stored.leases.size).toBe(10);
    expect(stored.reserved).toBe([...stored.leases.values()].reduce((s, l) => s + l.amount, 0n));

    // Once older than the longest call, the next admission sweeps them all: nothing of the dead calls still counts.
    setClockOffsetForTests((LEASE_SECONDS + 5) * 1000);
    const r = await admit(stored, 1n, 'after-restart');
    const swept = (await getKeyById(key.id))!;
    expect([...swept.leases.keys()]).toEqual([leaseAttribute('after-restart')]);
    expect(swept.reserved).toBe(r.amount);
    expect(swept.totalFee).toBe(fees);
  }, 120_000);
});
