import { z } from 'zod';
import { MAX_NAME, zAbsent, zModelName, zWhole } from '../../validate.js';
import type { ResponsesRequest } from './types.js';

/**
 * Edge validation of POST /v1/responses. Every object is loose: fields this gateway does not use (client_metadata,
 * prompt_cache_key, service_tier, item `status`, ...) are accepted and ignored, never a 400. What would be silently
 * wrong if ignored (background mode, server-side conversations, prompt templates) is refused instead. Every
 * client-supplied id and name is bounded (CONTRACT: ≤ 256 characters).
 */
export const MAX_ID_LENGTH = MAX_NAME;
/** Far above any model's limit; bounds the admission estimate (billing/admission.ts). */
const MAX_OUTPUT_TOKENS = 1_000_000;

const id = z.string().max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`);
const optionalId = id.nullish();

const inputText = z.looseObject({ type: z.literal('input_text'), text: z.string() });
const inputImage = z.looseObject({ type: z.literal('input_image'), image_url: z.string().nullish(), file_id: z.string().nullish() });
const inputFile = z.looseObject({
  type: z.literal('input_file'),
  file_data: z.string().optional(),
  file_id: z.string().nullish(),
  file_url: z.string().optional(),
  filename: z.string().max(1024).optional(),
});
const outputText = z.looseObject({ type: z.literal('output_text'), text: z.string() });
const refusal = z.looseObject({ type: z.literal('refusal'), refusal: z.string() });
const contentPart = z.discriminatedUnion('type', [inputText, inputImage, inputFile, outputText, refusal], {
  error: (iss) =>
    iss.code === 'invalid_union'
      ? 'unsupported content part type (expected input_text, input_image, input_file, output_text or refusal)'
      : undefined,
});
const toolOutput = z.union([z.string(), z.array(z.discriminatedUnion('type', [inputText, inputImage, inputFile]))]);

const message = z.looseObject({
  type: z.literal('message'),
  id: optionalId,
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(contentPart)]),
});
const functionCall = z.looseObject({
  type: z.literal('function_call'),
  id: optionalId,
  call_id: id.min(1),
  name: z.string().min(1).max(MAX_ID_LENGTH),
  arguments: z.string().default('{}'),
});
const customToolCall = z.looseObject({
  type: z.literal('custom_tool_call'),
  id: optionalId,
  call_id: id.min(1),
  name: z.string().min(1).max(MAX_ID_LENGTH),
  input: z.string(),
});
const functionCallOutput = z.looseObject({
  type: z.literal('function_call_output'),
  id: optionalId,
  call_id: id.min(1),
  output: toolOutput,
});
const customToolCallOutput = z.looseObject({
  type: z.literal('custom_tool_call_output'),
  id: optionalId,
  call_id: id.min(1),
  output: toolOutput,
});
const reasoning = z.looseObject({
  type: z.literal('reasoning'),
  id: optionalId,
  summary: z.array(z.looseObject({ type: z.string(), text: z.string() })).default([]),
  encrypted_content: z.string().nullish(),
});
const itemReference = z.looseObject({ type: z.literal('item_reference'), id: id.min(1) });

const ITEM_TYPES = 'message, function_call, function_call_output, custom_tool_call, custom_tool_call_output, reasoning or item_reference';

/** An "easy" input message has no `type`; it is a message all the same. */
const inputItem = z.preprocess(
  (v) => (v && typeof v === 'object' && !Array.isArray(v) && !('type' in v) && 'role' in v ? { ...v, type: 'message' } : v),
  z.discriminatedUnion(
    'type',
    [message, functionCall, customToolCall, functionCallOutput, customToolCallOutput, reasoning, itemReference],
    {
      error: (iss) => (iss.code === 'invalid_union' ? `unsupported item type (expected ${ITEM_TYPES})` : undefined),
    },
  ),
);

const functionTool = z.looseObject({
  type: z.literal('function'),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names must match ^[a-zA-Z0-9_-]{1,64}$'),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});
const customTool = z.looseObject({
  type: z.literal('custom'),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names must match ^[a-zA-Z0-9_-]{1,64}$'),
  description: z.string().optional(),
  format: z
    .union([
      z.looseObject({ type: z.literal('text') }),
      z.looseObject({ type: z.literal('grammar'), syntax: z.string(), definition: z.string() }),
    ])
    .optional(),
});
/** Hosted, search and namespace tools: recognised by their type and dropped by the decoder. */
const otherTool = z.looseObject({ type: z.string().min(1).max(MAX_ID_LENGTH), name: z.string().max(MAX_ID_LENGTH).optional() });
const tool = z.union([functionTool, customTool, otherTool.refine((t) => t.type !== 'function' && t.type !== 'custom')]);

const toolChoice = z.union([
  z.enum(['auto', 'none', 'required']),
  z.looseObject({
    type: z.literal('allowed_tools'),
    mode: z.enum(['auto', 'required']),
    tools: z.array(z.looseObject({ type: z.string(), name: z.string().max(MAX_ID_LENGTH).optional() })),
  }),
  z.looseObject({ type: z.string().min(1).max(MAX_ID_LENGTH), name: z.string().max(MAX_ID_LENGTH).optional() }),
]);

const textFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    name: z.string().max(MAX_ID_LENGTH),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().optional(),
    strict: z.boolean().nullish(),
  }),
]);

/** OpenAI's bounds: 16 pairs, keys ≤ 64 and values ≤ 512 characters. */
const metadata = z
  .record(
    z.string().max(64, 'metadata keys must be at most 64 characters'),
    z.string().max(512, 'metadata values must be at most 512 characters'),
  )
  .refine((m) => Object.keys(m).length <= 16, 'metadata may have at most 16 pairs');

const unsupported = (what: string) =>
  z
    .unknown()
    .optional()
    .refine((v) => v === undefined || v === null || v === false, `${what} is not supported by this gateway`);

export const responsesRequestSchema = z
  .looseObject({
    model: zModelName,
    input: z.union([z.string(), z.array(inputItem)]).optional(),
    instructions: z.string().nullish(),
    tools: zAbsent(z.array(tool)),
    tool_choice: zAbsent(toolChoice),
    parallel_tool_calls: z.boolean().nullish(),
    // OpenAI's minimum is 16.
    max_output_tokens: z.number().int().min(16, 'must be at least 16').max(MAX_OUTPUT_TOKENS).nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    reasoning: z
      .looseObject({ effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).nullish(), summary: z.string().nullish() })
      .nullish(),
    text: z.looseObject({ format: zAbsent(textFormat), verbosity: zAbsent(z.enum(['low', 'medium', 'high'])) }).nullish(),
    include: z.array(z.string()).nullish(),
    store: z.boolean().nullish(),
    previous_response_id: id.min(1, 'must not be empty').nullish(),
    // No context is ever cut: with "auto" too, an over-long input is the model's 400, so "disabled" is echoed.
    truncation: z.enum(['auto', 'disabled']).nullish(),
    user: z.string().max(MAX_ID_LENGTH).nullish(),
    metadata: metadata.nullish(),
    stream: z.boolean().nullish(),
    background: unsupported('background mode'),
    conversation: unsupported('conversation (server-side conversations)'),
    prompt: unsupported('prompt (stored prompt templates)'),
  })
  .transform((v) => v as unknown as ResponsesRequest);

/** GET /v1/responses/{id}/input_items query. */
export const inputItemsQuerySchema = z.looseObject({
  limit: zWhole('must be a whole number').pipe(z.number().min(1).max(100)).default(20),
  order: z.enum(['asc', 'desc']).default('desc'),
  after: optionalId,
  before: optionalId,
});
