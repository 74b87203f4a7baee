/**
 * The upstream gate fails closed in the pipeline: a provider that answers a gated call (a recalled admin key whose
 * confirming read is in flight) without having passed the gate is an error, and its answer is not relayed.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChatEvent } from '../../../lambdas/core/chat/events.js';
import { runChat } from '../../../lambdas/core/chat/pipeline.js';
import type * as Registry from '../../../lambdas/core/providers/registry.js';
import { money } from '../../../lambdas/core/money.js';
import { confirmByRead, recallKey, rememberKey } from '../../../lambdas/core/store/key-cache.js';
import { createKey } from '../../../lambdas/core/store/keys.js';
import type { Model } from '../../../lambdas/core/store/models.js';
import { ensureTable } from '../../../local/table.js';

let sent = 0;
vi.mock('../../../lambdas/core/providers/registry.js', async (importOriginal) => {
  const real = await importOriginal<typeof Registry>();
  return {
    ...real,
    // A provider that sends without awaiting passGate(ctx.signal).
    chatProvider: () =>
      Promise.resolve({
        kind: 'chat',
        chat: () => {
          sent++;
          return Promise.resolve(
            (async function* (): AsyncGenerator<ChatEvent> {
              yield* [];
            })(),
          );
        },
      }),
  };
});

const model: Model = {
  id: 1,
  name: 'gate-check',
  groupId: null,
  multiple: false,
  provider: 'bedrock-converse',
  config: {},
  priceIn: money('1'),
  priceOut: money('1'),
  priceCacheRead: undefined,
  priceCacheWrite: undefined,
  free: false,
  createdAt: '',
  updatedAt: '',
};

beforeAll(async () => {
  await ensureTable(process.env.TABLE_NAME!);
});

describe('the pipeline and the upstream gate', () => {
  it('a provider that skips the gate of a recalled admin key: the call fails instead of relaying its answer', async () => {
    const { key } = await createKey({ name: 'gate-check-admin', role: 'admin' });
    rememberKey(key);
    const recalled = recallKey(key.hash)!;
    confirmByRead(
      recalled,
      () => true,
      () => new Error('refused'),
    );
    const request = {
      system: [],
      messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] }],
      tools: [],
      stream: true,
    };
    await expect(runChat({ key: recalled, model, request, requestId: 'req-gate-check' })).rejects.toThrow(
      /without passing its upstream gate/,
    );
    expect(sent).toBe(1);
  });
});
