import { z } from 'zod';
import { zAbsent, zModelName } from '../../validate.js';
import type { ChatCompletionRequest } from './types.js';

/**
 * Edge validation of /v1 bodies. Unknown top-level fields (seed, user, metadata, logit_bias, …) are accepted and
 * ignored, as OpenAI-compatible servers do; fields we would have to silently get wrong are refused instead.
 */
/** Far above any model's limit; they bound the admission estimate (billing/admission.ts). */
const MAX_OUTPUT_TOKENS = 1_000_000;
const MAX_THINKING_BUDGET = 128_000;

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.union([z.string().transform((url) => ({ url })), z.object({ url: z.string().min(1), detail: z.string().optional() })]),
});
const docPart = z.object({
  type: z.literal('doc'),
  doc: z.object({
    name: z.string().optional(),
    format: z.string().optional(),
    size: z.number().optional(),
    source: z.object({ bytes: z.union([z.record(z.string(), z.number()), z.array(z.number()), z.string()]) }),
  }),
});
const filePart = z.object({
  type: z.literal('file'),
  file: z.object({ file_data: z.string().optional(), filename: z.string().optional(), file_id: z.string().optional() }),
});
const refusalPart = z.object({ type: z.literal('refusal'), refusal: z.string() });
const contentPart = z.discriminatedUnion('type', [textPart, imagePart, docPart, filePart, refusalPart], {
  error: (iss) =>
    iss.code === 'invalid_union' ? 'unsupported content part type (expected text, image_url, doc, file or refusal)' : undefined,
});

const unsupportedLegacy = (field: string) =>
  z
    .unknown()
    .optional()
    .refine((v) => v === undefined || v === null, `${field} (legacy function calling) is not supported: use tools and tool_choice`);

const toolCall = z.object({
  id: z.string().min(1),
  type: z.literal('function').default('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

const message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  name: zAbsent(z.string()),
  tool_calls: zAbsent(z.array(toolCall)),
  tool_call_id: zAbsent(z.string()),
  reasoning_content: z.string().nullish(),
  reasoning_signature: z.string().nullish(),
});

const tool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names must match ^[a-zA-Z0-9_-]{1,64}$'),
    description: zAbsent(z.string()),
    parameters: zAbsent(z.record(z.string(), z.unknown())),
    strict: z.boolean().nullish(),
  }),
});

const toolChoice = z.union([
  z.enum(['auto', 'none', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string().min(1) }) }),
  z.object({
    type: z.literal('allowed_tools'),
    allowed_tools: z.object({
      mode: z.enum(['auto', 'required']),
      tools: z.array(z.object({ type: z.literal('function'), function: z.object({ name: z.string().min(1) }) })).min(1),
    }),
  }),
]);

export const chatCompletionSchema = z
  .looseObject({
    model: zModelName,
    messages: z.array(message).min(1, 'must contain at least one message'),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    max_tokens: z.number().int().positive().max(MAX_OUTPUT_TOKENS).nullish(),
    max_completion_tokens: z.number().int().positive().max(MAX_OUTPUT_TOKENS).nullish(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
    tools: zAbsent(z.array(tool)),
    tool_choice: zAbsent(toolChoice),
    parallel_tool_calls: zAbsent(z.boolean()),
    reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).nullish(),
    thinking: z
      .object({ type: z.enum(['enabled', 'disabled']), budget_tokens: z.number().int().positive().max(MAX_THINKING_BUDGET).optional() })
      .nullish(),
    response_format: zAbsent(
      z.object({
        type: z.enum(['text', 'json_object', 'json_schema']),
        json_schema: z
          .object({
            name: z.string(),
            description: z.string().optional(),
            schema: z.record(z.string(), z.unknown()).optional(),
            strict: z.boolean().nullish(),
          })
          .optional(),
      }),
    ),
    n: z.number().int().min(1).max(1, 'only n=1 is supported').nullish(),
    user: zAbsent(z.string()),
    // Accepted and not passed on (Bedrock has none of them), but checked as OpenAI checks them.
    presence_penalty: z.number().min(-2).max(2).nullish(),
    frequency_penalty: z.number().min(-2).max(2).nullish(),
    seed: z.number().int().nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
    // Accepted and not used, but of the type OpenAI requires (a wrong type is OpenAI's 400 too).
    metadata: z
      .record(z.string().max(64), z.string().max(512))
      .refine((m) => Object.keys(m).length <= 16, 'may have at most 16 pairs')
      .nullish(),
    store: z.boolean().nullish(),
    logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullish(),
    service_tier: z.enum(['auto', 'default', 'flex', 'scale', 'priority']).nullish(),
    // Audio answers are not made here: asking for one is a 400, not a text answer the client did not ask for.
    modalities: z
      .array(z.enum(['text', 'audio']))
      .refine((m) => !m.includes('audio'), 'audio output is not supported here (text only)')
      .nullish(),
    audio: z
      .looseObject({})
      .nullish()
      .refine((a) => a == null, 'audio output is not supported here (text only)'),
    prediction: z.looseObject({ type: z.string() }).nullish(),
    web_search_options: z.looseObject({}).nullish(),
    // The legacy function-calling fields: answering them as plain text would silently ignore the caller's intent.
    functions: unsupportedLegacy('functions'),
    function_call: unsupportedLegacy('function_call'),
  })
  .refine((v) => v.stream_options == null || v.stream === true, {
    message: 'stream_options is only allowed when stream is true',
    path: ['stream_options'],
  })
  .transform((v) => v as unknown as ChatCompletionRequest);
