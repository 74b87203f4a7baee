import { describe, expect, it } from 'vitest';
import { mapFinishReason } from '../../../lambdas/core/providers/bedrock-converse/map-finish-reason.js';

describe('mapFinishReason', () => {
  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['tool_use', 'tool_calls'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['guardrail_intervened', 'content_filter'],
    ['content_filtered', 'content_filter'],
    ['malformed_tool_use', 'stop'],
    ['something_new', 'stop'],
    [undefined, 'stop'],
  ])('%s → %s', (reason, finish) => {
    expect(mapFinishReason(reason, true)).toBe(finish);
  });

  it('tool_use with no tool call for the client (the response_format tool) is stop', () => {
    expect(mapFinishReason('tool_use', false)).toBe('stop');
  });
});
