import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../../../lambdas/core/openai/types.js';
import { ConverseStreamState } from '../../../lambdas/core/providers/bedrock-converse/stream-state.js';
import { GatewayError } from '../../../lambdas/core/openai/errors.js';
import { deltas, META, replay } from './fixtures.js';

const SCENARIOS = [
  'plain-text',
  'tool-call-only',
  'text-then-parallel-tools',
  'reasoning-then-text',
  'max-tokens',
  'guardrail-intervened',
  'cache-usage',
  'structured-output',
];

/** The wire rules strict OpenAI clients enforce, checked on every scenario. */
function expectWellFormed(chunks: ChatCompletionChunk[]) {
  expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
  for (const c of chunks) {
    expect(c).toMatchObject({ id: META.id, created: META.created, model: META.model, object: 'chat.completion.chunk' });
    for (const choice of c.choices) {
      expect(choice.index).toBe(0);
      expect(choice.logprobs).toBeNull();
    }
  }
  expect(chunks.filter((c) => c.choices[0]?.finish_reason != null)).toHaveLength(1);
  expect(chunks.slice(1).some((c) => c.choices[0]?.delta.role)).toBe(false);
  const seen = new Set<number>();
  for (const call of chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])) {
    if (seen.has(call.index)) {
      expect(call).toEqual({ index: call.index, function: { arguments: call.function.arguments } });
    } else {
      expect(call.index).toBe(seen.size); // dense, in order of appearance
      expect(call).toMatchObject({ type: 'function', function: { arguments: '' } });
      expect(call.id).toBeTruthy();
      expect(call.function.name).toBeTruthy();
      seen.add(call.index);
    }
  }
}

