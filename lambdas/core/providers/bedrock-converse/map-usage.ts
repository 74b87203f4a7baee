import type { TokenUsage as BedrockTokenUsage } from '@aws-sdk/client-bedrock-runtime';
import type { Usage } from '../../openai/types.js';
import { type TokenUsage, zeroUsage } from '../types.js';

export function toTokenUsage(u: BedrockTokenUsage | undefined): TokenUsage {
  if (!u) return zeroUsage();
  return {
    inputTokens: u.inputTokens ?? 0,
    outputTokens: u.outputTokens ?? 0,
    cacheReadTokens: u.cacheReadInputTokens ?? 0,
    cacheWriteTokens: u.cacheWriteInputTokens ?? 0,
    reasoningTokens: 0, // Converse does not report it separately
  };
}

/** OpenAI counts cached input inside prompt_tokens; Bedrock reports it beside inputTokens. */
export function toOpenAIUsage(u: TokenUsage): Usage {
  const prompt = u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: u.outputTokens,
    total_tokens: prompt + u.outputTokens,
    prompt_tokens_details: {
      cached_tokens: u.cacheReadTokens,
      ...(u.cacheWriteTokens > 0 ? { cache_write_tokens: u.cacheWriteTokens } : {}),
    },
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens },
  };
}
