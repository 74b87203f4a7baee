import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../../../lambdas/core/json.js';
import {
  applyBedrockRules,
  BEDROCK_RULES,
  dropContextManagementWithoutBeta,
  dropEffortWhereUnsupported,
  dropFieldsBedrockRejects,
  dropUnsupportedCacheTtl,
  keepMetadataUserIdOnly,
  mapAdaptiveThinking,
  type RuleContext,
  stripCacheControlScope,
  stripInputSchemaDialect,
  stripThinkingDisplay,
  stripToolDeferLoading,
  stripToolEagerInputStreaming,
  stripToolInputExamples,
  stripToolStrictWhereUnsupported,
} from '../../../../lambdas/core/providers/bedrock-anthropic/bedrock-rules.js';
import { claudeCapabilities } from '../../../../lambdas/core/providers/bedrock-anthropic/capabilities.js';

const sonnet45: RuleContext = { capabilities: claudeCapabilities('anthropic.claude-sonnet-4-5-20250929-v1:0'), betas: [] };
const opus46: RuleContext = { capabilities: claudeCapabilities('global.anthropic.claude-opus-4-6-v1'), betas: [] };
const base: JsonObject = { messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], max_tokens: 32000 };

describe('the Bedrock rules, one refusal each', () => {
  it('dropFieldsBedrockRejects: Anthropic-API-only top-level fields go, the Messages fields Bedrock has stay', () => {
    const body = { ...base, system: [], temperature: 1, service_tier: 'auto', container: 'c1', mcp_servers: [], model: 'x', stream: true };
    expect(dropFieldsBedrockRejects(body, sonnet45)).toEqual({ ...base, system: [], temperature: 1 });
  });

  it('keepMetadataUserIdOnly: metadata keeps a string user_id and nothing else', () => {
    const userId = '{"device_id":"abc","session_id":"s"}';
    expect(keepMetadataUserIdOnly({ ...base, metadata: { user_id: userId, tags: ['x'] } }, sonnet45)).toEqual({
      ...base,
      metadata: { user_id: userId },
    });
    expect(keepMetadataUserIdOnly({ ...base, metadata: { tags: ['x'] } }, sonnet45)).toEqual(base);
    expect(keepMetadataUserIdOnly(base, sonnet45)).toBe(base);
  });

  it('dropContextManagementWithoutBeta: context_management only travels with its beta', () => {
    const body = { ...base, context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] } };
    expect(dropContextManagementWithoutBeta(body, sonnet45)).toEqual(base);
    expect(dropContextManagementWithoutBeta(body, { ...sonnet45, betas: ['context-management-2025-06-27'] })).toBe(body);
  });

  it('mapAdaptiveThinking: adaptive stays on Claude 4.6; older Claude gets a budget from the effort, below max_tokens', () => {
    const adaptive = { ...base, thinking: { type: 'adaptive' }, output_config: { effort: 'low' } };
    expect(mapAdaptiveThinking(adaptive, opus46)).toBe(adaptive);
    expect(mapAdaptiveThinking(adaptive, sonnet45).thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(mapAdaptiveThinking({ ...base, thinking: { type: 'adaptive' } }, sonnet45).thinking).toEqual({
      type: 'enabled',
      budget_tokens: 16384,
    });
    expect(mapAdaptiveThinking({ ...adaptive, max_tokens: 1500, output_config: { effort: 'high' } }, sonnet45).thinking).toEqual({
      type: 'enabled',
      budget_tokens: 1499,
    });
    // Too small for Claude's minimum budget: no thinking rather than a refusal.
    expect(mapAdaptiveThinking({ ...adaptive, max_tokens: 1000 }, sonnet45)).not.toHaveProperty('thinking');
    const enabled = { ...base, thinking: { type: 'enabled', budget_tokens: 4000 } };
    expect(mapAdaptiveThinking(enabled, sonnet45)).toBe(enabled);
  });

  it('dropEffortWhereUnsupported: output_config.effort only on models with effort; other output_config fields stay', () => {
    const body = { ...base, output_config: { effort: 'high' } };
    expect(dropEffortWhereUnsupported(body, opus46)).toBe(body);
    expect(dropEffortWhereUnsupported(body, sonnet45)).toEqual(base);
    const withFormat = { ...base, output_config: { effort: 'high', format: { type: 'json_schema' } } };
    expect(dropEffortWhereUnsupported(withFormat, sonnet45)).toEqual({ ...base, output_config: { format: { type: 'json_schema' } } });
    const opus45 = { capabilities: claudeCapabilities('us.anthropic.claude-opus-4-5-20251101-v1:0'), betas: [] };
    expect(dropEffortWhereUnsupported(body, opus45)).toBe(body);
  });

  it('stripThinkingDisplay: thinking.display is left out, the rest of thinking kept', () => {
    const body = { ...base, thinking: { type: 'enabled', budget_tokens: 31999, display: 'summarized' } };
    expect(stripThinkingDisplay(body, sonnet45)).toEqual({ ...base, thinking: { type: 'enabled', budget_tokens: 31999 } });
  });

  const tool = (extra: JsonObject): JsonObject => ({
    name: 'Read',
    description: 'Read a file',
    input_schema: { type: 'object' },
    ...extra,
  });

  it('stripToolDeferLoading and stripToolEagerInputStreaming: per-tool fields Bedrock refuses', () => {
    const body = { ...base, tools: [tool({ defer_loading: true, eager_input_streaming: true }), tool({})] };
    expect(stripToolDeferLoading(body, sonnet45).tools).toEqual([tool({ eager_input_streaming: true }), tool({})]);
    expect(stripToolEagerInputStreaming(body, sonnet45).tools).toEqual([tool({ defer_loading: true }), tool({})]);
  });

  it('stripToolStrictWhereUnsupported: strict stays from Claude 4.5 (Bedrock structured outputs), goes before; input_examples always goes', () => {
    const body = { ...base, tools: [tool({ strict: true, input_examples: [{}] })] };
    const sonnet4: RuleContext = { capabilities: claudeCapabilities('anthropic.claude-sonnet-4-20250514-v1:0'), betas: [] };
    const profile: RuleContext = {
      capabilities: claudeCapabilities('arn:aws:bedrock:us-east-1:1:application-inference-profile/x'),
      betas: [],
    };
    expect(stripToolStrictWhereUnsupported(body, sonnet45)).toBe(body);
    expect(stripToolStrictWhereUnsupported(body, opus46)).toBe(body);
    expect(stripToolStrictWhereUnsupported(body, sonnet4).tools).toEqual([tool({ input_examples: [{}] })]);
    expect(stripToolStrictWhereUnsupported(body, profile).tools).toEqual([tool({ input_examples: [{}] })]);
    expect(stripToolInputExamples(body, sonnet45).tools).toEqual([tool({ strict: true })]);
  });

  it('stripInputSchemaDialect: the root $schema of an input_schema goes, nested schemas are untouched', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { x: { $schema: 'kept', type: 'string' } },
      additionalProperties: false,
    };
    expect(stripInputSchemaDialect({ ...base, tools: [tool({ input_schema: schema })] }, sonnet45).tools).toEqual([
      tool({ input_schema: { type: 'object', properties: { x: { $schema: 'kept', type: 'string' } }, additionalProperties: false } }),
    ]);
  });

  const marked = (cache: JsonObject): JsonObject => ({
    ...base,
    system: [{ type: 'text', text: 's', cache_control: cache }],
    tools: [tool({ cache_control: cache })],
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'q', cache_control: cache }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'Read', input: {} }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'r', cache_control: cache }], cache_control: cache },
        ],
      },
    ],
  });

  it('stripCacheControlScope: scope goes from every cache_control (system, tools, messages, tool-result content)', () => {
    expect(stripCacheControlScope(marked({ type: 'ephemeral', scope: 'global', ttl: '1h' }), sonnet45)).toEqual(
      marked({ type: 'ephemeral', ttl: '1h' }),
    );
  });

  it('dropUnsupportedCacheTtl: 5m and 1h stay, any other ttl goes (the mark still caches)', () => {
    expect(dropUnsupportedCacheTtl(marked({ type: 'ephemeral', ttl: '1h' }), sonnet45)).toEqual(marked({ type: 'ephemeral', ttl: '1h' }));
    expect(dropUnsupportedCacheTtl(marked({ type: 'ephemeral', ttl: '5m' }), sonnet45)).toEqual(marked({ type: 'ephemeral', ttl: '5m' }));
    expect(dropUnsupportedCacheTtl(marked({ type: 'ephemeral', ttl: '24h' }), sonnet45)).toEqual(marked({ type: 'ephemeral' }));
  });

  it('no rule touches thinking text, signatures, redacted data or tool ids', () => {
    const history: JsonObject = {
      ...base,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'q' }] },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm  \n', signature: 'EqQB/+sig==' },
            { type: 'redacted_thinking', data: 'EmwKAhgB' },
            { type: 'tool_use', id: 'toolu_bdrk_01', name: 'Read', input: { path: '/x' } },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_bdrk_01', content: [{ type: 'text', text: 'r' }] }] },
      ],
    };
    expect(applyBedrockRules(history, sonnet45)).toEqual(history);
    expect(BEDROCK_RULES.length).toBe(13);
  });
});
