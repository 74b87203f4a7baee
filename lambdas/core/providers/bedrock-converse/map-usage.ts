import type { TokenUsage as BedrockTokenUsage } from '@aws-sdk/client-bedrock-runtime';
import { type TokenUsage, zeroUsage } from '../../usage.js';

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
