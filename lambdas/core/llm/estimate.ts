import { costOf, type Prices } from '../billing/cost.js';
import type { Money } from '../money.js';
import type { ChatCompletionRequest } from '../openai/types.js';

/** Tokens an image or document part is assumed to cost before the upstream says (Claude: ~1.6k per image). */
const TOKENS_PER_ATTACHMENT = 1600;
export const DEFAULT_OUTPUT_ESTIMATE = 4096;

/**
 * A deliberately generous estimate of a call's cost, held in reserve while it runs (see billing/admission.ts):
 * prompt characters / 3 plus a flat amount per attachment, and the full output allowance.
 */
export function estimateChatCost(req: ChatCompletionRequest, prices: Prices, configMaxTokens?: number): Money {
  let chars = 0;
  let attachments = 0;
  for (const m of req.messages) {
    if (typeof m.content === 'string') chars += m.content.length;
    else if (Array.isArray(m.content)) {
      for (const p of m.content) {
        if (p.type === 'text') chars += p.text.length;
        else attachments++;
      }
    }
    for (const t of m.tool_calls ?? []) chars += t.function.arguments.length + t.function.name.length;
  }
  for (const t of req.tools ?? []) chars += JSON.stringify(t).length;
  const inputTokens = Math.ceil(chars / 3) + attachments * TOKENS_PER_ATTACHMENT;
  const outputTokens = req.max_completion_tokens ?? req.max_tokens ?? configMaxTokens ?? DEFAULT_OUTPUT_ESTIMATE;
  return costOf({ inputTokens, outputTokens, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 }, prices);
}

export function estimateEmbeddingsCost(input: unknown, prices: Prices): Money {
  const texts = Array.isArray(input) ? input : [input];
  const chars = texts.reduce<number>((n, t) => n + (typeof t === 'string' ? t.length : 0), 0);
  return costOf({ inputTokens: Math.ceil(chars / 3) + texts.length, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 }, prices);
}
