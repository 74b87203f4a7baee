/**
 * A user key's call builds its upstream request while its admission write is on the wire, and sends it only once
 * that write has landed: the provider starts at once, but nothing leaves before the gate opens. An admission that
 * refuses (no money left) or fails (the store is down) sends nothing and answers with its own error; the upstream's
 * retry budget starts at the gate, and an admission that landed although its answer was a fault gives its lease back.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChatEvent } from '../../../lambdas/core/chat/events.js';
import { runChat } from '../../../lambdas/core/chat/pipeline.js';
import type { ChatRequest } from '../../../lambdas/core/chat/request.js';
import { runEmbeddings } from '../../../lambdas/core/embeddings/pipeline.js';
import { overrideConfig } from '../../../lambdas/core/config.js';
import { GatewayError, errors } from '../../../lambdas/core/errors.js';
import { Invocation } from '../../../lambdas/core/invocation.js';
import { money, moneyAttr } from '../../../lambdas/core/money.js';
import type * as Registry from '../../../lambdas/core/providers/registry.js';
import { passGate } from '../../../lambdas/core/upstream-gate.js';
import { zeroUsage } from '../../../lambdas/core/usage.js';
import { createKey, getKeyById, leaseOf } from '../../../lambdas/core/store/keys.js';
import type { Model } from '../../../lambdas/core/store/models.js';
import { db, tableName } from '../../../lambdas/core/store/table.js';
import { itemKeys } from '../../../lambdas/core/store/table-keys.js';
import { ensureTable } from '../../../local/table.js';

/** What the fake provider saw, in order: 'built' when chat() was called, 'sent' once its request passed the gate. */
const seen: string[] = [];
/** Upstream attempts still to be refused as throttled (retryable), after they passed the gate. */
let throttle = 0;
vi.mock('../../../lambdas/core/providers/registry.js', async (importOriginal) => {
  const real = await importOriginal<typeof Registry>();
  return {
    ...real,
    // Like the Bedrock clients: the request is built at once and leaves only through passGate(signal).
    chatProvider: () =>
      Promise.resolve({
        kind: 'chat',
        chat: async (_req: unknown, _model: unknown, ctx: { signal?: AbortSignal }) => {
          seen.push('built');
          await passGate(ctx.signal);
          seen.push('sent');
          if (throttle > 0) {
            throttle--;
            throw new GatewayError(429, 'throttled', { kind: 'rate_limit', code: 'rate_limit_exceeded', retryable: true });
          }
          return (async function* (): AsyncGenerator<ChatEvent> {
            yield { type: 'message_start' };
            yield { type: 'block_start', index: 0, block: { type: 'text' } };
            yield { type: 'text_delta', index: 0, text: 'hi' };
            yield { type: 'block_stop', index: 0 };
            yield { type: 'usage', usage: { ...zeroUsage(), inputTokens: 1000, outputTokens: 1000 } };
            yield { type: 'finish', reason: 'end_turn' };
          })();
        },
      }),
  };
});

const model: Model = {
  id: 1,
  name: 'overlap',
  groupId: null,
  multiple: false,
  provider: 'bedrock-converse',
  config: {},
  priceIn: money('0.001'),
  priceOut: money('0.001'),
  priceCacheRead: undefined,
  priceCacheWrite: undefined,
  free: false,
  createdAt: '',
  updatedAt: '',
};

const request: ChatRequest = {
  system: [],
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
  tools: [],
  stream: true,
};

/** UpdateItem calls (the admission's write) wait for `hold` before they go on to the store, or fail with `fail`. */
let hold: Promise<void> | undefined;
let fail: Error | undefined;
/** The next UpdateItem lands in the store, and its caller gets this fault instead of the answer (a lost reply). */
let loseReply: Error | undefined;
let held = 0;
/** Set while the test itself writes the key item: that write is neither held nor faulted. */
let bypass = false;

beforeAll(async () => {
  await ensureTable(tableName());
  db().middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UpdateItemCommand' && !bypass) {
        // As a real fault does: after a round trip, while the provider is at work.
        if (fail) {
          const error = fail;
          await new Promise((r) => setTimeout(r, 10));
          throw error;
        }
        if (hold) {
          held++;
          await hold;
        }
        if (loseReply) {
          const error = loseReply;
          loseReply = undefined;
          await next(args);
          throw error;
        }
      }
      return next(args);
    },
    { step: 'finalizeRequest', name: 'holdAdmissionWrites' },
  );
});

afterEach(() => {
  hold = undefined;
  fail = undefined;
  loseReply = undefined;
  held = 0;
  throttle = 0;
  seen.length = 0;
});

const drain = async (events: AsyncIterable<ChatEvent>) => {
  for await (const _ of events) void _;
};

