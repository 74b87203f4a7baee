/**
 * The `anthropic-beta` values Bedrock's InvokeModel accepts for Claude, and what some are called there. Bedrock
 * answers 400 "invalid beta flag" for a beta it does not know, and clients such as Claude Code send several
 * (claude-code-20250219, prompt-caching-scope-2026-01-05, …), so every beta not in this table is dropped.
 *
 * Sources: the Amazon Bedrock user guide (Claude request parameters) and LiteLLM's public table of beta headers per
 * provider (`anthropic_beta_headers_config.json`, its "bedrock" column). Add a row when Bedrock starts accepting one.
 */
export const BEDROCK_BETAS: Readonly<Record<string, string>> = {
  'computer-use-2024-10-22': 'computer-use-2024-10-22',
  'computer-use-2025-01-24': 'computer-use-2025-01-24',
  'computer-use-2025-11-24': 'computer-use-2025-11-24',
  'token-efficient-tools-2025-02-19': 'token-efficient-tools-2025-02-19',
  'interleaved-thinking-2025-05-14': 'interleaved-thinking-2025-05-14',
  'output-128k-2025-02-19': 'output-128k-2025-02-19',
  'dev-full-thinking-2025-05-14': 'dev-full-thinking-2025-05-14',
  'fine-grained-tool-streaming-2025-05-14': 'fine-grained-tool-streaming-2025-05-14',
  'context-1m-2025-08-07': 'context-1m-2025-08-07',
  'context-management-2025-06-27': 'context-management-2025-06-27',
  'effort-2025-11-24': 'effort-2025-11-24',
  'tool-search-tool-2025-10-19': 'tool-search-tool-2025-10-19',
  // Anthropic's name for tool search and tool examples; Bedrock knows the feature by its older name.
  'advanced-tool-use-2025-11-20': 'tool-search-tool-2025-10-19',
  'tool-examples-2025-10-29': 'tool-examples-2025-10-29',
  'compact-2026-01-12': 'compact-2026-01-12',
};

/** The beta Claude Code sends with `context_management`; without it Bedrock refuses the field. */
export const CONTEXT_MANAGEMENT_BETA = 'context-management-2025-06-27';

export interface FilteredBetas {
  /** What Bedrock gets as `anthropic_beta`: renamed, without duplicates, in the client's order. */
  betas: string[];
  /** What was left out (unknown to Bedrock). */
  dropped: string[];
}

export function filterBetas(requested: readonly string[]): FilteredBetas {
  const betas: string[] = [];
  const dropped: string[] = [];
  for (const raw of requested) {
    const name = raw.trim();
    if (!name) continue;
    const mapped = Object.hasOwn(BEDROCK_BETAS, name) ? BEDROCK_BETAS[name] : undefined;
    if (mapped === undefined) {
      if (!dropped.includes(name)) dropped.push(name);
    } else if (!betas.includes(mapped)) betas.push(mapped);
  }
  return { betas, dropped };
}
