import { describe, expect, it } from 'vitest';
import type { ConverseResponse } from '@aws-sdk/client-bedrock-runtime';
import { mapConverseResponse } from '../../../lambdas/core/providers/bedrock-converse/map-response.js';

const meta = { id: 'chatcmpl-1', created: 1_700_000_000, model: 'c37', structuredToolName: undefined };
const res = (content: NonNullable<NonNullable<ConverseResponse['output']>['message']>['content'], stopReason: string, usage = {}) =>
  ({
    output: { message: { role: 'assistant', content } },
    stopReason,
    usage: { inputTokens: 449, outputTokens: 219, totalTokens: 668, ...usage },
  }) as Pick<ConverseResponse, 'output' | 'stopReason' | 'usage'>;

describe('mapConverseResponse', () => {
  it('joins every text block, keeps every tool call and the reasoning, echoes the client model name', () => {
    const { response, outcome } = mapConverseResponse(
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
      meta,
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
    expect(outcome).toMatchObject({ text: 'Checking both.', reasoning: 'Need coordinates.', finishReason: 'tool_calls' });
    expect(outcome.toolCalls).toHaveLength(2);
  });

  it('content is null when there are only tool calls, "" when there is nothing', () => {
    const tools = mapConverseResponse(res([{ toolUse: { toolUseId: 't', name: 'f', input: {} } }], 'tool_use'), meta);
    expect(tools.response.choices[0]!.message.content).toBeNull();
    const empty = mapConverseResponse(res([], 'end_turn'), meta);
    expect(empty.response.choices[0]!.message).toEqual({ role: 'assistant', content: '', refusal: null });
  });

  it('counts cache reads and writes in prompt_tokens', () => {
    const { response, outcome } = mapConverseResponse(
      res([{ text: 'ok' }], 'end_turn', { inputTokens: 10, outputTokens: 2, cacheReadInputTokens: 1000, cacheWriteInputTokens: 300 }),
      meta,
    );
    expect(response.usage).toEqual({
      prompt_tokens: 1310,
      completion_tokens: 2,
      total_tokens: 1312,
      prompt_tokens_details: { cached_tokens: 1000, cache_write_tokens: 300 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    expect(outcome.usage).toEqual({ inputTokens: 10, outputTokens: 2, cacheReadTokens: 1000, cacheWriteTokens: 300, reasoningTokens: 0 });
  });

  it('returns the response_format tool input as the content, with finish_reason stop', () => {
    const { response } = mapConverseResponse(
      res([{ toolUse: { toolUseId: 't', name: 'city_info', input: { city: 'Oslo' } } }], 'tool_use'),
      { ...meta, structuredToolName: 'city_info' },
    );
    expect(response.choices[0]).toMatchObject({ message: { content: '{"city":"Oslo"}' }, finish_reason: 'stop' });
    expect(response.choices[0]!.message).not.toHaveProperty('tool_calls');
  });

  it.each([
    ['max_tokens', 'length'],
    ['guardrail_intervened', 'content_filter'],
  ])('stopReason %s → %s', (stopReason, finish) => {
    expect(mapConverseResponse(res([{ text: 'x' }], stopReason), meta).response.choices[0]!.finish_reason).toBe(finish);
  });
});
