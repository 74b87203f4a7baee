import { describe, expect, it } from 'vitest';
import { mapFinishReason } from '../../../../lambdas/core/providers/bedrock-converse/map-finish-reason.js';
import { toOpenAIFinishReason } from '../../../../lambdas/core/wire/openai-chat/encode.js';

describe('mapFinishReason', () => {
  it.each([
    ['end_turn', 'end_turn', 'stop'],
    ['stop_sequence', 'stop_sequence', 'stop'],
    ['tool_use', 'tool_use', 'tool_calls'],
    ['max_tokens', 'max_tokens', 'length'],
    ['model_context_window_exceeded', 'context_window_exceeded', 'length'],
    ['guardrail_intervened', 'content_filter', 'content_filter'],
    ['content_filtered', 'content_filter', 'content_filter'],
    ['malformed_tool_use', 'end_turn', 'stop'],
    ['something_new', 'end_turn', 'stop'],
    [undefined, 'end_turn', 'stop'],
  ])('%s → %s (OpenAI %s)', (reason, neutral, openai) => {
    expect(mapFinishReason(reason, true)).toBe(neutral);
    expect(toOpenAIFinishReason(mapFinishReason(reason, true))).toBe(openai);
  });

  it('tool_use with no tool call for the client (the response_format tool) is end_turn (OpenAI stop)', () => {
    expect(mapFinishReason('tool_use', false)).toBe('end_turn');
    expect(toOpenAIFinishReason(mapFinishReason('tool_use', false))).toBe('stop');
  });
});
