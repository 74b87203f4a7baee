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

/** Every prompt token, however it is priced (what OpenAI calls prompt_tokens). */
export const promptTokensOf = (u: TokenUsage) => u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens;
