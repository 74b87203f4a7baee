import type { ChatRequest } from '../../chat/request.js';
import { type ConverseConfig, DEFAULT_THINKING_BUDGET } from './config.js';

/** Claude's thinking budget per reasoning effort (1024 is Claude's minimum budget). */
const BUDGET_BY_EFFORT = { minimal: 1024, low: 2048, medium: DEFAULT_THINKING_BUDGET, high: 16384 } as const;
const MIN_THINKING_BUDGET = 1024;

export interface ThinkingPlan {
  budgetTokens: number;
}

export interface ThinkingInputs {
  /** The client's tool_choice makes the model call a tool (any / a named tool). */
  clientForcesTool: boolean;
  /** JSON output would be asked for through a forced tool (when thinking is off). */
  structuredForcesTool: boolean;
}

/**
 * Decides whether this request runs with Claude extended thinking, and with what budget.
 * Order: the request's own budget, then its effort, then the model config's default.
 */
export function resolveThinking(
  req: Pick<ChatRequest, 'reasoning' | 'messages' | 'maxTokens' | 'maxTokensIncludesReasoning'>,
  config: ConverseConfig,
  inputs: ThinkingInputs,
): ThinkingPlan | null {
  if (!config.claudeLike) return null;
  const asked = requestedBudget(req, config);
  if (asked === 'off') return null;
  const budget = asked ?? config.defaultThinkingBudget;
  if (budget === undefined) return null;
  // Claude refuses thinking under a forced tool choice ("Thinking may not be enabled when tool_choice forces tool
  // use"). The client's forced tool fixes the answer's shape, so it wins over reasoning, even asked for: OpenAI
  // clients send tool_choice "required" with a reasoning effort and expect a call, not a 400. JSON output asks for a
  // tool only when thinking is off, so there a config default yields and an explicit wish keeps thinking.
  if (inputs.clientForcesTool) return null;
  if (asked === undefined && inputs.structuredForcesTool) return null;
  // Claude rejects a tool-use continuation whose assistant turn lacks its signed reasoning; most OpenAI clients
  // never echo it, so thinking is skipped for such a turn instead of failing the request.
  if (pendingToolTurnLacksReasoning(req.messages)) return null;
  // Claude does not accept an assistant prefill (a conversation ending with an assistant turn) with thinking on.
  if (endsWithPrefill(req.messages)) return null;
  let budgetTokens = Math.max(MIN_THINKING_BUDGET, budget);
  // A limit on reasoning and answer together: the budget takes at most half of it, so the answer keeps room (a
  // budget of the whole limit would let thinking leave one token for the answer), and a limit too small for
  // Claude's minimum budget in its half means an answer without thinking.
  if (req.maxTokensIncludesReasoning && req.maxTokens !== undefined) {
    budgetTokens = Math.min(budgetTokens, Math.floor(req.maxTokens / 2));
    if (budgetTokens < MIN_THINKING_BUDGET) return null;
  }
  return { budgetTokens };
}

function requestedBudget(req: Pick<ChatRequest, 'reasoning'>, config: ConverseConfig): number | 'off' | undefined {
  const r = req.reasoning;
  if (!r) return undefined;
  if (r.mode === 'off') return 'off';
  if (r.budgetTokens !== undefined) return r.budgetTokens;
  if (r.effort) return BUDGET_BY_EFFORT[r.effort];
  return config.defaultThinkingBudget ?? DEFAULT_THINKING_BUDGET;
}

function pendingToolTurnLacksReasoning(messages: ChatRequest['messages']): boolean {
  const lastAssistant = [...messages].reverse().find((m) => m.role === 'assistant');
  if (!lastAssistant) return false;
  const calls = lastAssistant.content.some((b) => b.type === 'tool_use');
  const signed = lastAssistant.content.some((b) => (b.type === 'reasoning' && !!b.signature) || b.type === 'redacted_reasoning');
  return calls && !signed;
}

function endsWithPrefill(messages: ChatRequest['messages']): boolean {
  const last = messages[messages.length - 1];
  return last?.role === 'assistant' && !last.content.some((b) => b.type === 'tool_use');
}

/** The model-specific request field Converse passes through to Claude. */
export function thinkingRequestFields(plan: ThinkingPlan) {
  return { thinking: { type: 'enabled', budget_tokens: plan.budgetTokens } };
}
