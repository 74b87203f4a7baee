/**
 * What Bedrock's InvokeModel refuses in an Anthropic Messages body, and how each is made acceptable. One small
 * named rule per refusal, each pure (a body in, the body Bedrock accepts out) and tested on its own; `applyBedrockRules`
 * runs them in order. Nothing here touches thinking text, signatures, redacted thinking or tool ids: Claude
 * verifies those, so they reach Bedrock exactly as the client sent them.
 */
import type { JsonObject, JsonValue } from '../../json.js';
import { CONTEXT_MANAGEMENT_BETA } from './betas.js';
import type { ClaudeCapabilities } from './capabilities.js';
import { asObject } from './map-request.js';

export interface RuleContext {
  capabilities: ClaudeCapabilities;
  /** The betas Bedrock will get (after the allow/rename table). */
  betas: readonly string[];
}

export type BedrockRule = (body: JsonObject, ctx: RuleContext) => JsonObject;

/** Top-level fields of the Messages body Bedrock knows; any other is refused ("extraneous key [x] is not permitted"). */
const BEDROCK_BODY_FIELDS: ReadonlySet<string> = new Set([
  'anthropic_version',
  'anthropic_beta',
  'system',
  'messages',
  'max_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop_sequences',
  'tools',
  'tool_choice',
  'thinking',
  'metadata',
  'context_management',
  'output_config',
]);

/** `service_tier`, `container`, `mcp_servers`, `model`, `stream`, … are Anthropic-API-only: left out. */
export const dropFieldsBedrockRejects: BedrockRule = (body) =>
  Object.fromEntries(Object.entries(body).filter(([name]) => BEDROCK_BODY_FIELDS.has(name)));

/** The top-level fields `dropFieldsBedrockRejects` would drop (for the log). */
export const rejectedFields = (body: JsonObject): string[] => Object.keys(body).filter((name) => !BEDROCK_BODY_FIELDS.has(name));

/** Bedrock's schema allows only `metadata.user_id` (a string; Claude Code sends a JSON text in it). */
export const keepMetadataUserIdOnly: BedrockRule = (body) => {
  if (!('metadata' in body)) return body;
  const { metadata, ...rest } = body;
  const userId = asObject(metadata)?.user_id;
  return typeof userId === 'string' ? { ...rest, metadata: { user_id: userId } } : rest;
};

/** `context_management` needs its beta; a request whose beta was dropped (or never sent) loses the field too. */
export const dropContextManagementWithoutBeta: BedrockRule = (body, ctx) => {
  if (!('context_management' in body) || ctx.betas.includes(CONTEXT_MANAGEMENT_BETA)) return body;
  const { context_management: _dropped, ...rest } = body;
  return rest;
};

/** Thinking budget standing in for an effort level where a model has no adaptive thinking. */
const BUDGET_BY_EFFORT: Readonly<Record<string, number>> = { low: 2048, medium: 8192, high: 16384, max: 31999, xhigh: 31999 };
const MIN_BUDGET = 1024;

/**
 * `thinking: {type: "adaptive"}` exists from Claude 4.6; older models refuse it. They get extended thinking with a
 * budget from `output_config.effort` (high when none), kept below max_tokens as Claude requires; a max_tokens too
 * small for the minimum budget means no thinking.
 */
export const mapAdaptiveThinking: BedrockRule = (body, ctx) => {
  const thinking = asObject(body.thinking);
  if (thinking?.type !== 'adaptive' || ctx.capabilities.adaptiveThinking) return body;
  const { thinking: _adaptive, ...rest } = body;
  const effort = asObject(body.output_config)?.effort;
  const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens : 0;
  const wanted = (typeof effort === 'string' && BUDGET_BY_EFFORT[effort]) || BUDGET_BY_EFFORT.high;
  const budget = Math.min(wanted, maxTokens - 1);
  if (budget < MIN_BUDGET) return rest;
  const { type: _type, ...extra } = thinking;
  return { ...rest, thinking: { type: 'enabled', budget_tokens: budget, ...extra } };
};

/** `output_config.effort` only where the model has effort (Claude Opus 4.5, Claude 4.6 and later). */
export const dropEffortWhereUnsupported: BedrockRule = (body, ctx) => {
  const config = asObject(body.output_config);
  if (!config || !('effort' in config) || ctx.capabilities.effort) return body;
  const { effort: _effort, ...kept } = config;
  const { output_config: _config, ...rest } = body;
  return Object.keys(kept).length > 0 ? { ...rest, output_config: kept } : rest;
};

/** `thinking.display` ("summarized" / "omitted") is refused by Bedrock. */
export const stripThinkingDisplay: BedrockRule = (body) => {
  const thinking = asObject(body.thinking);
  if (!thinking || !('display' in thinking)) return body;
  const { display: _display, ...kept } = thinking;
  return { ...body, thinking: kept };
};

