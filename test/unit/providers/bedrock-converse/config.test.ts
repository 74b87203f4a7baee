import { describe, expect, it } from 'vitest';
import { parseConverseConfig } from '../../../../lambdas/core/providers/bedrock-converse/config.js';

describe('parseConverseConfig', () => {
  it('needs only a modelId', () => {
    expect(parseConverseConfig({ modelId: 'amazon.nova-pro-v1:0' })).toEqual({
      modelId: 'amazon.nova-pro-v1:0',
      region: undefined,
      maxTokens: undefined,
      claudeLike: false,
      defaultThinkingBudget: undefined,
      promptCache: { system: false, tools: false, messages: false },
    });
  });

  it.each([
    'anthropic.claude-3-7-sonnet-20250219-v1:0',
    'us.anthropic.claude-sonnet-4-20250514-v1:0',
    'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/my-claude-profile',
  ])('treats %s as Claude (named in the id)', (modelId) => {
    expect(parseConverseConfig({ modelId }).claudeLike).toBe(true);
  });

  it.each(['us.amazon.nova-premier-v1:0', 'global.cohere.command', 'arn:aws:bedrock:us-east-1:1:application-inference-profile/abc123'])(
    'does not guess Claude from the prefix of %s',
    (modelId) => {
      expect(parseConverseConfig({ modelId }).claudeLike).toBe(false);
    },
  );

  it('an opaque profile ARN becomes Claude-like when the config enables thinking', () => {
    const arn = 'arn:aws:bedrock:us-east-1:1:application-inference-profile/abc123';
    expect(parseConverseConfig({ modelId: arn, thinking: true })).toMatchObject({ claudeLike: true, defaultThinkingBudget: 8192 });
    expect(parseConverseConfig({ modelId: arn, thinking: { budgetTokens: 3000 } }).defaultThinkingBudget).toBe(3000);
    expect(parseConverseConfig({ modelId: arn, thinking: false })).toMatchObject({ claudeLike: false, defaultThinkingBudget: undefined });
  });

  it('prompt cache: true caches all three parts, the object form only those set to true', () => {
    expect(parseConverseConfig({ modelId: 'm', promptCache: true }).promptCache).toEqual({ system: true, tools: true, messages: true });
    expect(parseConverseConfig({ modelId: 'm', promptCache: { system: true } }).promptCache).toEqual({
      system: true,
      tools: false,
      messages: false,
    });
  });

  it('accepts the seed API regions list as the region', () => {
    expect(parseConverseConfig({ modelId: 'm', regions: ['eu-west-1', 'eu-central-1'] }).region).toBe('eu-west-1');
    expect(parseConverseConfig({ modelId: 'm', region: 'us-west-2', regions: 'eu-west-1' }).region).toBe('us-west-2');
  });

  it('refuses a broken config as a server-side 500', () => {
    for (const bad of [{}, { modelId: '' }, { modelId: 'm', maxTokens: -1 }, { modelId: 'm', thinking: { budgetTokens: 10 } }, null]) {
      expect(() => parseConverseConfig(bad)).toThrow(expect.objectContaining({ status: 500, code: 'model_config_invalid' }));
    }
  });
});
