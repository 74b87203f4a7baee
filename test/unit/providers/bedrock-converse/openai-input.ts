/**
 * These tests keep feeding OpenAI-shaped requests, as the old Converse mappers took them, and follow the path a
 * /v1/chat/completions call now takes: decodeChatCompletion (wire/openai-chat) → the core ChatRequest → the
 * Converse mapping under test.
 */
import type { ChatRequest } from '../../../../lambdas/core/chat/request.js';
import { buildConverseRequest, type ConverseRequestPlan } from '../../../../lambdas/core/providers/bedrock-converse/build-request.js';
import type { ConverseConfig } from '../../../../lambdas/core/providers/bedrock-converse/config.js';
import { decodeChatCompletion } from '../../../../lambdas/core/wire/openai-chat/decode.js';
import type { ChatCompletionRequest } from '../../../../lambdas/core/wire/openai-chat/types.js';

/** An OpenAI request: one user message 'hi' unless `over` says otherwise. */
export const openAIRequest = (over: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
  model: 'm',
  messages: [{ role: 'user', content: 'hi' }],
  ...over,
});

/** The core request an OpenAI request decodes into. */
export const decoded = (over: Partial<ChatCompletionRequest> = {}): ChatRequest => decodeChatCompletion(openAIRequest(over));

/** OpenAI request → core request → Converse request. */
export const toConverse = (req: ChatCompletionRequest, config: ConverseConfig): ConverseRequestPlan =>
  buildConverseRequest(decodeChatCompletion(req), config);
