/**
 * The shared chat client resolves its middleware once per command class (cacheMiddleware), so a call's abort
 * signal travels with its command (withSignal), not as a per-call send option. Against the simulator: after the
 * cache is warm, aborting one of several concurrent streams stops exactly that one, before and after its first
 * event, on Converse and on Claude's InvokeModel alike.
 */
import { ConverseStreamCommand, InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bedrockClientFor, sendChat, withSignal } from '../../../lambdas/core/providers/bedrock-runtime-client.js';
import { type BedrockSimulator, script, startBedrockSimulator } from '../../../local/bedrock-simulator/index.js';
import { gateSignal } from '../../../lambdas/core/upstream-gate.js';
import { keptCommands } from '../../support/sdk-context.js';

let sim: BedrockSimulator;
// A region of its own: this file's client is not shared with anything else in the process.
const REGION = 'eu-north-1';

beforeAll(async () => {
  sim = await startBedrockSimulator();
  process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = sim.url;
});
afterAll(() => sim.close());

const converse = (text: string, signal?: AbortSignal) =>
  bedrockClientFor(REGION).send(
    withSignal(new ConverseStreamCommand({ modelId: 'amazon.nova-lite-v1:0', messages: [{ role: 'user', content: [{ text }] }] }), signal),
  );

async function drain(stream: AsyncIterable<unknown> | undefined): Promise<number> {
  let n = 0;
  for await (const _ of stream ?? []) n++;
  return n;
}

describe('the shared Bedrock chat client', () => {
  it('warm cache: aborting one of three concurrent streams mid-answer stops only that one', async () => {
    for (let i = 0; i < 3; i++) await drain((await converse('warm')).stream); // the handler is cached now
    sim.reset();
    const slow = script.text('a fairly long answer that streams slowly', { chunkSize: 2, delayMs: 20 });
    sim.enqueue(slow, slow, slow);
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    const calls = await Promise.all(controllers.map((c, i) => converse(`call ${i}`, c.signal)));
    // An aborted stream ends (the SDK's iterator just finishes) with the events that had arrived.
    const counts = calls.map((c) => drain(c.stream).catch(() => -1));
    await new Promise((r) => setTimeout(r, 100));
    controllers[1].abort();
    const [a, b, c] = await Promise.all(counts);
    expect(a).toBeGreaterThan(20); // 21 text deltas and the frame around them
    expect(c).toBe(a);
    expect(b).toBeLessThan(a / 2);
    await new Promise((r) => setTimeout(r, 50));
    const byPrompt = (p: string) => sim.requests.find((r) => JSON.stringify(r.body).includes(p));
    expect(byPrompt('call 1')?.aborted).toBe(true);
    expect(byPrompt('call 0')?.aborted).toBe(false);
    expect(byPrompt('call 2')?.aborted).toBe(false);
  });

  it('the command the cached handler keeps (the first of its class) lets go of its prompt once answered', async () => {
    const client = bedrockClientFor('ap-south-2'); // a client of its own: its first ConverseStream is ours
    const kept = keptCommands(client.middlewareStack);
    const call = (text: string) =>
      sendChat(
        new ConverseStreamCommand({ modelId: 'amazon.nova-lite-v1:0', messages: [{ role: 'user', content: [{ text }] }] }),
        undefined,
        (c) => client.send(c),
      );
    await drain((await call('a private prompt')).stream);
    await drain((await call('another')).stream);
    expect(kept).toHaveLength(2);
    expect(kept[1]).toBe(kept[0]);
    expect(JSON.stringify(kept[0].input)).not.toContain('a private prompt');
  });

  it('a signal aborted before the call refuses it without a request; the next call without one is unaffected', async () => {
    await drain((await converse('warm')).stream);
    sim.reset();
    const err = await converse('refused', AbortSignal.abort()).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toMatch(/Abort/);
    expect(await drain((await converse('fine')).stream)).toBeGreaterThan(0);
    expect(sim.requests.map((r) => JSON.stringify(r.body).includes('fine'))).toEqual([true]);
  });

  it('InvokeModelWithResponseStream: the signal stops a call still waiting for its answer', async () => {
    const invoke = (signal?: AbortSignal) =>
      bedrockClientFor(REGION).send(
        withSignal(
          new InvokeModelWithResponseStreamCommand({
            modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
            contentType: 'application/json',
            body: new TextEncoder().encode(
              JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
            ),
          }),
          signal,
        ),
      );
    await drain((await invoke()).body);
    sim.reset();
    sim.enqueue(script.text('late', { firstEventDelayMs: 2000 }));
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 50);
    // The SDK reads the first event before it resolves: cut there, the call ends with no event (or an AbortError).
    const events = await invoke(ac.signal).then(
      (res) => drain(res.body).catch(() => 0),
      (e: unknown) => (expect((e as Error).name).toMatch(/Abort/), 0),
    );
    expect(events).toBe(0);
    expect(Date.now() - t0).toBeLessThan(1500);
    await new Promise((r) => setTimeout(r, 50));
    expect(sim.requests[0]?.aborted).toBe(true);
  });

  it('a gated call is built and signed, but nothing reaches Bedrock until its gate opens; a failed gate sends nothing', async () => {
    await drain((await converse('warm the gate client')).stream);
    sim.reset();
    let open!: () => void;
    const opened = new AbortController();
    gateSignal(opened.signal, new Promise<void>((r) => (open = r)));
    const call = converse('gated, then opened', opened.signal);
    await new Promise((r) => setTimeout(r, 100));
    expect(sim.requests).toHaveLength(0);
    open();
    expect(await drain((await call).stream)).toBeGreaterThan(0);
    expect(sim.requests).toHaveLength(1);

    const refused = new AbortController();
    const refusal = Object.assign(new Error('the key was refused'), { status: 401 });
    gateSignal(refused.signal, Promise.reject(refusal));
    await expect(converse('gated, then refused', refused.signal)).rejects.toBe(refusal);
    await new Promise((r) => setTimeout(r, 50));
    expect(sim.requests).toHaveLength(1);
  });
});
