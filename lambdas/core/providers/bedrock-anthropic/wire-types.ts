/**
 * What Claude on Bedrock answers: the Anthropic Messages response (InvokeModel) and the Anthropic stream events that
 * InvokeModelWithResponseStream carries one per `chunk` (its bytes are the event's JSON; the last one adds
 * `amazon-bedrock-invocationMetrics`). Validated loosely: unknown fields and event types are tolerated, as new
 * ones appear; what the gateway reads is checked.
 */
import { z } from 'zod';

const anthropicUsageSchema = z.looseObject({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
});
export type AnthropicUsage = z.infer<typeof anthropicUsageSchema>;

const invocationMetricsSchema = z.looseObject({
  inputTokenCount: z.number().nullish(),
  outputTokenCount: z.number().nullish(),
  cacheReadInputTokenCount: z.number().nullish(),
  cacheWriteInputTokenCount: z.number().nullish(),
});
export type InvocationMetrics = z.infer<typeof invocationMetricsSchema>;

const contentBlockSchema = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  thinking: z.string().optional(),
  signature: z.string().optional(),
  data: z.string().optional(),
  id: z.string().optional(),
  name: z.string().optional(),
  input: z.unknown().optional(),
  citations: z.array(z.record(z.string(), z.unknown())).nullish(),
});
export type AnthropicContentBlock = z.infer<typeof contentBlockSchema>;

export const messageSchema = z.looseObject({
  id: z.string().optional(),
  content: z.array(contentBlockSchema).default([]),
  stop_reason: z.string().nullish(),
  stop_sequence: z.string().nullish(),
  usage: anthropicUsageSchema.optional(),
});
export type AnthropicMessage = z.infer<typeof messageSchema>;

const deltaSchema = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  thinking: z.string().optional(),
  signature: z.string().optional(),
  partial_json: z.string().optional(),
  citation: z.record(z.string(), z.unknown()).optional(),
});

const metrics = { 'amazon-bedrock-invocationMetrics': invocationMetricsSchema.optional() };

export const streamEventSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('message_start'), message: messageSchema, ...metrics }),
  z.looseObject({ type: z.literal('content_block_start'), index: z.number(), content_block: contentBlockSchema, ...metrics }),
  z.looseObject({ type: z.literal('content_block_delta'), index: z.number(), delta: deltaSchema, ...metrics }),
  z.looseObject({ type: z.literal('content_block_stop'), index: z.number(), ...metrics }),
  z.looseObject({
    type: z.literal('message_delta'),
    delta: z.looseObject({ stop_reason: z.string().nullish(), stop_sequence: z.string().nullish() }),
    usage: anthropicUsageSchema.optional(),
    ...metrics,
  }),
  z.looseObject({ type: z.literal('message_stop'), ...metrics }),
  z.looseObject({ type: z.literal('ping'), ...metrics }),
  z.looseObject({
    type: z.literal('error'),
    error: z.looseObject({ type: z.string().optional(), message: z.string().optional() }).optional(),
    ...metrics,
  }),
]);
export type AnthropicStreamEvent = z.infer<typeof streamEventSchema>;
