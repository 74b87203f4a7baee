import { z } from 'zod';
import { GatewayError } from '../../errors.js';

const cacheTargetsSchema = z.object({
  system: z.boolean().optional(),
  tools: z.boolean().optional(),
  messages: z.boolean().optional(),
});

const guardrailSchema = z.object({
  identifier: z.string().trim().min(1).max(2048),
  /** A version number or DRAFT. */
  version: z
    .string()
    .trim()
    .regex(/^(DRAFT|[1-9][0-9]{0,7})$/, 'is a version number or DRAFT'),
  trace: z.enum(['enabled', 'disabled', 'enabled_full']).optional(),
  /** Streams only: "async" sends text before the guardrail has seen it (lower latency, weaker guarantee). */
  streamProcessingMode: z.enum(['sync', 'async']).optional(),
});

/** A `bedrock-converse` model row's config as admins write it. */
export const converseConfigSchema = z.object({
  /** Foundation model id, cross-region inference profile (`us.`, `eu.`, `global.`…) or application profile ARN. */
  modelId: z.string().trim().min(1).max(2048),
  region: z.string().trim().min(1).optional(),
  /** The seed API's name for the same setting; the first entry is used. */
  regions: z.union([z.string().trim().min(1), z.array(z.string().trim().min(1)).min(1)]).optional(),
  maxTokens: z.number().int().positive().optional(),
  /** true / {budgetTokens}: think by default (and mark the model as accepting Claude's `thinking` field). */
  thinking: z.union([z.boolean(), z.object({ budgetTokens: z.number().int().min(1024).optional() })]).optional(),
  /** true: cache points after system, tools and the last user turn; object form: only the parts set to true. */
  promptCache: z.union([z.boolean(), cacheTargetsSchema]).optional(),
  /** A Bedrock guardrail applied to every call (an intervention ends the answer with finish reason content_filter). */
  guardrail: guardrailSchema.optional(),
  /** "optimized": the latency-optimized version of the model, where Bedrock offers one. */
  performance: z.enum(['standard', 'optimized']).optional(),
  /** Bedrock's processing tier for the model's calls. */
  serviceTier: z.enum(['default', 'priority', 'flex', 'reserved']).optional(),
});

export interface PromptCacheTargets {
  system: boolean;
  tools: boolean;
  messages: boolean;
}

export interface ConverseConfig {
  modelId: string;
  region: string | undefined;
  maxTokens: number | undefined;
  /** Claude family (named in the id, or the admin enabled thinking): accepts `thinking`, not temperature+top_p. */
  claudeLike: boolean;
  /** Thinking budget applied when the request does not ask for (or against) thinking; undefined = off. */
  defaultThinkingBudget: number | undefined;
  promptCache: PromptCacheTargets;
  guardrail: z.infer<typeof guardrailSchema> | undefined;
  performance: 'standard' | 'optimized' | undefined;
  serviceTier: 'default' | 'priority' | 'flex' | 'reserved' | undefined;
}

/** Budget used when thinking is on but nobody named a budget (same as reasoning_effort "medium"). */
export const DEFAULT_THINKING_BUDGET = 8192;

export function parseConverseConfig(raw: unknown): ConverseConfig {
  const parsed = converseConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new GatewayError(500, `This model's bedrock-converse config is invalid (${where}).`, {
      kind: 'internal',
      code: 'model_config_invalid',
    });
  }
  const c = parsed.data;
  const region = c.region ?? (Array.isArray(c.regions) ? c.regions[0] : c.regions);
  const thinkingOn = c.thinking !== undefined && c.thinking !== false;
  return {
    modelId: c.modelId,
    region,
    maxTokens: c.maxTokens,
    // Profile ids and ARNs hide the family, so only an explicit mention (or the admin's say-so) counts.
    claudeLike: /anthropic|claude/i.test(c.modelId) || thinkingOn,
    defaultThinkingBudget: thinkingOn
      ? ((typeof c.thinking === 'object' ? c.thinking.budgetTokens : undefined) ?? DEFAULT_THINKING_BUDGET)
      : undefined,
    promptCache: cacheTargets(c.promptCache),
    guardrail: c.guardrail,
    performance: c.performance,
    serviceTier: c.serviceTier,
  };
}

function cacheTargets(setting: z.infer<typeof converseConfigSchema>['promptCache']): PromptCacheTargets {
  if (setting === undefined || setting === false) return { system: false, tools: false, messages: false };
  if (setting === true) return { system: true, tools: true, messages: true };
  return { system: setting.system === true, tools: setting.tools === true, messages: setting.messages === true };
}
