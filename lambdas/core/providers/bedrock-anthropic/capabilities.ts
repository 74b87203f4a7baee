/**
 * Which Claude model a Bedrock model id names, and what it accepts. Foundation ids (`anthropic.claude-…`), the
 * cross-region profiles of one (`us.` / `eu.` / `apac.` / `global.` …) and ARNs that spell the id out name the model;
 * an application inference profile ARN names nothing, so its model row says `family: "anthropic"` instead.
 */

const ANTHROPIC_MODEL_ID = /(?:^|[./:])anthropic\.claude/i;

/** An Anthropic model id, a profile of one, or an ARN naming one (never guessed from a bare `claude` elsewhere). */
export function isAnthropicModelId(modelId: string): boolean {
  return ANTHROPIC_MODEL_ID.test(modelId);
}

export interface ClaudeCapabilities {
  /** The model's generation (3.7, 4.5, 4.6, …), when its id says it. */
  version: number | undefined;
  /** `thinking: {type: "adaptive"}` (Claude 4.6 and later). */
  adaptiveThinking: boolean;
  /** `output_config.effort` (Claude Opus 4.5, and every Claude from 4.6). */
  effort: boolean;
  /** `strict: true` on tool definitions (Bedrock's structured outputs: Claude 4.5 and later). */
  strictTools: boolean;
}

// claude-sonnet-4-5-20250929, claude-opus-4-6-v1, claude-sonnet-4-20250514 (a date, not a minor version),
// claude-3-7-sonnet-20250219, claude-3-haiku-20240307.
const NEW_STYLE = /claude-(opus|sonnet|haiku)-(\d{1,2})(?:-(\d{1,2})(?!\d))?/i;
const OLD_STYLE = /claude-(\d)(?:-(\d))?-(opus|sonnet|haiku)/i;

/**
 * What the model named by `modelId` accepts. An id that names no version (an application profile ARN) gets the
 * conservative answer: no adaptive thinking, no effort, no strict tools — the request still works, with a thinking
 * budget instead and tools that are not strictly validated.
 */
export function claudeCapabilities(modelId: string): ClaudeCapabilities {
  const parsed = parseVersion(modelId);
  if (!parsed) return { version: undefined, adaptiveThinking: false, effort: false, strictTools: false };
  const { version, tier } = parsed;
  return {
    version,
    adaptiveThinking: version >= 4.6,
    effort: version >= 4.6 || (tier === 'opus' && version >= 4.5),
    strictTools: version >= 4.5,
  };
}

function parseVersion(modelId: string): { version: number; tier: string } | undefined {
  const n = NEW_STYLE.exec(modelId);
  if (n) return { tier: n[1].toLowerCase(), version: Number(n[2]) + Number(n[3] ?? 0) / 10 };
  const o = OLD_STYLE.exec(modelId);
  if (o) return { tier: o[3].toLowerCase(), version: Number(o[1]) + Number(o[2] ?? 0) / 10 };
  return undefined;
}
