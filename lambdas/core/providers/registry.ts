import { z } from 'zod';
import { errors } from '../errors.js';
import { converseConfigSchema } from './bedrock-converse/config.js';
import { embeddingsModelConfigSchema } from './bedrock-embeddings/map-request.js';
import { openAICompatibleConfigSchema } from './openai-compatible/config.js';
import type { ChatProvider, EmbeddingsProvider, Provider } from './types.js';

/**
 * Providers by the model row's `provider` field. Handlers only ever ask this registry, so adding a provider
 * touches nothing else. Each entry also owns the schema of its model config (validated when a model is saved).
 */
interface Entry {
  /** Loads the provider's module on first use (a provider is stateless: its module is shared by every request). */
  provider: () => Promise<Provider>;
  /** Unknown config fields are dropped: only what the provider understands is stored. */
  configSchema: z.ZodType<Record<string, unknown>>;
  /** Embeddings bill input tokens only: their models need no output price. */
  embeddings?: true;
}

const entries: Record<string, Entry> = {
  'bedrock-converse': {
    provider: async () => (await import('./bedrock-converse/index.js')).bedrockConverseProvider,
    configSchema: converseConfigSchema,
  },
  'bedrock-embeddings': {
    provider: async () => (await import('./bedrock-embeddings/index.js')).bedrockEmbeddingsProvider,
    configSchema: embeddingsModelConfigSchema,
    embeddings: true,
  },
  'openai-compatible': {
    provider: async () => (await import('./openai-compatible/index.js')).openAICompatibleProvider,
    configSchema: openAICompatibleConfigSchema,
  },
  'openai-compatible-embeddings': {
    provider: async () => (await import('./openai-compatible/index.js')).openAICompatibleEmbeddings,
    configSchema: openAICompatibleConfigSchema,
    embeddings: true,
  },
};

/** Own entries only: a provider named `constructor` or `__proto__` is unknown, not Object's. */
const entryOf = (provider: string): Entry | undefined => (Object.hasOwn(entries, provider) ? entries[provider] : undefined);

const loaded = new Map<string, Promise<Provider>>();

/** The provider, its module imported once (an import() per call costs a module resolution every time). */
function load(provider: string): Promise<Provider> | undefined {
  const entry = entryOf(provider);
  if (!entry) return undefined;
  let p = loaded.get(provider);
  if (!p) {
    p = entry.provider();
    p.catch(() => loaded.delete(provider));
    loaded.set(provider, p);
  }
  return p;
}

export function providerNames(): string[] {
  return Object.keys(entries);
}

/** Whether the provider's calls are billed for output tokens (chat) or input only (embeddings). */
export function billsOutput(provider: string): boolean {
  return !entries[provider]?.embeddings;
}

/**
 * Config fields every provider's models share: `fallbacks`, the models (by name) tried in order when this one is
 * throttled, failing or timing out before its first byte (see chat/pipeline.ts).
 */
const commonConfigSchema = z.object({
  fallbacks: z.array(z.string().trim().min(1).max(256)).max(5, 'at most 5 fallbacks').optional(),
});

export function validateModelConfig(provider: string, config: Record<string, unknown>, modelName?: string): Record<string, unknown> {
  const entry = entryOf(provider);
  if (!entry) throw errors.badRequest(`Unknown provider '${provider}'.`, 'provider');
  const { fallbacks, ...own } = config;
  const common = commonConfigSchema.safeParse({ fallbacks });
  const r = entry.configSchema.safeParse(own);
  const failure = !common.success ? common.error.issues[0] : !r.success ? r.error.issues[0] : undefined;
  if (failure) throw errors.badRequest(`Invalid 'config.${failure.path.join('.')}': ${failure.message}`, 'config');
  const names = common.data?.fallbacks;
  if (modelName !== undefined && names?.includes(modelName))
    throw errors.badRequest("Invalid 'config.fallbacks': a model cannot fall back to itself", 'config');
  return { ...r.data, ...(names?.length ? { fallbacks: names } : {}) };
}

/** The fallback model names of a model's config (validated at save). */
export function fallbacksOf(config: Record<string, unknown>): string[] {
  const f = config.fallbacks;
  return Array.isArray(f) ? f.filter((n): n is string => typeof n === 'string') : [];
}

export async function chatProvider(provider: string): Promise<ChatProvider> {
  const p = await load(provider);
  if (!p || p.kind !== 'chat') throw errors.badRequest(`This model does not support chat completions.`, 'model');
  return p;
}

export async function embeddingsProvider(provider: string): Promise<EmbeddingsProvider> {
  const p = await load(provider);
  if (!p || p.kind !== 'embeddings') throw errors.badRequest(`This model does not support embeddings.`, 'model');
  return p;
}