const mapTools =
  (fn: (tool: JsonObject) => JsonObject): BedrockRule =>
  (body) =>
    Array.isArray(body.tools) ? { ...body, tools: body.tools.map((t) => (asObject(t) ? fn(asObject(t)!) : t)) } : body;

const without = (o: JsonObject, name: string): JsonObject => {
  if (!(name in o)) return o;
  const { [name]: _dropped, ...rest } = o;
  return rest;
};

/** `defer_loading` (tool search) is refused on Bedrock's tool definitions. */
export const stripToolDeferLoading: BedrockRule = mapTools((t) => without(t, 'defer_loading'));

/** `eager_input_streaming` (fine-grained tool streaming per tool) is refused by Bedrock. */
export const stripToolEagerInputStreaming: BedrockRule = mapTools((t) => without(t, 'eager_input_streaming'));

/** `input_examples` (the advanced-tool-use beta's examples) has no place in Bedrock's tool definitions. */
export const stripToolInputExamples: BedrockRule = mapTools((t) => without(t, 'input_examples'));

/**
 * `strict: true` (strict tool use) exists on Bedrock from Claude 4.5; older models, and a profile whose model the
 * id does not name, refuse the field, so there it is left out and the tool is called unvalidated, as before strict.
 */
export const stripToolStrictWhereUnsupported: BedrockRule = (body, ctx) =>
  ctx.capabilities.strictTools ? body : mapTools((t) => without(t, 'strict'))(body, ctx);

/**
 * The JSON-Schema dialect declaration (`$schema`, draft 2020-12 in Claude Code's tools) at the root of an
 * input_schema: it constrains nothing, and validators behind Bedrock have refused it, so it is left out.
 */
export const stripInputSchemaDialect: BedrockRule = mapTools((t) => {
  const schema = asObject(t.input_schema);
  return schema && '$schema' in schema ? { ...t, input_schema: without(schema, '$schema') } : t;
});

/** The cache TTLs Bedrock accepts on `cache_control` (5 minutes is the default when none is named). */
const BEDROCK_CACHE_TTLS: ReadonlySet<string> = new Set(['5m', '1h']);

/** `cache_control.scope` (the prompt-caching-scope beta, which Bedrock does not have) is left out. */
export const stripCacheControlScope: BedrockRule = (body) => mapCacheControls(body, (c) => without(c, 'scope'));

/** A `cache_control.ttl` Bedrock does not offer is left out, so the mark still caches with the default TTL. */
export const dropUnsupportedCacheTtl: BedrockRule = (body) =>
  mapCacheControls(body, (c) => (typeof c.ttl === 'string' && BEDROCK_CACHE_TTLS.has(c.ttl) ? c : without(c, 'ttl')));

/** In order: a later rule may read what an earlier one left (adaptive thinking reads the effort before it goes). */
export const BEDROCK_RULES: readonly BedrockRule[] = [
  dropFieldsBedrockRejects,
  keepMetadataUserIdOnly,
  dropContextManagementWithoutBeta,
  mapAdaptiveThinking,
  dropEffortWhereUnsupported,
  stripThinkingDisplay,
  stripToolDeferLoading,
  stripToolEagerInputStreaming,
  stripToolInputExamples,
  stripToolStrictWhereUnsupported,
  stripInputSchemaDialect,
  stripCacheControlScope,
  dropUnsupportedCacheTtl,
];

export function applyBedrockRules(body: JsonObject, ctx: RuleContext): JsonObject {
  return BEDROCK_RULES.reduce((b, rule) => rule(b, ctx), body);
}

/** Rewrites every `cache_control` object: on system blocks, tools, message content and tool-result content. */
function mapCacheControls(body: JsonObject, fn: (c: JsonObject) => JsonObject): JsonObject {
  const block = (v: JsonValue): JsonValue => {
    const o = asObject(v);
    if (!o) return v;
    let out = o;
    const cache = asObject(o.cache_control);
    if (cache) out = { ...out, cache_control: fn(cache) };
    if (o.type === 'tool_result' && Array.isArray(o.content)) out = { ...out, content: o.content.map(block) };
    return out;
  };
  const out: JsonObject = { ...body };
  if (Array.isArray(body.system)) out.system = body.system.map(block);
  if (Array.isArray(body.tools)) out.tools = body.tools.map(block);
  if (Array.isArray(body.messages)) {
    out.messages = body.messages.map((m) => {
      const msg = asObject(m);
      return msg && Array.isArray(msg.content) ? { ...msg, content: msg.content.map(block) } : m;
    });
  }
  return out;
}
