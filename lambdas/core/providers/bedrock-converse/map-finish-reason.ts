import type { FinishReason } from '../../openai/types.js';

const FINISH_BY_STOP_REASON: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  tool_use: 'tool_calls',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  guardrail_intervened: 'content_filter',
  content_filtered: 'content_filter',
};

/**
 * Bedrock stopReason → OpenAI finish_reason; unknown reasons are 'stop'. `tool_use` without a tool call the client
 * sees (the response_format tool) is 'stop'.
 */
export function mapFinishReason(stopReason: string | undefined, hasToolCalls: boolean): FinishReason {
  const reason = (stopReason && FINISH_BY_STOP_REASON[stopReason]) || 'stop';
  return reason === 'tool_calls' && !hasToolCalls ? 'stop' : reason;
}
