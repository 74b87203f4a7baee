import type { ConverseResponse } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { converseResponseEvents } from '../../../../lambdas/core/providers/bedrock-converse/map-response.js';
import { encodeChatCompletion } from '../../../../lambdas/core/wire/openai-chat/encode.js';
import { expectWellFormedEvents } from '../../../support/check-events.js';
import { fold, replay } from './fixtures.js';

const meta = { id: 'chatcmpl-1', created: 1_700_000_000, model: 'c37' };
type Content = NonNullable<NonNullable<ConverseResponse['output']>['message']>['content'];
const res = (content: Content, stopReason: string, usage = {}) =>
  ({
    output: { message: { role: 'assistant', content } },
    stopReason,
    usage: { inputTokens: 449, outputTokens: 219, totalTokens: 668, ...usage },
  }) as Pick<ConverseResponse, 'output' | 'stopReason' | 'usage'>;

/** A non-stream Converse answer → core events → folded → OpenAI chat.completion, as the route answers it. */
function complete(r: Pick<ConverseResponse, 'output' | 'stopReason' | 'usage'>, structuredToolName?: string) {
  const events = converseResponseEvents(r, { structuredToolName });
  const result = fold(events);
  return { events, result, response: encodeChatCompletion(result, meta) };
}

describe('converseResponseEvents → chat.completion', () => {
  it('joins every text block, keeps every tool call and the reasoning', () => {
    const { response, result } = complete(
      res(
        [
          { reasoningContent: { reasoningText: { text: 'Need coordinates.', signature: 'sig' } } },
          { text: 'Checking ' },
          { toolUse: { toolUseId: 'tooluse_1', name: 'query-weather', input: { latitude: '39.9' } } },
          { text: 'both.' },
          { toolUse: { toolUseId: 'tooluse_2', name: 'query-weather', input: { latitude: '31.2' } } },
        ],
        'tool_use',
      ),
    );
    expect(response).toEqual({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'c37',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Checking both.',
            refusal: null,
            tool_calls: [
              { id: 'tooluse_1', type: 'function', function: { name: 'query-weather', arguments: '{"latitude":"39.9"}' } },
              { id: 'tooluse_2', type: 'function', function: { name: 'query-weather', arguments: '{"latitude":"31.2"}' } },
            ],
            reasoning_content: 'Need coordinates.',
            reasoning_signature: 'sig',
          },
          finish_reason: 'tool_calls',
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: 449,
        completion_tokens: 219,
        total_tokens: 668,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    });
    expect(result).toMatchObject({ text: 'Checking both.', reasoning: 'Need coordinates.', finishReason: 'tool_use' });
    expect(result.toolCalls).toHaveLength(2);
  });

  it('content is null when there are only tool calls, "" when there is nothing', () => {
    const tools = complete(res([{ toolUse: { toolUseId: 't', name: 'f', input: {} } }], 'tool_use'));
    expect(tools.response.choices[0].message.content).toBeNull();
    const empty = complete(res([], 'end_turn'));
    expect(empty.response.choices[0].message).toEqual({ role: 'assistant', content: '', refusal: null });
  });

  it('counts cache reads and writes in prompt_tokens', () => {
    const { response, result } = complete(
      res([{ text: 'ok' }], 'end_turn', { inputTokens: 10, outputTokens: 2, cacheReadInputTokens: 1000, cacheWriteInputTokens: 300 }),
    );
    expect(response.usage).toEqual({
      prompt_tokens: 1310,
      completion_tokens: 2,
      total_tokens: 1312,
      prompt_tokens_details: { cached_tokens: 1000, cache_write_tokens: 300 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    expect(result.usage).toEqual({ inputTokens: 10, outputTokens: 2, cacheReadTokens: 1000, cacheWriteTokens: 300, reasoningTokens: 0 });
  });

  it('returns the response_format tool input as the content, with finish_reason stop', () => {
    const { response } = complete(
      res([{ toolUse: { toolUseId: 't', name: 'city_info', input: { city: 'Oslo' } } }], 'tool_use'),
      'city_info',
    );
    expect(response.choices[0]).toMatchObject({ message: { content: '{"city":"Oslo"}' }, finish_reason: 'stop' });
    expect(response.choices[0].message).not.toHaveProperty('tool_calls');
  });

  it.each([
    ['max_tokens', 'length'],
    ['guardrail_intervened', 'content_filter'],
  ])('stopReason %s → %s', (stopReason, finish) => {
    expect(complete(res([{ text: 'x' }], stopReason)).response.choices[0].finish_reason).toBe(finish);
  });

  it('redacted reasoning becomes a block carrying its bytes as base64, and no text', () => {
    const { events, result } = complete(
      res([{ reasoningContent: { redactedContent: Uint8Array.from([7, 8, 9]) } }, { text: 'ok' }], 'end_turn'),
    );
    expect(events[1]).toEqual({ type: 'block_start', index: 0, block: { type: 'redacted_reasoning', data: 'BwgJ' } });
    expect(result).toMatchObject({
      text: 'ok',
      reasoning: '',
      blocks: [
        { type: 'redacted_reasoning', data: 'BwgJ' },
        { type: 'text', text: 'ok' },
      ],
    });
  });

  it('the replayed events keep the stream guarantees (dense indexes, tool indexes among tools, one finish)', () => {
    const { events } = complete(
      res(
        [
          { text: 'a' },
          { toolUse: { toolUseId: 't1', name: 'f', input: {} } },
          { reasoningContent: { reasoningText: { text: 'r' } } },
          { toolUse: { toolUseId: 't2', name: 'g', input: { x: 1 } } },
        ],
        'tool_use',
      ),
    );
    expectWellFormedEvents(events);
    expect(
      events.flatMap((e) => (e.type === 'block_start' ? [[e.index, e.block.type === 'tool_use' ? e.block.toolIndex : null]] : [])),
    ).toEqual([
      [0, null],
      [1, 0],
      [2, null],
      [3, 1],
    ]);
  });

  it('a non-stream answer folds to exactly what the same answer streamed folds to', () => {
    const streamed = replay('text-then-parallel-tools').result;
    const whole = complete(
      res(
        [
          { text: 'Checking both cities.' },
          { toolUse: { toolUseId: 'tooluse_p1', name: 'get_weather', input: { city: 'Paris' } } },
          { toolUse: { toolUseId: 'tooluse_p2', name: 'get_weather', input: { city: 'Rome' } } },
        ],
        'tool_use',
        { inputTokens: 320, outputTokens: 75, totalTokens: 395 },
      ),
    ).result;
    expect(whole).toEqual(streamed);

    const streamedReasoning = replay('reasoning-then-text').result;
    const wholeReasoning = complete(
      res(
        [
          { reasoningContent: { reasoningText: { text: 'The user greets me. Reply briefly.', signature: 'EqQBCkgIARABGAIiQL0sig==' } } },
          { text: 'Hi there!' },
        ],
        'end_turn',
        { inputTokens: 40, outputTokens: 60, totalTokens: 100 },
      ),
    ).result;
    expect(wholeReasoning).toEqual(streamedReasoning);
  });
});
