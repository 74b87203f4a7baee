import { ThrottlingException, ValidationException, type ConverseStreamOutput, type ResponseStream } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it, vi } from 'vitest';
import type { ChatEvent } from '../../../../lambdas/core/chat/events.js';
import type { ChatRequest } from '../../../../lambdas/core/chat/request.js';
import {
  createClaudeOnBedrock,
  countTokensModelId,
  type ClaudeTransport,
  type ClaudeOnBedrock,
} from '../../../../lambdas/core/providers/bedrock-anthropic/provider.js';
import { createBedrockConverseProvider, type ConverseTransport } from '../../../../lambdas/core/providers/bedrock-converse/provider.js';
import type { ProviderContext, ResolvedModel } from '../../../../lambdas/core/providers/types.js';
import { expectWellFormedEvents } from '../../../support/check-events.js';
import { fold, loadFrames } from './fixtures.js';

const CLAUDE_ID = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const target = { modelId: CLAUDE_ID, region: 'us-west-2', maxTokens: undefined };
const ctx = (): ProviderContext => ({ requestId: 'req-1', signal: new AbortController().signal });
const messagesRequest = (over: Partial<ChatRequest> = {}): ChatRequest => ({
  system: [],
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
  tools: [],
  maxTokens: 100,
  stream: true,
  extensions: { anthropic: { betas: ['claude-code-20250219'], fields: {} } },
  ...over,
});

function transport(over: Partial<ClaudeTransport>): ClaudeTransport {
  return {
    invoke: vi.fn(() => Promise.reject(new Error('unexpected invoke'))),
    invokeStream: vi.fn(() => Promise.reject(new Error('unexpected invokeStream'))),
    countTokens: vi.fn(() => Promise.reject(new Error('unexpected countTokens'))),
    ...over,
  };
}

async function* frames(list: ResponseStream[], failAfter?: Error): AsyncGenerator<ResponseStream> {
  for (const f of list) yield f;
  if (failAfter) throw failAfter;
}

