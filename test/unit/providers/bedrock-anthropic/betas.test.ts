import { describe, expect, it } from 'vitest';
import { BEDROCK_BETAS, filterBetas } from '../../../../lambdas/core/providers/bedrock-anthropic/betas.js';
import { claudeCapabilities, isAnthropicModelId } from '../../../../lambdas/core/providers/bedrock-anthropic/capabilities.js';

describe('filterBetas (the allow/rename table)', () => {
  it('keeps what Bedrock knows, renames what it knows by another name, drops the rest, without duplicates', () => {
    // Claude Code 2.1.197's betas for claude-sonnet-4-5, plus an unknown-model extra and a rename.
    const sent = [
      'claude-code-20250219',
      'interleaved-thinking-2025-05-14',
      'thinking-token-count-2026-05-13',
      'context-management-2025-06-27',
      'prompt-caching-scope-2026-01-05',
      'effort-2025-11-24',
      'advanced-tool-use-2025-11-20',
      'tool-search-tool-2025-10-19',
      ' interleaved-thinking-2025-05-14 ',
      '',
    ];
    expect(filterBetas(sent)).toEqual({
      betas: ['interleaved-thinking-2025-05-14', 'context-management-2025-06-27', 'effort-2025-11-24', 'tool-search-tool-2025-10-19'],
      dropped: ['claude-code-20250219', 'thinking-token-count-2026-05-13', 'prompt-caching-scope-2026-01-05'],
    });
  });

  it('never forwards an object-prototype name as a beta', () => {
    expect(filterBetas(['constructor', 'toString', '__proto__']).betas).toEqual([]);
    expect(Object.values(BEDROCK_BETAS).every((v) => /^[a-z0-9-]+-\d{4}-\d{2}-\d{2}$/.test(v))).toBe(true);
  });
});

describe('which ids name Claude, and what each Claude accepts', () => {
  it.each([
    'anthropic.claude-3-7-sonnet-20250219-v1:0',
    'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'global.anthropic.claude-opus-4-6-v1',
    'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0',
    'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0',
  ])('%s is an Anthropic model id', (id) => {
    expect(isAnthropicModelId(id)).toBe(true);
  });

  it.each([
    'us.amazon.nova-pro-v1:0',
    'arn:aws:bedrock:us-east-1:1:application-inference-profile/my-claude',
    'meta.llama3-70b',
    'claude-like',
  ])('%s is not (an opaque profile needs family: "anthropic")', (id) => {
    expect(isAnthropicModelId(id)).toBe(false);
  });

  it.each([
    ['anthropic.claude-3-7-sonnet-20250219-v1:0', 3.7, false, false, false],
    ['us.anthropic.claude-sonnet-4-20250514-v1:0', 4, false, false, false],
    ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', 4.5, false, false, true],
    ['us.anthropic.claude-haiku-4-5-20251001-v1:0', 4.5, false, false, true],
    ['us.anthropic.claude-opus-4-5-20251101-v1:0', 4.5, false, true, true],
    ['global.anthropic.claude-opus-4-6-v1', 4.6, true, true, true],
    ['anthropic.claude-sonnet-4-6', 4.6, true, true, true],
    ['anthropic.claude-haiku-5-5', 5.5, true, true, true],
    ['arn:aws:bedrock:us-east-1:1:application-inference-profile/abc', undefined, false, false, false],
  ] as const)('%s: version %s, adaptive %s, effort %s, strict tools %s', (id, version, adaptiveThinking, effort, strictTools) => {
    expect(claudeCapabilities(id)).toEqual({ version, adaptiveThinking, effort, strictTools });
  });
});
