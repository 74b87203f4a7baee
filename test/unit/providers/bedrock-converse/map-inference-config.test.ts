import { describe, expect, it } from 'vitest';
import { parse } from '../../../../lambdas/core/validate.js';
import { parseConverseConfig } from '../../../../lambdas/core/providers/bedrock-converse/config.js';
import { mapInferenceConfig } from '../../../../lambdas/core/providers/bedrock-converse/map-inference-config.js';
import type { ThinkingPlan } from '../../../../lambdas/core/providers/bedrock-converse/map-reasoning.js';
import { decodeChatCompletion } from '../../../../lambdas/core/wire/openai-chat/decode.js';
import { chatCompletionSchema } from '../../../../lambdas/core/wire/openai-chat/schemas.js';
import type { ChatCompletionRequest } from '../../../../lambdas/core/wire/openai-chat/types.js';
import type { ConverseConfig } from '../../../../lambdas/core/providers/bedrock-converse/config.js';
import { openAIRequest } from './openai-input.js';

const nova = parseConverseConfig({ modelId: 'amazon.nova-pro-v1:0' });
const claude = parseConverseConfig({ modelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0', maxTokens: 2000 });

/** The whole /v1 path: the body validated, decoded, and mapped. */
const infer = (over: Partial<ChatCompletionRequest>, config: ConverseConfig, thinking: ThinkingPlan | null) =>
  mapInferenceConfig(decodeChatCompletion(parse(chatCompletionSchema, openAIRequest(over))), config, thinking);

describe('mapInferenceConfig', () => {
  it('keeps temperature 0', () => {
    expect(infer({ temperature: 0 }, nova, null)).toEqual({ temperature: 0 });
  });

  it("clamps OpenAI's temperature range (0..2) to Converse's (0..1)", () => {
    expect(infer({ temperature: 1.5 }, nova, null)).toEqual({ temperature: 1 });
    expect(infer({ temperature: 0.7 }, nova, null)).toEqual({ temperature: 0.7 });
  });

  it('maps top_p and stop (a string or an array)', () => {
    expect(infer({ top_p: 0.9, stop: 'END' }, nova, null)).toEqual({ topP: 0.9, stopSequences: ['END'] });
    expect(infer({ stop: ['a', '', 'b'] }, nova, null)).toEqual({ stopSequences: ['a', 'b'] });
  });

  it('max_completion_tokens, then max_tokens, then the config, else nothing', () => {
    expect(infer({ max_completion_tokens: 10, max_tokens: 20 }, claude, null)?.maxTokens).toBe(10);
    expect(infer({ max_tokens: 20 }, claude, null)?.maxTokens).toBe(20);
    expect(infer({}, claude, null)?.maxTokens).toBe(2000);
    expect(infer({}, nova, null)).toBeUndefined();
  });

  it('refuses a non-positive max_tokens', () => {
    expect(() => infer({ max_tokens: 0 }, nova, null)).toThrow(expect.objectContaining({ status: 400, param: 'max_tokens' }));
    expect(() => infer({ max_completion_tokens: -1 }, nova, null)).toThrow(
      expect.objectContaining({ status: 400, param: 'max_completion_tokens' }),
    );
  });

  it('Claude: drops top_p when temperature is also set (newer models refuse both)', () => {
    expect(infer({ temperature: 0.2, top_p: 0.9 }, claude, null)).toEqual({ maxTokens: 2000, temperature: 0.2 });
    expect(infer({ temperature: 0.2, top_p: 0.9 }, nova, null)).toEqual({ temperature: 0.2, topP: 0.9 });
  });

  it('thinking: temperature forced to 1, top_p removed, maxTokens raised above the budget', () => {
    const thinking = { budgetTokens: 8192 };
    expect(infer({ temperature: 0, top_p: 0.5, max_tokens: 1000 }, claude, thinking)).toEqual({
      maxTokens: 8192 + 1000,
      temperature: 1,
    });
    expect(infer({}, parseConverseConfig({ modelId: 'anthropic.claude-3-7' }), thinking)).toEqual({
      maxTokens: 8192 + 4096,
    });
    expect(infer({ max_tokens: 20000 }, claude, thinking)).toEqual({ maxTokens: 20000 });
  });
});