async function collect(events: AsyncIterable<ChatEvent>): Promise<ChatEvent[]> {
  const out: ChatEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

const decode = (bytes: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(bytes));

describe('Claude on Bedrock (the bedrock-anthropic provider)', () => {
  it('stream: InvokeModelWithResponseStream with the Messages body, to the configured region, relayed as core events', async () => {
    const invokeStream = vi.fn<ClaudeTransport['invokeStream']>().mockResolvedValue(frames(loadFrames('thinking-signature')));
    const claude = createClaudeOnBedrock(transport({ invokeStream }));
    const events = await collect(await claude.chat(messagesRequest(), target, ctx()));
    expectWellFormedEvents(events);
    const [modelId, body, region] = invokeStream.mock.calls[0];
    expect([modelId, region]).toEqual([CLAUDE_ID, 'us-west-2']);
    expect(decode(body)).toEqual({
      anthropic_version: 'bedrock-2023-05-31',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      max_tokens: 100,
    });
    expect(fold(events).text).toBe('Hi there!');
  });

  it('non-stream: InvokeModel, its message replayed as events', async () => {
    const message = {
      id: 'msg_bdrk_1',
      type: 'message',
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 't', signature: 's' },
        { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 5, output_tokens: 3, cache_read_input_tokens: 2, cache_creation_input_tokens: 1 },
    };
    const invoke = vi.fn<ClaudeTransport['invoke']>().mockResolvedValue(new TextEncoder().encode(JSON.stringify(message)));
    const events = await collect(
      await createClaudeOnBedrock(transport({ invoke })).chat(messagesRequest({ stream: false }), target, ctx()),
    );
    expectWellFormedEvents(events);
    expect(fold(events)).toMatchObject({
      upstreamId: 'msg_bdrk_1',
      finishReason: 'tool_use',
      toolCalls: [{ id: 'toolu_1', name: 'f', arguments: '{"a":1}' }],
      blocks: [{ type: 'reasoning', text: 't', signature: 's' }, expect.anything()],
      usage: { inputTokens: 5, outputTokens: 3, cacheReadTokens: 2, cacheWriteTokens: 1, reasoningTokens: 0 },
    });
  });

  it('a refusal before the stream (throttling) rejects chat() itself: the route can still answer 429', async () => {
    const invokeStream = vi
      .fn<ClaudeTransport['invokeStream']>()
      .mockRejectedValue(new ThrottlingException({ message: 'slow', $metadata: {} }));
    await expect(createClaudeOnBedrock(transport({ invokeStream })).chat(messagesRequest(), target, ctx())).rejects.toMatchObject({
      status: 429,
      kind: 'rate_limit',
      retryAfter: 2,
    });
  });

  it('mid-stream: an exception member or a thrown SDK exception ends the events with a GatewayError', async () => {
    const withMember = vi.fn<ClaudeTransport['invokeStream']>().mockResolvedValue(frames(loadFrames('mid-stream-exception')));
    await expect(
      collect(await createClaudeOnBedrock(transport({ invokeStream: withMember })).chat(messagesRequest(), target, ctx())),
    ).rejects.toMatchObject({
      status: 502,
    });
    const thrown = vi
      .fn<ClaudeTransport['invokeStream']>()
      .mockResolvedValue(frames(loadFrames('text').slice(0, 3), new ThrottlingException({ message: 'later', $metadata: {} })));
    await expect(
      collect(await createClaudeOnBedrock(transport({ invokeStream: thrown })).chat(messagesRequest(), target, ctx())),
    ).rejects.toMatchObject({
      status: 429,
    });
  });

  it('countTokens: CountTokens on the foundation model, with a valid InvokeModel body (max_tokens above the thinking budget)', async () => {
    const countTokens = vi.fn<ClaudeTransport['countTokens']>().mockResolvedValue(321);
    const claude = createClaudeOnBedrock(transport({ countTokens }));
    const req = messagesRequest({ maxTokens: undefined, stream: false, reasoning: { mode: 'on', budgetTokens: 8000 } });
    expect(await claude.countTokens(req, target, ctx())).toBe(321);
    const [modelId, body] = countTokens.mock.calls[0];
    expect(modelId).toBe('anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(decode(body)).toMatchObject({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 8001,
      thinking: { type: 'enabled', budget_tokens: 8000 },
    });
  });

  it('countTokens: a model Bedrock cannot count for gives undefined (the caller estimates); throttling is a failure', async () => {
    const unsupported = vi
      .fn<ClaudeTransport['countTokens']>()
      .mockRejectedValue(new ValidationException({ message: "The provided model doesn't support counting tokens.", $metadata: {} }));
    expect(
      await createClaudeOnBedrock(transport({ countTokens: unsupported })).countTokens(messagesRequest(), target, ctx()),
    ).toBeUndefined();
    const throttled = vi
      .fn<ClaudeTransport['countTokens']>()
      .mockRejectedValue(new ThrottlingException({ message: 'slow', $metadata: {} }));
    await expect(
      createClaudeOnBedrock(transport({ countTokens: throttled })).countTokens(messagesRequest(), target, ctx()),
    ).rejects.toMatchObject({ status: 429 });
  });

  it.each([
    ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic.claude-sonnet-4-5-20250929-v1:0'],
    ['global.anthropic.claude-opus-4-6-v1', 'anthropic.claude-opus-4-6-v1'],
    ['anthropic.claude-3-7-sonnet-20250219-v1:0', 'anthropic.claude-3-7-sonnet-20250219-v1:0'],
    ['arn:aws:bedrock:us-east-1:1:application-inference-profile/x', 'arn:aws:bedrock:us-east-1:1:application-inference-profile/x'],
  ])('countTokensModelId(%s) = %s', (id, counted) => {
    expect(countTokensModelId(id)).toBe(counted);
  });
});

