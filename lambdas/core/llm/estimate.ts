import { costOf, type Prices } from '../billing/cost.js';
import type { Money } from '../money.js';
import type { ChatCompletionRequest, ContentPart } from '../openai/types.js';

/** Tokens an image or document part is assumed to cost before the upstream says (Claude: ~1.6k per image). */
const TOKENS_PER_ATTACHMENT = 1600;
/**
 * Output reserved when neither the request nor the model config bounds it. The upstream then applies the model's
 * own maximum, which this covers for current models; set the model's `config.maxTokens` to bound it exactly.
 */
export const DEFAULT_OUTPUT_ESTIMATE = 32768;
/** Upper bound of a thinking budget the request does not state (reasoning_effort high is 16384). */
export const THINKING_ESTIMATE = 16384;

/**
 * A deliberately generous estimate of a call's cost, held in reserve while it runs (see billing/admission.ts):
 * prompt characters / 3 plus a flat amount per attachment (or its size for documents), and the full output
 * allowance including any thinking budget.
 */
export function estimateChatCost(req: ChatCompletionRequest, prices: Prices, config: Record<string, unknown> = {}): Money {
  const inputTokens = estimatePromptTokens(req);
  const configMaxTokens = typeof config.maxTokens === 'number' ? config.maxTokens : undefined;
  // Thinking tokens are billed as output and come on top of max_tokens upstream: reserve them too.
  const outputTokens =
    (req.max_completion_tokens ?? req.max_tokens ?? configMaxTokens ?? DEFAULT_OUTPUT_ESTIMATE) + thinkingEstimate(req, config);
  return costOf({ inputTokens, outputTokens, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 }, prices);
}

/** The prompt's size in tokens as admission counts it: text / 3, a flat amount per image, documents by size. */
export function estimatePromptTokens(req: ChatCompletionRequest): number {
  let chars = 0;
  let attachments = 0;
  for (const m of req.messages) {
    if (typeof m.content === 'string') chars += m.content.length;
    else if (Array.isArray(m.content)) {
      for (const p of m.content) {
        if (p.type === 'text') chars += p.text.length;
        else if (p.type === 'image_url') attachments++;
        else chars += Math.max(TOKENS_PER_ATTACHMENT * 3, attachmentBytes(p));
      }
    }
    for (const t of m.tool_calls ?? []) chars += t.function.arguments.length + t.function.name.length;
  }
  for (const t of req.tools ?? []) chars += JSON.stringify(t).length;
  return Math.ceil(chars / 3) + attachments * TOKENS_PER_ATTACHMENT;
}

export function estimateEmbeddingsCost(input: unknown, prices: Prices): Money {
  const texts = Array.isArray(input) ? input : [input];
  const chars = texts.reduce<number>((n, t) => n + (typeof t === 'string' ? t.length : 0), 0);
  return costOf(
    { inputTokens: Math.ceil(chars / 3) + texts.length, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
    prices,
  );
}

function thinkingEstimate(req: ChatCompletionRequest, config: Record<string, unknown>): number {
  if (req.thinking?.type === 'disabled') return 0;
  if (req.thinking?.type === 'enabled') return req.thinking.budget_tokens ?? THINKING_ESTIMATE;
  const configured = config.thinking;
  const configuredBudget =
    configured && typeof configured === 'object' && typeof (configured as { budgetTokens?: unknown }).budgetTokens === 'number'
      ? (configured as { budgetTokens: number }).budgetTokens
      : 0;
  if (req.reasoning_effort || configured) return Math.max(THINKING_ESTIMATE, configuredBudget);
  return 0;
}

/** Documents cost roughly their size in tokens (bytes ≈ characters here; we divide by 3 like text). */
function attachmentBytes(p: ContentPart): number {
  if (p.type === 'doc') {
    const b = p.doc.source.bytes;
    return typeof b === 'string' ? Math.floor((b.length * 3) / 4) : Array.isArray(b) ? b.length : Object.keys(b).length;
  }
  if (p.type === 'file') {
    const data = p.file.file_data ?? '';
    return Math.floor(((data.length - Math.max(0, data.indexOf(',') + 1)) * 3) / 4);
  }
  return 0;
}
