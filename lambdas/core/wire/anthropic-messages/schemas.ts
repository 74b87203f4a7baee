/**
 * Edge validation of Anthropic Messages bodies (POST /v1/messages and /v1/messages/count_tokens). Unknown fields —
 * top-level, on blocks, on tools — are accepted and kept (they reach Claude; other models ignore them): a field
 * Anthropic adds tomorrow is never a 400 here. What the gateway reads is checked, each problem a 400 naming it.
 */
import { z } from 'zod';

/** Far above any model's limit; they bound the admission estimate (billing/admission.ts). */
const MAX_OUTPUT_TOKENS = 1_000_000;
/** CONTRACT: model names are at most 256 characters. */
const MAX_MODEL_NAME = 256;

/** A string is one text block; as blocks, a problem is reported at the block (`messages.0.content.2: …`). */
const asBlocks = <T extends z.ZodType>(block: T) =>
  z.preprocess(
    (v) => (typeof v === 'string' ? [{ type: 'text', text: v }] : v),
    z.array(block, { error: 'must be a string or an array of blocks' }),
  );

const cacheControl = z.looseObject({ type: z.literal('ephemeral'), ttl: z.string().optional() });
const cache = { cache_control: cacheControl.nullish() };

const textBlockSchema = z.looseObject({ type: z.literal('text'), text: z.string(), ...cache });

const imageSource = z.discriminatedUnion(
  'type',
  [
    z.looseObject({ type: z.literal('base64'), media_type: z.string().optional(), data: z.string() }),
    z.looseObject({ type: z.literal('url'), url: z.string().min(1) }),
  ],
  { error: () => 'image sources are base64 or url' },
);
const imageBlock = z.looseObject({ type: z.literal('image'), source: imageSource, ...cache });

const documentBlock = z.looseObject({
  type: z.literal('document'),
  source: z.looseObject({ type: z.string(), media_type: z.string().optional(), data: z.string().optional() }),
  title: z.string().nullish(),
  ...cache,
});

const toolUseBlock = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  ...cache,
});

const toolResultPart = z.discriminatedUnion('type', [textBlockSchema, imageBlock], {
  error: () => 'tool_result content blocks are text or image',
});
const toolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: asBlocks(toolResultPart).optional(),
  is_error: z.boolean().nullish(),
  ...cache,
});

const thinkingBlock = z.looseObject({ type: z.literal('thinking'), thinking: z.string(), signature: z.string().optional() });
const redactedThinkingBlock = z.looseObject({ type: z.literal('redacted_thinking'), data: z.string() });

const SUPPORTED_BLOCKS = 'text, image, document, tool_use, tool_result, thinking, redacted_thinking';
const contentBlockSchema = z.discriminatedUnion(
  'type',
  [textBlockSchema, imageBlock, documentBlock, toolUseBlock, toolResultBlock, thinkingBlock, redactedThinkingBlock],
  { error: (iss) => (iss.code === 'invalid_union' ? `unsupported content block type (supported: ${SUPPORTED_BLOCKS})` : undefined) },
);
export type ContentBlockParam = z.infer<typeof contentBlockSchema>;

const messageSchema = z.object({
  // `system` inside messages[]: Claude Code sends it for model names it does not know.
  role: z.enum(['user', 'assistant', 'system']),
  content: asBlocks(contentBlockSchema),
});
export type MessageParam = z.infer<typeof messageSchema>;

const toolSchema = z.looseObject({
  name: z.string().min(1).max(256),
  type: z.string().nullish(),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()).optional(),
  ...cache,
});
export type ToolParam = z.infer<typeof toolSchema>;

const toolChoiceSchema = z.looseObject({
  type: z.enum(['auto', 'any', 'tool', 'none']),
  name: z.string().optional(),
  disable_parallel_tool_use: z.boolean().optional(),
});

const thinkingSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('enabled'), budget_tokens: z.number().int().positive().max(MAX_OUTPUT_TOKENS) }),
  z.looseObject({ type: z.literal('adaptive') }),
  z.looseObject({ type: z.literal('disabled') }),
]);

const common = {
  model: z.string().min(1, 'is required').max(MAX_MODEL_NAME),
  system: asBlocks(textBlockSchema).optional(),
  messages: z.array(messageSchema).min(1, 'must contain at least one message'),
  tools: z.array(toolSchema).optional(),
  tool_choice: toolChoiceSchema.optional(),
  thinking: thinkingSchema.optional(),
};

export const messagesRequestSchema = z.looseObject({
  ...common,
  max_tokens: z.number().int().positive().max(MAX_OUTPUT_TOKENS),
  // Absent means a JSON answer: Claude Code re-sends a failed stream with `stream` left out, not `false`.
  stream: z.boolean().nullish(),
  temperature: z.number().min(0).max(1).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  top_k: z.number().int().min(0).nullish(),
  stop_sequences: z.array(z.string()).nullish(),
});
export type MessagesRequest = z.infer<typeof messagesRequestSchema>;

export const countTokensRequestSchema = z.looseObject(common);
export type CountTokensRequest = z.infer<typeof countTokensRequestSchema>;
