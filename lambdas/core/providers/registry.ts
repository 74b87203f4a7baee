import { type z } from 'zod';
import { errors } from '../errors.js';
import { converseConfigSchema } from './bedrock-converse/config.js';
import { embeddingsModelConfigSchema } from './bedrock-embeddings/map-request.js';
import type { ChatProvider, EmbeddingsProvider, Provider } from './types.js';

/**
 * Providers by the model row's `provider` field. Handlers only ever ask this registry, so adding a provider
 * touches nothing else. Each entry also owns the schema of its model config (validated when a model is saved).
 */
interface Entry {
  provider: () => Promise<Provider>;
  /** Unknown config fields are dropped: only what the provider understands is stored. */
  configSchema: z.ZodType<Record<string, unknown>>;
}

const entries: Record<string, Entry> = {
  'bedrock-converse': {
    provider: async () => (await import('./bedrock-converse/index.js')).bedrockConverseProvider,
    configSchema: converseConfigSchema,
  },
  'bedrock-embeddings': {
    provider: async () => (await import('./bedrock-embeddings/index.js')).bedrockEmbeddingsProvider,
    configSchema: embeddingsModelConfigSchema,
  },
};

export function providerNames(): string[] {
  return Object.keys(entries);
}

export function validateModelConfig(provider: string, config: Record<string, unknown>): Record<string, unknown> {
  const entry = entries[provider];
  if (!entry) throw errors.badRequest(`Unknown provider '${provider}'.`, 'provider');
  const r = entry.configSchema.safeParse(config);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw errors.badRequest(`Invalid 'config.${issue.path.join('.')}': ${issue.message}`, 'config');
  }
  return r.data;
}

export async function chatProvider(provider: string): Promise<ChatProvider> {
  const p = await entries[provider]?.provider();
  if (!p || p.kind !== 'chat') throw errors.badRequest(`This model does not support chat completions.`, 'model');
  return p;
}

export async function embeddingsProvider(provider: string): Promise<EmbeddingsProvider> {
  const p = await entries[provider]?.provider();
  if (!p || p.kind !== 'embeddings') throw errors.badRequest(`This model does not support embeddings.`, 'model');
  return p;
}
