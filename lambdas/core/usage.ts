/** Tokens one call used, as the upstream reported them (or as the gateway had to estimate them). */
export interface TokenUsage {
  /** Prompt tokens read at the full input price (cache reads and writes not included). */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Only when the upstream reports it (part of outputTokens); 0 otherwise. */
  reasoningTokens: number;
}

export const zeroUsage = (): TokenUsage => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
});

/** Far above any call's real count (a 10M-token context answered in full); a bigger reported count is refused. */
const MAX_TOKEN_COUNT = 100_000_000;

/** One reported token count as a billable whole number: NaN, negative or fractional counts are not billed as such. */
export function tokenCount(n: unknown): number {
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) return 0;
  return Math.min(Math.ceil(n), MAX_TOKEN_COUNT);
}

/**
 * Usage as settlement may bill it: every count a whole number in [0, MAX_TOKEN_COUNT]. An upstream that reports
 * -100000 output tokens must not credit the key, nor 10.5 or 1e30 make the charge fail for ever.
 */
export function boundedUsage(u: TokenUsage): TokenUsage {
  return {
    inputTokens: tokenCount(u.inputTokens),
    outputTokens: tokenCount(u.outputTokens),
    cacheReadTokens: tokenCount(u.cacheReadTokens),
    cacheWriteTokens: tokenCount(u.cacheWriteTokens),
    reasoningTokens: tokenCount(u.reasoningTokens),
  };
}

/** Every prompt token, however it is priced (what OpenAI calls prompt_tokens). */
export const promptTokensOf = (u: TokenUsage) => u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens;
