/**
 * The simulator's Claude: InvokeModel, InvokeModelWithResponseStream and CountTokens with the Anthropic Messages body,
 * called through the real AWS SDK client, answered from scripts, and refusing what Bedrock refuses.
 */
import {
  BedrockRuntimeClient,
  CountTokensCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ModelStreamErrorException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { script, startBedrockSimulator, type BedrockSimulator } from '../local/bedrock-simulator/index.js';
import { fakeSignature } from '../local/bedrock-simulator/scenario.js';

const CLAUDE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
let sim: BedrockSimulator;
let client: BedrockRuntimeClient;

beforeAll(async () => {
  sim = await startBedrockSimulator();
  client = new BedrockRuntimeClient({
    endpoint: sim.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 't', secretAccessKey: 't' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await sim.close();
});
beforeEach(() => sim.reset());

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Anthropic events and bodies as parsed JSON
type Json = any;
const body = (over: Json = {}): Json => ({
  anthropic_version: 'bedrock-2023-05-31',
  max_tokens: 100,
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
  ...over,
});
const bytes = (b: Json) => new TextEncoder().encode(JSON.stringify(b));

async function invoke(b: Json): Promise<Json> {
  const res = await client.send(new InvokeModelCommand({ modelId: CLAUDE, body: bytes(b), contentType: 'application/json' }));
  return JSON.parse(new TextDecoder().decode(res.body));
}

async function stream(b: Json): Promise<{ events: Json[]; error: unknown }> {
  const res = await client.send(
    new InvokeModelWithResponseStreamCommand({ modelId: CLAUDE, body: bytes(b), contentType: 'application/json' }),
  );
  const events: Json[] = [];
  let error: unknown;
  try {
    for await (const e of res.body!) if (e.chunk?.bytes) events.push(JSON.parse(new TextDecoder().decode(e.chunk.bytes)));
  } catch (e) {
    error = e;
  }
  return { events, error };
}

describe('Claude on the simulator', () => {
  it('InvokeModel: the Anthropic message, with the default echo and cache usage from the script', async () => {
    expect(await invoke(body())).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: '[simulated Bedrock] You said: hello' }],
      stop_reason: 'end_turn',
    });
    sim.enqueue(script.text('hi', { usage: { inputTokens: 5, outputTokens: 1, cacheReadInputTokens: 7, cacheWriteInputTokens: 3 } }));
    expect((await invoke(body())).usage).toEqual({
      input_tokens: 5,
      output_tokens: 1,
      cache_read_input_tokens: 7,
      cache_creation_input_tokens: 3,
    });
  });

  it('InvokeModelWithResponseStream: one Anthropic event per chunk, in Claude’s order, invocation metrics on the last', async () => {
    const thinking = 'plan';
    sim.enqueue({
      content: [{ reasoning: { text: thinking, signature: fakeSignature(thinking) } }, { toolUse: { name: 'f', input: { a: 1 } } }],
      chunkSize: 4,
      usage: { inputTokens: 10, outputTokens: 4, cacheReadInputTokens: 2 },
    });
    const { events, error } = await stream(body({ thinking: { type: 'enabled', budget_tokens: 1024 }, max_tokens: 2000 }));
    expect(error).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[0].message.usage).toEqual({
      input_tokens: 10,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 2,
      output_tokens: 1,
    });
    expect(events[5].content_block).toMatchObject({ type: 'tool_use', name: 'f', id: expect.stringMatching(/^toolu_bdrk_/) });
    expect(events[9]).toMatchObject({ delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 4 } });
    expect(events[10]['amazon-bedrock-invocationMetrics']).toMatchObject({
      inputTokenCount: 10,
      outputTokenCount: 4,
      cacheReadInputTokenCount: 2,
    });
  });

  it('mid-stream failures arrive as exception frames', async () => {
    sim.enqueue(
      script.text('abcdef', { chunkSize: 1, failAfterEvents: { count: 3, exception: 'modelStreamErrorException', message: 'boom' } }),
    );
    const { events, error } = await stream(body());
    expect(events).toHaveLength(3);
    expect(error).toBeInstanceOf(ModelStreamErrorException);
  });

  it.each([
    ['an unknown beta', { anthropic_beta: ['claude-code-20250219'] }, 'invalid beta flag'],
    ['stream in the body', { stream: true }, 'extraneous key [stream]'],
    [
      'thinking.display',
      { thinking: { type: 'enabled', budget_tokens: 1024, display: 'omitted' }, max_tokens: 2000 },
      'thinking.enabled.display',
    ],
    ['adaptive thinking on Claude 4.5', { thinking: { type: 'adaptive' } }, "thinking.type: Input should be 'enabled' or 'disabled'"],
    ['output_config without effort', { output_config: { effort: 'high' } }, 'output_config'],
    ['context_management without its beta', { context_management: { edits: [] } }, 'context_management'],
    ['metadata beyond user_id', { metadata: { user_id: 'u', tags: [] } }, 'metadata.tags'],
    [
      'defer_loading on a tool',
      { tools: [{ name: 'f', input_schema: { type: 'object' }, defer_loading: true }] },
      'tools.0.custom.defer_loading',
    ],
    ['cache_control.scope', { system: [{ type: 'text', text: 's', cache_control: { type: 'ephemeral', scope: 'global' } }] }, 'scope'],
    ['a system role in messages', { messages: [{ role: 'system', content: 'x' }] }, "Input should be 'user' or 'assistant'"],
    [
      'a tool_use without its tool_result',
      {
        messages: [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }] },
          { role: 'user', content: 'no result' },
        ],
      },
      'without `tool_result` blocks',
    ],
    [
      'a simulated signature that does not match its thinking',
      {
        messages: [
          { role: 'user', content: 'q' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'changed', signature: fakeSignature('original') },
              { type: 'text', text: 'a' },
            ],
          },
          { role: 'user', content: 'q2' },
        ],
      },
      'Invalid `signature`',
    ],
  ])('refuses %s, as Bedrock does', async (_what, over, message) => {
    const err = await invoke(body(over)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationException);
    expect((err as Error).message).toContain(message);
  });

  it('accepts what Bedrock accepts: known betas, context_management with its beta, adaptive thinking and effort on Claude 4.6', async () => {
    await expect(
      invoke(
        body({ anthropic_beta: ['context-management-2025-06-27', 'interleaved-thinking-2025-05-14'], context_management: { edits: [] } }),
      ),
    ).resolves.toMatchObject({ type: 'message' });
    const res = await client.send(
      new InvokeModelCommand({
        modelId: 'global.anthropic.claude-opus-4-6-v1',
        body: bytes(body({ thinking: { type: 'adaptive' }, output_config: { effort: 'low' } })),
      }),
    );
    expect(JSON.parse(new TextDecoder().decode(res.body)).content[0].type).toBe('thinking');
  });

  it('CountTokens: the InvokeModel body counted (≈ characters / 4), never taking a queued script; only for Claude', async () => {
    sim.enqueue(script.text('for the next model call'));
    const counted = await client.send(new CountTokensCommand({ modelId: CLAUDE, input: { invokeModel: { body: bytes(body()) } } }));
    expect(counted.inputTokens).toBe(Math.ceil('usertexthello'.length / 4)); // every string of the messages
    expect((await invoke(body())).content[0].text).toBe('for the next model call');
    await expect(
      client.send(new CountTokensCommand({ modelId: 'amazon.nova-pro-v1:0', input: { invokeModel: { body: bytes(body()) } } })),
    ).rejects.toBeInstanceOf(ValidationException);
  });
});
