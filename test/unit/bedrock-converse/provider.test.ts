import { describe, expect, it, vi } from 'vitest';
import { ThrottlingException, ValidationException, type ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../../../lambdas/core/openai/types.js';
import type { CallContext, ResolvedModel } from '../../../lambdas/core/providers/types.js';
import { bedrockConverseProvider } from '../../../lambdas/core/providers/bedrock-converse/index.js';
import { createBedrockConverseProvider, type ConverseTransport } from '../../../lambdas/core/providers/bedrock-converse/provider.js';
import { loadEvents } from './fixtures.js';

const model: ResolvedModel = {
  id: 7,
  name: 'claude-sonnet',
  provider: 'bedrock-converse',
  config: { modelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-west-2' },
};
const req: ChatCompletionRequest = {
  model: 'claude-sonnet',
  messages: [{ role: 'user', content: 'hi' }],
  stream: true,
  stream_options: { include_usage: true },
};
const ctx = (signal?: AbortSignal): CallContext => ({ requestId: 'req-42', fetchImage: () => Promise.reject(new Error('no')), signal });

async function* events(list: ConverseStreamOutput[], failAfter?: unknown) {
  for (const e of list) yield e;
  if (failAfter) throw failAfter;
}

async function collect(chunks: AsyncIterable<ChatCompletionChunk>) {
  const out: ChatCompletionChunk[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

function transport(over: Partial<ConverseTransport>): ConverseTransport {
  return {
    converse: vi.fn(() => Promise.reject(new Error('unexpected converse'))),
    converseStream: vi.fn(() => Promise.reject(new Error('unexpected converseStream'))),
    ...over,
  };
}

describe('bedrock-converse provider', () => {
  it('is a chat provider', () => {
    expect(bedrockConverseProvider.kind).toBe('chat');
  });

  it('complete(): sends the mapped input to the configured region with the abort signal, echoes the model name', async () => {
    const converse = vi.fn<ConverseTransport['converse']>().mockResolvedValue({
      output: { message: { role: 'assistant', content: [{ text: 'pong' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 },
      metrics: { latencyMs: 1 },
      $metadata: {},
    });
    const signal = new AbortController().signal;
    const provider = createBedrockConverseProvider(transport({ converse }));
    const { response, outcome } = await provider.complete({ ...req, stream: false }, model, ctx(signal));
    expect(converse).toHaveBeenCalledWith(
      { modelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0', messages: [{ role: 'user', content: [{ text: 'hi' }] }] },
      'us-west-2',
      signal,
    );
    expect(response).toMatchObject({ id: 'chatcmpl-req-42', model: 'claude-sonnet', choices: [{ message: { content: 'pong' } }] });
    expect(outcome.usage.inputTokens).toBe(3);
  });

  it('complete(): upstream failures become GatewayErrors', async () => {
    const provider = createBedrockConverseProvider(
      transport({ converse: () => Promise.reject(new ValidationException({ message: 'bad temperature', $metadata: {} })) }),
    );
    await expect(provider.complete(req, model, ctx())).rejects.toMatchObject({ status: 400, message: 'bad temperature' });
  });

  it('stream(): resolves only after Bedrock accepted the request, and pre-stream errors reject stream() itself', async () => {
    const provider = createBedrockConverseProvider(
      transport({ converseStream: () => Promise.reject(new ThrottlingException({ message: 'slow', $metadata: {} })) }),
    );
    await expect(provider.stream(req, model, ctx())).rejects.toMatchObject({ status: 429, code: 'throttled' });
  });

  it('stream(): yields the chunks, then the usage chunk, and fills the outcome', async () => {
    const converseStream = vi.fn<ConverseTransport['converseStream']>().mockResolvedValue({ stream: events(loadEvents('cache-usage')) });
    const provider = createBedrockConverseProvider(transport({ converseStream }));
    const stream = await provider.stream(req, model, ctx());
    const chunks = await collect(stream.chunks);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? (c.choices.length === 0 ? 'usage' : c.choices[0]?.finish_reason))).toEqual([
      '',
      'Cached answer.',
      'stop',
      'usage',
    ]);
    expect(new Set(chunks.map((c) => c.id))).toEqual(new Set(['chatcmpl-req-42']));
    expect(stream.outcome()).toMatchObject({ text: 'Cached answer.', finishReason: 'stop', usage: { cacheReadTokens: 2048 } });
  });

  it('stream(): a mid-stream failure is thrown from the iterator as a GatewayError, the outcome stays partial', async () => {
    const failure = Object.assign(new Error('model crashed'), { name: 'ModelStreamErrorException' });
    const provider = createBedrockConverseProvider(
      transport({ converseStream: () => Promise.resolve({ stream: events(loadEvents('missing-message-stop'), failure) }) }),
    );
    const stream = await provider.stream(req, model, ctx());
    const seen: ChatCompletionChunk[] = [];
    await expect(
      (async () => {
        for await (const c of stream.chunks) seen.push(c);
      })(),
    ).rejects.toMatchObject({ status: 502, code: 'upstream_error' });
    expect(seen.some((c) => c.choices[0]?.finish_reason)).toBe(false);
    expect(stream.outcome()).toMatchObject({ text: 'Cut off mid sentence', finishReason: null });
  });

  it('stream(): concurrent requests do not share state', async () => {
    const provider = createBedrockConverseProvider(
      transport({
        converseStream: vi
          .fn<ConverseTransport['converseStream']>()
          .mockResolvedValueOnce({ stream: events(loadEvents('tool-call-only')) })
          .mockResolvedValueOnce({ stream: events(loadEvents('text-then-parallel-tools')) }),
      }),
    );
    const [a, b] = await Promise.all([provider.stream(req, model, ctx()), provider.stream(req, model, { ...ctx(), requestId: 'req-43' })]);
    await Promise.all([collect(a.chunks), collect(b.chunks)]);
    expect(a.outcome().toolCalls).toHaveLength(1);
    expect(b.outcome().toolCalls).toHaveLength(2);
  });

  it('a broken model config is a 500 before any upstream call', async () => {
    const t = transport({});
    const provider = createBedrockConverseProvider(t);
    await expect(provider.complete(req, { ...model, config: { region: 'x' } }, ctx())).rejects.toMatchObject({ status: 500 });
    expect(t.converse).not.toHaveBeenCalled();
  });
});
