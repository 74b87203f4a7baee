import type { Message, SystemContentBlock, ToolConfiguration } from '@aws-sdk/client-bedrock-runtime';
import type { PromptCacheTargets } from './config.js';

export interface CacheableParts {
  system: SystemContentBlock[];
  toolConfig: ToolConfiguration | undefined;
  messages: Message[];
}

const CACHE_POINT = { cachePoint: { type: 'default' } } as const;

/** Whether a block list already ends with a cache point (a client's own cache mark put it there). */
const endsCached = (blocks: ReadonlyArray<{ cachePoint?: unknown }> | undefined) => blocks?.at(-1)?.cachePoint !== undefined;

/**
 * Adds Converse cache points after the system blocks, after the tools and after the last user turn, as configured
 * — not a second one where the client's cache mark already ended the part with one.
 */
export function applyPromptCache(parts: CacheableParts, targets: PromptCacheTargets): CacheableParts {
  const { system, toolConfig, messages } = parts;
  const lastUser = messages.map((m) => m.role).lastIndexOf('user');
  return {
    system: targets.system && system.length > 0 && !endsCached(system) ? [...system, CACHE_POINT] : system,
    toolConfig:
      targets.tools && toolConfig?.tools?.length && !endsCached(toolConfig.tools)
        ? { ...toolConfig, tools: [...toolConfig.tools, CACHE_POINT] }
        : toolConfig,
    messages:
      targets.messages && lastUser >= 0 && !endsCached(messages[lastUser].content)
        ? messages.map((m, i) => (i === lastUser ? { ...m, content: [...(m.content ?? []), CACHE_POINT] } : m))
        : messages,
  };
}
