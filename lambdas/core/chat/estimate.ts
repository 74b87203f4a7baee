import { costOf, type Prices } from '../billing/cost.js';
import type { Money } from '../money.js';
import type { ChatRequest } from './request.js';

/** Tokens an image is assumed to cost before the upstream says (Claude: ~1.6k per image). */
const TOKENS_PER_IMAGE = 1600;
/**
 * Output reserved when neither the request nor the model config bounds it. The upstream then applies the model's
 * own maximum, which this covers for current models; set the model's `config.maxTokens` to bound it exactly.
 */
const DEFAULT_OUTPUT_ESTIMATE = 32768;
/** Upper bound of a thinking budget the request does not state (reasoning effort high is 16384). */
const THINKING_ESTIMATE = 16384;

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
  // Thinking tokens are billed as output and come on top of max_tokens upstream: reserve them too, unless the
  // client's limit already counts them.
  const bounded = req.maxTokensIncludesReasoning && req.maxTokens !== undefined;
  return {
    inputTokens: estimatePromptTokens(req),
    outputTokens: bounded ? req.maxTokens! : (req.maxTokens ?? configMaxTokens ?? DEFAULT_OUTPUT_ESTIMATE) + thinkingEstimate(req, config),
  };
}

/** The prompt's size in tokens as admission counts it: text / 3, a flat amount per image, documents by size. */
export function estimatePromptTokens(req: Pick<ChatRequest, 'system' | 'messages' | 'tools'>): number {
  const { chars, images } = promptSize(req, (s) => s.length);
  return Math.ceil(chars / 3) + images * TOKENS_PER_IMAGE;
}

/**
 * A count the prompt's real token count cannot exceed, for billing a call whose upstream never reported usage:
 * its text in UTF-8 bytes (a byte-level tokenizer's tokens each cover at least one byte), a flat amount per image.
 */
export function promptTokensUpperBound(req: Pick<ChatRequest, 'system' | 'messages' | 'tools'>): number {
  const { chars, images } = promptSize(req, (s) => Buffer.byteLength(s, 'utf8'));
  return chars + images * TOKENS_PER_IMAGE;
}

function promptSize(
  req: Pick<ChatRequest, 'system' | 'messages' | 'tools'>,
  len: (s: string) => number,
): { chars: number; images: number } {
  let chars = 0;
  let images = 0;
  for (const b of req.system) chars += len(b.text);
  for (const m of req.messages) {
    for (const b of m.content) {
      switch (b.type) {
        case 'text':
          chars += len(b.text);
          break;
        case 'image':
          images++;
          break;
        case 'document':
          chars += Math.max(TOKENS_PER_IMAGE * 3, b.data.length);
          break;
        case 'tool_use':
          chars += len(JSON.stringify(b.input)) + len(b.name);
          break;
        case 'tool_result':
          for (const c of b.content) {
            if (c.type === 'text') chars += len(c.text);
            else images++;
          }
          break;
        case 'reasoning':
          chars += len(b.text);
          break;
        case 'redacted_reasoning':
          chars += len(b.data);
          break;
      }
    }
  }
  for (const t of req.tools) chars += len(t.name) + len(t.description ?? '') + len(JSON.stringify(t.inputSchema));
  return { chars, images };
}

/** The thinking tokens a call may spend: the request's budget, else the model's, else THINKING_ESTIMATE when on. */
export function thinkingEstimate(req: Pick<ChatRequest, 'reasoning'>, config: Record<string, unknown>): number {
  if (req.reasoning?.mode === 'off') return 0;
  if (req.reasoning?.budgetTokens !== undefined) return req.reasoning.budgetTokens;
  const configured = config.thinking;
  const configuredBudget =
    configured && typeof configured === 'object' && typeof (configured as { budgetTokens?: unknown }).budgetTokens === 'number'
      ? (configured as { budgetTokens: number }).budgetTokens
      : 0;
  // Asked for without a budget (an effort, or just on): the largest budget an effort maps to.
  if (req.reasoning) return Math.max(THINKING_ESTIMATE, configuredBudget);
  // The model's default: its configured budget (or, for `thinking: true`, the largest effort's).
  if (configured) return configuredBudget || THINKING_ESTIMATE;
  return 0;
}
