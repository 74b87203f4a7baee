/**
 * The OpenAI-compatible provider honours the call's upstream gate (upstream-gate.ts): its fetch is not made until
 * the gate opens, and not at all when the gate fails (the provider fails with the gate's error).
 */
import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../../lambdas/core/chat/request.js';
import { createOpenAICompatibleProvider } from '../../../lambdas/core/providers/openai-compatible/provider.js';
import { gateSignal } from '../../../lambdas/core/upstream-gate.js';

const model = { id: 1, name: 'compat', provider: 'openai-compatible', config: { baseUrl: 'http://127.0.0.1:9/v1', modelId: 'm' } };
const request: ChatRequest = {
  system: [],
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
  tools: [],
  stream: false,
};
const answer = () =>
  new Response(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] }), {
    headers: { 'content-type': 'application/json' },
  });

describe('openai-compatible provider and the upstream gate', () => {
  it('fetches only once the gate opens', async () => {
    let fetched = 0;
    const provider = createOpenAICompatibleProvider(() => {
      fetched++;
      return Promise.resolve(answer());
    });
    let open!: () => void;
    const abort = new AbortController();
    gateSignal(abort.signal, new Promise<void>((r) => (open = r)));
    const call = provider.chat(request, model, { requestId: 'r1', signal: abort.signal });
    await new Promise((r) => setTimeout(r, 20));
    expect(fetched).toBe(0);
    open();
    await call;
    expect(fetched).toBe(1);
  });

  it('a failed gate: no fetch, and the gate’s error', async () => {
    let fetched = 0;
    const provider = createOpenAICompatibleProvider(() => {
      fetched++;
      return Promise.resolve(answer());
    });
    const refusal = new Error('refused');
    const abort = new AbortController();
    gateSignal(abort.signal, Promise.reject(refusal));
    await expect(provider.chat(request, model, { requestId: 'r2', signal: abort.signal })).rejects.toBe(refusal);
    expect(fetched).toBe(0);
  });
});