describe("a user key's admission write and the upstream request built beside it", () => {
  it('is built while the admission write is held, and sent only once it has landed', async () => {
    const { key } = await createKey({ name: 'overlap-user', role: 'user', balance: money('10') });
    let release!: () => void;
    hold = new Promise((r) => (release = r));
    const running = runChat({ key, model, request, requestId: 'req-overlap-1' });
    await vi.waitFor(() => expect(held).toBe(1));
    await vi.waitFor(() => expect(seen).toEqual(['built']));
    // The request waits at the gate for as long as the write does.
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['built']);
    release();
    const run = await running;
    expect(seen).toEqual(['built', 'sent']);
    await drain(run.events);
    await run.settled;
    const after = await getKeyById(key.id);
    expect(after?.reserved).toBe(0n);
    expect(after?.leases.size).toBe(0);
    expect(after!.totalFee > 0n).toBe(true);
  });

  it('an admission that refuses for money: nothing is built or sent, the answer is the refusal (429 insufficient_quota)', async () => {
    const { key } = await createKey({ name: 'overlap-broke', role: 'user' });
    const err = await runChat({ key, model, request, requestId: 'req-overlap-2' }).then(
      () => undefined,
      (e: unknown) => e as { status?: number; code?: string },
    );
    expect(err?.status).toBe(429);
    expect(err?.code).toBe('insufficient_quota');
    // Decided on the key as read, before any write: no request was even built.
    expect(seen).toEqual([]);
  });

  it('an admission whose write finds the money gone meanwhile: refused after its round trip (429), nothing sent', async () => {
    const { key } = await createKey({ name: 'overlap-drained', role: 'user', balance: money('10') });
    let release!: () => void;
    hold = new Promise((r) => (release = r));
    const running = runChat({ key, model, request, requestId: 'req-overlap-drained' }).then(
      () => undefined,
      (e: unknown) => e as { status?: number; code?: string },
    );
    await vi.waitFor(() => expect(seen).toEqual(['built']));
    // Another instance spends the whole balance while this call's admission write is on the wire.
    bypass = true;
    try {
      await db().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: itemKeys.apiKey(key.hash),
          UpdateExpression: 'SET balance = :zero',
          ExpressionAttributeValues: { ':zero': moneyAttr(0n) },
        }),
      );
    } finally {
      bypass = false;
    }
    release();
    const err = await running;
    expect(err?.status).toBe(429);
    expect(err?.code).toBe('insufficient_quota');
    // The request was built beside the write, and never left.
    expect(seen).toEqual(['built']);
    const after = await getKeyById(key.id);
    expect(after?.leases.size).toBe(0);
    expect(after?.reserved).toBe(0n);
  });

  it("the upstream's retry budget starts when its gate opens: a slow admission does not use it up", async () => {
    // A budget that leaves room for one retry (its first delay is 100–300 ms), shorter than the admission's wait.
    const restore = overrideConfig({ upstream: { retryBudgetMs: 500 } });
    try {
      const { key } = await createKey({ name: 'overlap-slow', role: 'user', balance: money('10') });
      let release!: () => void;
      hold = new Promise((r) => (release = r));
      throttle = 1;
      const running = runChat({ key, model, request, requestId: 'req-overlap-slow' });
      await vi.waitFor(() => expect(held).toBe(1));
      await new Promise((r) => setTimeout(r, 600)); // the admission outlasts the whole budget
      release();
      const run = await running;
      // Throttled once after the gate opened, then retried within the budget, which started then.
      expect(seen).toEqual(['built', 'sent', 'built', 'sent']);
      await drain(run.events);
      await run.settled;
    } finally {
      restore();
    }
  });

  it('an admission write the store refuses before it lands: nothing is sent, 503', async () => {
    const { key } = await createKey({ name: 'overlap-fault', role: 'user', balance: money('10') });
    fail = errors.storeUnavailable(new Error('injected'));
    const err = await runChat({ key, model, request, requestId: 'req-overlap-3' }).then(
      () => undefined,
      (e: unknown) => e as { status?: number },
    );
    expect(err?.status).toBe(503);
    expect(seen).toEqual(['built']);
  });

  it('an admission write that landed but answered with a fault: 503, and its lease is given back before the invocation ends', async () => {
    const { key } = await createKey({ name: 'overlap-lost', role: 'user', balance: money('10'), limits: { maxParallel: 1 } });
    loseReply = errors.storeUnavailable(new Error('injected: the write landed, its answer was lost'));
    const invocation = new Invocation();
    const err = await runChat({ key, model, request, requestId: 'req-overlap-lost', invocation }).then(
      () => undefined,
      (e: unknown) => e as { status?: number },
    );
    expect(err?.status).toBe(503);
    expect(seen).toEqual(['built']);
    // The write did land: the lease is on the key until the release, which the invocation waits for.
    const during = await getKeyById(key.id);
    expect(leaseOf(during!, 'req-overlap-lost')).toBeDefined();
    await invocation.done();
    const after = await getKeyById(key.id);
    expect(after?.leases.size).toBe(0);
    expect(after?.reserved).toBe(0n);
    expect(after?.parallel).toBe(0);
    // The key's one parallel slot is free: its next call is admitted and answered.
    const run = await runChat({ key: after!, model, request, requestId: 'req-overlap-lost-2' });
    await drain(run.events);
    await run.settled;
    expect((await getKeyById(key.id))!.totalFee > 0n).toBe(true);
  });

  it('an embeddings call too: its admission landed behind a fault, and the invocation waits for the lease to be given back', async () => {
    const { key } = await createKey({ name: 'overlap-lost-embed', role: 'user', balance: money('10'), limits: { maxParallel: 1 } });
    loseReply = errors.storeUnavailable(new Error('injected: the write landed, its answer was lost'));
    const invocation = new Invocation();
    const embedModel: Model = { ...model, name: 'overlap-embed', provider: 'bedrock-embeddings' };
    const err = await runEmbeddings({
      key,
      model: embedModel,
      request: { inputs: ['hello'] },
      requestId: 'req-overlap-lost-embed',
      invocation,
    }).then(
      () => undefined,
      (e: unknown) => e as { status?: number },
    );
    expect(err?.status).toBe(503);
    await invocation.done();
    const after = await getKeyById(key.id);
    expect(after?.leases.size).toBe(0);
    expect(after?.reserved).toBe(0n);
    expect(after?.parallel).toBe(0);
  });
});
