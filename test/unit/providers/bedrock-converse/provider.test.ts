import { type ConverseStreamOutput, ThrottlingException, ValidationException } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it, vi } from 'vitest';
import type { ChatEvent } from '../../../../lambdas/core/chat/events.js';
import { foldEvents } from '../../../../lambdas/core/chat/fold.js';
import { bedrockConverseProvider } from '../../../../lambdas/core/providers/bedrock-converse/index.js';
import { type ConverseTransport, createBedrockConverseProvider } from '../../../../lambdas/core/providers/bedrock-converse/provider.js';
import type { ProviderContext, ResolvedModel } from '../../../../lambdas/core/providers/types.js';
import { decodeChatCompletion } from '../../../../lambdas/core/wire/openai-chat/decode.js';
import { type CompletionMeta, encodeChatCompletion, OpenAIChatChunkEncoder } from '../../../../lambdas/core/wire/openai-chat/encode.js';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../../../../lambdas/core/wire/openai-chat/types.js';
import { expectWellFormedEvents } from '../../../support/check-events.js';
import { fold, loadEvents } from './fixtures.js';

const model: ResolvedModel = {
  id: 7,
  name: 'claude-sonnet',
  provider: 'bedrock-converse',
  config: { modelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-west-2' },
};
const openai: ChatCompletionRequest = {
  model: 'claude-sonnet',
  messages: [{ role: 'user', content: 'hi' }],
  stream: true,
  stream_options: { include_usage: true },
};
/** What the route hands the pipeline: the OpenAI body decoded. */
const req = decodeChatCompletion(openai);
const nonStream = decodeChatCompletion({ ...openai, stream: false });
/** What the route derives from the request id and the client's model name. */
const meta: CompletionMeta = { id: 'chatcmpl-req-42', created: 1_700_000_000, model: openai.model };
const ctx = (signal: AbortSignal = new AbortController().signal, requestId = 'req-42'): ProviderContext => ({ requestId, signal });

async function* events(list: ConverseStreamOutput[], failAfter?: Error) {
  for (const e of list) {
    await Promise.resolve();
    yield e;
  }
  if (failAfter) throw failAfter;
}

async function collect(stream: AsyncIterable<ChatEvent>) {
  const out: ChatEvent[] = [];
  for await (const ev of stream) out.push(ev);
  return out;
}

/** The chunks an OpenAI streaming client receives for these events (the route's relay). */
function encodeStream(evs: ChatEvent[], includeUsage = true): ChatCompletionChunk[] {
  const encoder = new OpenAIChatChunkEncoder(meta, includeUsage);
  return [...evs.flatMap((ev) => encoder.encode(ev)), ...encoder.end()];
}

const unexpectedConverse = () => vi.fn<ConverseTransport['converse']>(() => Promise.reject(new Error('unexpected converse')));
const unexpectedConverseStream = () =>
  vi.fn<ConverseTransport['converseStream']>(() => Promise.reject(new Error('unexpected converseStream')));

function transport(over: Partial<ConverseTransport>): ConverseTransport {
  return { converse: unexpectedConverse(), converseStream: unexpectedConverseStream(), ...over };
}

describe('bedrock-converse provider', () => {
  it('is a chat provider', () => {
    expect(bedrockConverseProvider.kind).toBe('chat');
  });

  it('stream false: sends the mapped input to Converse in the configured region with the abort signal', async () => {
    const converse = vi.fn<ConverseTransport['converse']>().mockResolvedValue({
      output: { message: { role: 'assistant', content: [{ text: 'pong' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 },
      metrics: { latencyMs: 1 },
      $metadata: {},
    });
    const converseStream = unexpectedConverseStream();
    const t = transport({ converse, converseStream });
    const signal = new AbortController().signal;
    const provider = createBedrockConverseProvider(t);
    const evs = await collect(await provider.chat(nonStream, model, ctx(signal)));
    expect(converse).toHaveBeenCalledWith(
      { modelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0', messages: [{ role: 'user', content: [{ text: 'hi' }] }] },
      'us-west-2',
      signal,
    );
    expect(converseStream).not.toHaveBeenCalled();
    expectWellFormedEvents(evs);
    const result = fold(evs);
    expect(result).toMatchObject({ text: 'pong', finishReason: 'end_turn', usage: { inputTokens: 3, outputTokens: 1 } });
    expect(encodeChatCompletion(result, meta)).toMatchObject({
      id: 'chatcmpl-req-42',
      model: 'claude-sonnet',
      choices: [{ message: { content: 'pong' } }],
    });
  });

  it('stream false: upstream failures become GatewayErrors', async () => {
    const provider = createBedrockConverseProvider(
      transport({ converse: () => Promise.reject(new ValidationException({ message: 'bad temperature', $metadata: {} })) }),
    );
    await expect(provider.chat(nonStream, model, ctx())).rejects.toMatchObject({ status: 400, message: 'bad temperature' });
  });

  it('stream true: resolves only after Bedrock accepted the request, and pre-stream errors reject chat() itself', async () => {
    const provider = createBedrockConverseProvider(
      transport({ converseStream: () => Promise.reject(new ThrottlingException({ message: 'slow', $metadata: {} })) }),
    );
    await expect(provider.chat(req, model, ctx())).rejects.toMatchObject({ status: 429, code: 'throttled' });
  });

  it('stream true: uses ConverseStream with the signal; its events encode to the chunks, then the usage chunk', async () => {
    const converseStream = vi.fn<ConverseTransport['converseStream']>().mockResolvedValue({ stream: events(loadEvents('cache-usage')) });
    const converse = unexpectedConverse();
    const t = transport({ converse, converseStream });
    const signal = new AbortController().signal;
    const provider = createBedrockConverseProvider(t);
    const evs = await collect(await provider.chat(req, model, ctx(signal)));
    expect(converseStream).toHaveBeenCalledWith(
      expect.objectContaining({ modelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0' }),
      'us-west-2',
      signal,
    );
    expect(converse).not.toHaveBeenCalled();
    const chunks = encodeStream(evs);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? (c.choices.length === 0 ? 'usage' : c.choices[0]?.finish_reason))).toEqual([
      '',
      'Cached answer.',
      'stop',
      'usage',
    ]);
    expect(new Set(chunks.map((c) => c.id))).toEqual(new Set(['chatcmpl-req-42']));
    expect(fold(evs)).toMatchObject({ text: 'Cached answer.', finishReason: 'end_turn', usage: { cacheReadTokens: 2048 } });
  });

  it('stream true: a mid-stream failure is thrown from the iterator as a GatewayError, the answer so far stays', async () => {
    const failure = Object.assign(new Error('model crashed'), { name: 'ModelStreamErrorException' });
    const provider = createBedrockConverseProvider(
      transport({ converseStream: () => Promise.resolve({ stream: events(loadEvents('missing-message-stop'), failure) }) }),
    );
    const stream = await provider.chat(req, model, ctx());
    const seen: ChatEvent[] = [];
    await expect(
      (async () => {
        for await (const ev of stream) seen.push(ev);
      })(),
    ).rejects.toMatchObject({ status: 502, code: 'upstream_error' });
    expect(seen.some((ev) => ev.type === 'finish')).toBe(false);
    expect(fold(seen)).toMatchObject({ text: 'Cut off mid sentence', finishReason: null });
    expectWellFormedEvents(seen, { complete: false });
  });

  it('stream true: a stream cut off without an error is the 502 upstream_stream_incomplete, and foldEvents rejects', async () => {
    const provider = createBedrockConverseProvider(
      transport({ converseStream: () => Promise.resolve({ stream: events(loadEvents('missing-message-stop')) }) }),
    );
    await expect(foldEvents(await provider.chat(req, model, ctx()))).rejects.toMatchObject({
      status: 502,
      code: 'upstream_stream_incomplete',
    });
  });

  it('stream true: no event stream from Bedrock is a 502', async () => {
    const provider = createBedrockConverseProvider(transport({ converseStream: () => Promise.resolve({}) }));
    await expect(provider.chat(req, model, ctx())).rejects.toMatchObject({ status: 502, code: 'upstream_error' });
  });

  it('concurrent requests do not share state', async () => {
    const provider = createBedrockConverseProvider(
      transport({
        converseStream: vi
          .fn<ConverseTransport['converseStream']>()
          .mockResolvedValueOnce({ stream: events(loadEvents('tool-call-only')) })
          .mockResolvedValueOnce({ stream: events(loadEvents('text-then-parallel-tools')) }),
      }),
    );
    const [a, b] = await Promise.all([provider.chat(req, model, ctx()), provider.chat(req, model, ctx(undefined, 'req-43'))]);
    const [aEvents, bEvents] = await Promise.all([collect(a), collect(b)]);
    expect(fold(aEvents).toolCalls).toHaveLength(1);
    expect(fold(bEvents).toolCalls).toHaveLength(2);
  });

  it('a broken model config is a 500 before any upstream call', async () => {
    const converse = unexpectedConverse();
    const converseStream = unexpectedConverseStream();
    const provider = createBedrockConverseProvider({ converse, converseStream });
    await expect(provider.chat(nonStream, { ...model, config: { region: 'x' } }, ctx())).rejects.toMatchObject({ status: 500 });
    await expect(provider.chat(req, { ...model, config: { region: 'x' } }, ctx())).rejects.toMatchObject({ status: 500 });
    expect(converse).not.toHaveBeenCalled();
    expect(converseStream).not.toHaveBeenCalled();
  });
});
