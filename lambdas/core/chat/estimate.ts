import { costOf, type Prices } from '../billing/cost.js';
import type { Money } from '../money.js';
import type { ChatRequest } from './request.js';

/** Tokens an image is assumed to cost before the upstream says (Claude: ~1.6k per image). */
const TOKENS_PER_IMAGE = 1600;
/**
 * Output reserved when neither the request nor the model config bounds it. The upstream then applies the model's
 * own maximum, which this covers for current models; set the model's `config.maxTokens` to bound it exactly.
 */
export const DEFAULT_OUTPUT_ESTIMATE = 32768;
/** Upper bound of a thinking budget the request does not state (reasoning effort high is 16384). */
export const THINKING_ESTIMATE = 16384;

/**
 * A deliberately generous estimate of a call's cost, held in reserve while it runs (see billing/admission.ts):
 * prompt characters / 3 plus a flat amount per image (documents by size), and the full output allowance
 * including any thinking budget.
 */
export function estimateChatCost(req: ChatRequest, prices: Prices, config: Record<string, unknown> = {}): Money {
  const { inputTokens, outputTokens } = estimateChatTokens(req, config);
  return costOf({ inputTokens, outputTokens, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 }, prices);
}

/** The call's tokens as admission counts them (also against a tokens-per-minute limit): prompt + full output allowance. */
export function estimateChatTokens(req: ChatRequest, config: Record<string, unknown> = {}): { inputTokens: number; outputTokens: number } {
  const configMaxTokens = typeof config.maxTokens === 'number' ? config.maxTokens : undefined;
  // Thinking tokens are billed as output and come on top of max_tokens upstream: reserve them too.
  return {
    inputTokens: estimatePromptTokens(req),
    outputTokens: (req.maxTokens ?? configMaxTokens ?? DEFAULT_OUTPUT_ESTIMATE) + thinkingEstimate(req, config),
  };
}

/** The prompt's size in tokens as admission counts it: text / 3, a flat amount per image, documents by size. */
export function estimatePromptTokens(req: Pick<ChatRequest, 'system' | 'messages' | 'tools'>): number {
  let chars = 0;
  let images = 0;
  for (const b of req.system) chars += b.text.length;
  for (const m of req.messages) {
    for (const b of m.content) {
      switch (b.type) {
        case 'text':
          chars += b.text.length;
          break;
        case 'image':
          images++;
          break;
        case 'document':
          chars += Math.max(TOKENS_PER_IMAGE * 3, b.data.length);
          break;
        case 'tool_use':
          chars += JSON.stringify(b.input).length + b.name.length;
          break;
        case 'tool_result':
          for (const c of b.content) {
            if (c.type === 'text') chars += c.text.length;
            else images++;
          }
          break;
        case 'reasoning':
          chars += b.text.length;
          break;
        case 'redacted_reasoning':
          chars += b.data.length;
          break;
      }
    }
  }
  for (const t of req.tools) chars += t.name.length + (t.description?.length ?? 0) + JSON.stringify(t.inputSchema).length;
  return Math.ceil(chars / 3) + images * TOKENS_PER_IMAGE;
}

function thinkingEstimate(req: Pick<ChatRequest, 'reasoning'>, config: Record<string, unknown>): number {
  if (req.reasoning?.mode === 'off') return 0;
  if (req.reasoning?.budgetTokens !== undefined) return req.reasoning.budgetTokens;
  const configured = config.thinking;
  const configuredBudget =
    configured && typeof configured === 'object' && typeof (configured as { budgetTokens?: unknown }).budgetTokens === 'number'
      ? (configured as { budgetTokens: number }).budgetTokens
      : 0;
  if (req.reasoning?.mode === 'on' || configured) return Math.max(THINKING_ESTIMATE, configuredBudget);
  return 0;
}