describe('bedrock-converse delegates Anthropic Messages requests for Claude to the native path', () => {
  const model = (config: Record<string, unknown>): ResolvedModel => ({ id: 1, name: 'm', provider: 'bedrock-converse', config });
  const converseStream = vi.fn<ConverseTransport['converseStream']>(() =>
    Promise.resolve({
      stream: (async function* (): AsyncGenerator<ConverseStreamOutput> {
        yield { messageStart: { role: 'assistant' } };
        yield { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'via converse' } } };
        yield { contentBlockStop: { contentBlockIndex: 0 } };
        yield { messageStop: { stopReason: 'end_turn' } };
      })(),
    }),
  );
  const fakeClaude = () => {
    const chat = vi.fn<ClaudeOnBedrock['chat']>(() => Promise.resolve((async function* (): AsyncGenerator<ChatEvent> {})()));
    const countTokens = vi.fn<ClaudeOnBedrock['countTokens']>(() => Promise.resolve(42));
    const claude: ClaudeOnBedrock = { chat, countTokens };
    return { claude, chat };
  };
  const converse: ConverseTransport = { converse: vi.fn(() => Promise.reject(new Error('no'))), converseStream };

  it.each([
    [{ modelId: CLAUDE_ID }, true],
    [{ modelId: 'arn:aws:bedrock:us-east-1:1:application-inference-profile/abc', family: 'anthropic' }, true],
    [{ modelId: 'arn:aws:bedrock:us-east-1:1:application-inference-profile/my-claude' }, false],
    [{ modelId: 'us.amazon.nova-pro-v1:0' }, false],
    [{ modelId: CLAUDE_ID, family: 'other' }, false],
  ])('%j → native: %s', async (config, native) => {
    const { claude, chat } = fakeClaude();
    converseStream.mockClear();
    await createBedrockConverseProvider(converse, claude).chat(messagesRequest(), model(config), ctx());
    expect(chat).toHaveBeenCalledTimes(native ? 1 : 0);
    expect(converseStream).toHaveBeenCalledTimes(native ? 0 : 1);
    expect(await createBedrockConverseProvider(converse, claude).countTokens!(messagesRequest(), model(config), ctx())).toBe(
      native ? 42 : undefined,
    );
  });

  it('a chat-completions request (no extensions.anthropic) to Claude stays on Converse, unchanged', async () => {
    const { claude, chat } = fakeClaude();
    converseStream.mockClear();
    const events = await collect(
      await createBedrockConverseProvider(converse, claude).chat(
        { ...messagesRequest(), extensions: undefined },
        model({ modelId: CLAUDE_ID }),
        ctx(),
      ),
    );
    expect(chat).not.toHaveBeenCalled();
    expect(fold(events).text).toBe('via converse');
  });

  it('on Converse, a Messages ceiling yields to the model’s maxTokens, and client cache marks need a model that caches', async () => {
    converseStream.mockClear();
    const req = messagesRequest({
      maxTokens: 32000,
      maxTokensIsCeiling: true,
      system: [{ type: 'text', text: 'rules', cache: { type: 'ephemeral' } }],
    });
    await createBedrockConverseProvider(converse, fakeClaude().claude).chat(
      req,
      model({ modelId: 'us.amazon.nova-pro-v1:0', maxTokens: 5000 }),
      ctx(),
    );
    expect(converseStream.mock.calls[0][0]).toMatchObject({ inferenceConfig: { maxTokens: 5000 }, system: [{ text: 'rules' }] });
    converseStream.mockClear();
    await createBedrockConverseProvider(converse, fakeClaude().claude).chat(
      req,
      model({ modelId: 'us.amazon.nova-pro-v1:0', promptCache: { system: true } }),
      ctx(),
    );
    expect(converseStream.mock.calls[0][0]).toMatchObject({ inferenceConfig: { maxTokens: 32000 } });
    // One cache point: the client's mark already ends the system part, the config does not add a second.
    expect(converseStream.mock.calls[0][0].system).toEqual([{ text: 'rules' }, { cachePoint: { type: 'default' } }]);
    converseStream.mockClear();
    // Without the ceiling mark (chat completions), the client's max_tokens wins as before.
    await createBedrockConverseProvider(converse, fakeClaude().claude).chat(
      { ...req, maxTokensIsCeiling: undefined },
      model({ modelId: 'us.amazon.nova-pro-v1:0', maxTokens: 5000 }),
      ctx(),
    );
    expect(converseStream.mock.calls[0][0]).toMatchObject({ inferenceConfig: { maxTokens: 32000 } });
  });
});
