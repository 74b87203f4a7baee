import type { ChatCompletionRequest, ChatMessage } from '../../openai/types.js';
import { type ConverseConfig, DEFAULT_THINKING_BUDGET } from './config.js';

/** Claude's thinking budget per OpenAI reasoning_effort (1024 is Claude's minimum budget). */
export const BUDGET_BY_EFFORT = { minimal: 1024, low: 2048, medium: DEFAULT_THINKING_BUDGET, high: 16384 } as const;
export const MIN_THINKING_BUDGET = 1024;

export interface ThinkingPlan {
  budgetTokens: number;
}

export interface ThinkingInputs {
  /** The request makes the model call a tool (tool_choice required/named, or JSON output by a forced tool). */
  forcesTool: boolean;
}

/**
 * Decides whether this request runs with Claude extended thinking, and with what budget.
 * Order: the request's `thinking` field, then `reasoning_effort`, then the model config's default.
 */
export function resolveThinking(req: ChatCompletionRequest, config: ConverseConfig, inputs: ThinkingInputs): ThinkingPlan | null {
  if (!config.claudeLike) return null;
  const asked = requestedBudget(req, config);
  if (asked === 'off') return null;
  const budget = asked ?? config.defaultThinkingBudget;
  if (budget === undefined) return null;
  // Claude cannot think under a forced tool choice; a config default yields to the request's explicit wish.
  if (asked === undefined && inputs.forcesTool) return null;
  // Claude rejects a tool-use continuation whose assistant turn lacks its signed reasoning; most OpenAI clients
  // never echo it, so thinking is skipped for such a turn instead of failing the request.
  if (pendingToolTurnLacksReasoning(req.messages)) return null;
  // Claude does not accept an assistant prefill (a conversation ending with an assistant turn) with thinking on.
  if (endsWithPrefill(req.messages)) return null;
  return { budgetTokens: Math.max(MIN_THINKING_BUDGET, budget) };
}

function requestedBudget(req: ChatCompletionRequest, config: ConverseConfig): number | 'off' | undefined {
  if (req.thinking?.type === 'disabled') return 'off';
  if (req.thinking?.type === 'enabled') {
    return req.thinking.budget_tokens ?? config.defaultThinkingBudget ?? DEFAULT_THINKING_BUDGET;
  }
  return req.reasoning_effort ? BUDGET_BY_EFFORT[req.reasoning_effort] : undefined;
}

function pendingToolTurnLacksReasoning(messages: ChatMessage[]): boolean {
  const lastAssistant = [...(messages ?? [])].reverse().find((m) => m?.role === 'assistant');
  return !!lastAssistant?.tool_calls?.length && !(lastAssistant.reasoning_content && lastAssistant.reasoning_signature);
}

function endsWithPrefill(messages: ChatMessage[]): boolean {
  const last = messages?.[messages.length - 1];
  return last?.role === 'assistant' && !last.tool_calls?.length;
}

/** The model-specific request field Converse passes through to Claude. */
export function thinkingRequestFields(plan: ThinkingPlan) {
  return { thinking: { type: 'enabled', budget_tokens: plan.budgetTokens } };
}
