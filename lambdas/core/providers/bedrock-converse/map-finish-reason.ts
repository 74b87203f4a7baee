import type { ChatEvent, FinishReason } from '../../chat/events.js';

const FINISH_BY_STOP_REASON: Record<string, FinishReason> = {
  end_turn: 'end_turn',
  stop_sequence: 'stop_sequence',
  tool_use: 'tool_use',
  max_tokens: 'max_tokens',
  model_context_window_exceeded: 'context_window_exceeded',
  guardrail_intervened: 'content_filter',
  content_filtered: 'content_filter',
};

/**
 * Bedrock stopReason → the neutral finish reason; unknown reasons are `end_turn`. `tool_use` without a tool call the
 * client sees (the response-format tool) is `end_turn`.
 */
export function mapFinishReason(stopReason: string | undefined, hasToolCalls: boolean): FinishReason {
  const reason = (stopReason && FINISH_BY_STOP_REASON[stopReason]) || 'end_turn';
  return reason === 'tool_use' && !hasToolCalls ? 'end_turn' : reason;
}

/** The finish event: Converse's stop reason, and the stop sequence when the request had exactly one. */
export function finishEvent(stopReason: string | undefined, hasClientToolCall: boolean, stopSequences: string[] | undefined): ChatEvent {
  const reason = mapFinishReason(stopReason, hasClientToolCall);
  return reason === 'stop_sequence' && stopSequences?.length === 1
    ? { type: 'finish', reason, stopSequence: stopSequences[0] }
    : { type: 'finish', reason };
}
