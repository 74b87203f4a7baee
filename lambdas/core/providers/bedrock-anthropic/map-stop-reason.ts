import type { FinishReason } from '../../chat/events.js';

const FINISH_BY_STOP_REASON: Readonly<Record<string, FinishReason>> = {
  end_turn: 'end_turn',
  stop_sequence: 'stop_sequence',
  max_tokens: 'max_tokens',
  model_context_window_exceeded: 'context_window_exceeded',
  tool_use: 'tool_use',
  refusal: 'refusal',
  pause_turn: 'pause_turn',
};

/** Claude's stop_reason → the neutral finish reason; an unknown one is `end_turn`. */
export function mapStopReason(stopReason: string | null | undefined): FinishReason {
  return (stopReason && FINISH_BY_STOP_REASON[stopReason]) || 'end_turn';
}