describe('ConverseStreamState', () => {
  it.each(SCENARIOS)('%s: follows the OpenAI chunk rules', (name) => {
    expectWellFormed(replay(name).chunks);
    expectWellFormed(replay(name, { includeUsage: true }).chunks);
  });

  it('plain text: role chunk, text deltas, one stop chunk', () => {
    const { chunks, outcome } = replay('plain-text');
    expect(deltas(chunks)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { content: 'Hello' }, finish: null },
      { delta: { content: ', world.' }, finish: null },
      { delta: {}, finish: 'stop' },
    ]);
    expect(chunks.every((c) => c.usage === undefined)).toBe(true);
    expect(outcome).toEqual({
      text: 'Hello, world.',
      reasoning: '',
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 12, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
    });
  });

  it('a tool call with no text before it is index 0, name only on its first delta', () => {
    const { chunks, outcome } = replay('tool-call-only');
    expect(deltas(chunks)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish: null },
      {
        delta: { tool_calls: [{ index: 0, id: 'tooluse_a1', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
        finish: null,
      },
      { delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, finish: null },
      { delta: { tool_calls: [{ index: 0, function: { arguments: ' "Beijing"}' } }] }, finish: null },
      { delta: {}, finish: 'tool_calls' },
    ]);
    expect(outcome.toolCalls).toEqual([
      { id: 'tooluse_a1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Beijing"}' } },
    ]);
    expect(outcome.finishReason).toBe('tool_calls');
  });

  it('text then two parallel tool calls: indexes 0 and 1, not the contentBlockIndex', () => {
    const { chunks, outcome } = replay('text-then-parallel-tools');
    expect(deltas(chunks)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { content: 'Checking both cities.' }, finish: null },
      {
        delta: { tool_calls: [{ index: 0, id: 'tooluse_p1', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
        finish: null,
      },
      { delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] }, finish: null },
      {
        delta: { tool_calls: [{ index: 1, id: 'tooluse_p2', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
        finish: null,
      },
      { delta: { tool_calls: [{ index: 1, function: { arguments: '{"city":' } }] }, finish: null },
      { delta: { tool_calls: [{ index: 1, function: { arguments: '"Rome"}' } }] }, finish: null },
      { delta: {}, finish: 'tool_calls' },
    ]);
    expect(outcome.text).toBe('Checking both cities.');
    expect(outcome.toolCalls.map((c) => [c.id, c.function.arguments])).toEqual([
      ['tooluse_p1', '{"city":"Paris"}'],
      ['tooluse_p2', '{"city":"Rome"}'],
    ]);
  });

  it('reasoning with signature, then text', () => {
    const { chunks, outcome } = replay('reasoning-then-text');
    expect(deltas(chunks)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { reasoning_content: 'The user greets me. ' }, finish: null },
      { delta: { reasoning_content: 'Reply briefly.' }, finish: null },
      { delta: { reasoning_signature: 'EqQBCkgIARABGAIiQL0sig==' }, finish: null },
      { delta: { content: 'Hi there!' }, finish: null },
      { delta: {}, finish: 'stop' },
    ]);
    expect(outcome).toMatchObject({ text: 'Hi there!', reasoning: 'The user greets me. Reply briefly.' });
  });

  it.each([
    ['max-tokens', 'length'],
    ['guardrail-intervened', 'content_filter'],
  ])('%s ends with finish_reason %s', (name, finish) => {
    const { chunks, outcome } = replay(name);
    expect(deltas(chunks).at(-1)).toEqual({ delta: {}, finish });
    expect(outcome.finishReason).toBe(finish);
  });

  it('a stream cut off before messageStop is an upstream failure (502), not a complete answer; the text is kept', () => {
    const { chunks, outcome, endError } = replay('missing-message-stop', { includeUsage: true });
    expect(deltas(chunks)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { content: 'Cut off mid' }, finish: null },
      { delta: { content: ' sentence' }, finish: null },
    ]);
    expect(endError).toMatchObject({ status: 502, code: 'upstream_stream_incomplete' });
    expect(outcome.text).toBe('Cut off mid sentence');
    expect(outcome.finishReason).toBeNull();
  });

  it('include_usage: one last chunk with choices [] and cache tokens counted in prompt_tokens', () => {
    const { chunks, outcome } = replay('cache-usage', { includeUsage: true });
    const last = chunks.at(-1)!;
    expect(last).toEqual({
      id: META.id,
      object: 'chat.completion.chunk',
      created: META.created,
      model: META.model,
      choices: [],
      usage: {
        prompt_tokens: 10 + 2048 + 512,
        completion_tokens: 4,
        total_tokens: 10 + 2048 + 512 + 4,
        prompt_tokens_details: { cached_tokens: 2048, cache_write_tokens: 512 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    });
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(outcome.usage).toEqual({ inputTokens: 10, outputTokens: 4, cacheReadTokens: 2048, cacheWriteTokens: 512, reasoningTokens: 0 });
  });

  it('without include_usage no usage chunk is sent, but the outcome still has the usage', () => {
    const { chunks, outcome } = replay('cache-usage');
    expect(chunks.some((c) => c.choices.length === 0 || c.usage)).toBe(false);
    expect(outcome.usage.cacheReadTokens).toBe(2048);
  });

  it('the response_format tool streams its input as content and finishes with stop', () => {
    const { chunks, outcome } = replay('structured-output', { structuredToolName: 'weather_report' });
    expect(deltas(chunks)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { content: '{"city":"Oslo",' }, finish: null },
      { delta: { content: '"temp_c":-3}' }, finish: null },
      { delta: {}, finish: 'stop' },
    ]);
    expect(outcome).toMatchObject({ text: '{"city":"Oslo","temp_c":-3}', toolCalls: [], finishReason: 'stop' });
  });

  it('an exception event becomes a mapped GatewayError, keeping the partial outcome', () => {
    const state = new ConverseStreamState(META);
    state.next({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'partial' } } });
    let thrown: unknown;
    try {
      state.next({ throttlingException: { name: 'ThrottlingException', $fault: 'client', message: 'slow down' } } as never);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(GatewayError);
    expect(thrown).toMatchObject({ status: 429, code: 'throttled' });
    expect(state.outcome()).toMatchObject({ text: 'partial', finishReason: null });
  });

  it('each request has its own state', () => {
    const a = new ConverseStreamState(META);
    const b = new ConverseStreamState({ ...META, id: 'chatcmpl-other' });
    a.next({ contentBlockStart: { contentBlockIndex: 0, start: { toolUse: { toolUseId: 't1', name: 'f' } } } });
    const [, first] = b.next({ contentBlockStart: { contentBlockIndex: 3, start: { toolUse: { toolUseId: 't2', name: 'g' } } } });
    expect(first!.choices[0]!.delta.tool_calls![0]!.index).toBe(0);
    expect(first!.id).toBe('chatcmpl-other');
    expect(a.outcome().toolCalls).toHaveLength(1);
  });
});
