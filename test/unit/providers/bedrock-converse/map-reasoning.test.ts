import { describe, expect, it } from 'vitest';
import { parseConverseConfig } from '../../../../lambdas/core/providers/bedrock-converse/config.js';
import { resolveThinking, thinkingRequestFields } from '../../../../lambdas/core/providers/bedrock-converse/map-reasoning.js';
import type { ConverseConfig } from '../../../../lambdas/core/providers/bedrock-converse/config.js';
import type { ThinkingInputs } from '../../../../lambdas/core/providers/bedrock-converse/map-reasoning.js';
import type { ChatCompletionRequest, ChatMessage } from '../../../../lambdas/core/wire/openai-chat/types.js';
import { decoded } from './openai-input.js';

const claude = parseConverseConfig({ modelId: 'global.anthropic.claude-sonnet-4-5-20250929-v1:0' });
const claudeThinking = parseConverseConfig({ modelId: 'anthropic.claude-3-7-sonnet-20250219-v1:0', thinking: { budgetTokens: 3000 } });
const nova = parseConverseConfig({ modelId: 'us.amazon.nova-pro-v1:0' });
const free = { clientForcesTool: false, structuredForcesTool: false };
const resolve = (over: Partial<ChatCompletionRequest>, config: ConverseConfig, inputs: ThinkingInputs) =>
  resolveThinking(decoded(over), config, inputs);

describe('resolveThinking', () => {
  it('is off for an assistant prefill (Claude refuses prefill with thinking), from the config or the request', () => {
    const prefill: ChatMessage[] = [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'The answer is' },
    ];
    expect(resolve({ messages: prefill }, claudeThinking, free)).toBeNull();
    expect(resolve({ messages: prefill, reasoning_effort: 'high' }, claude, free)).toBeNull();
    expect(resolve({}, claudeThinking, free)).toEqual({ budgetTokens: 3000 });
  });

  it.each([
    ['minimal', 1024],
    ['low', 2048],
    ['medium', 8192],
    ['high', 16384],
  ] as const)('reasoning_effort %s → budget %d', (effort, budget) => {
    expect(resolve({ reasoning_effort: effort }, claude, free)).toEqual({ budgetTokens: budget });
  });

  it('thinking.budget_tokens wins over reasoning_effort and is raised to the 1024 minimum', () => {
    expect(resolve({ thinking: { type: 'enabled', budget_tokens: 5000 }, reasoning_effort: 'low' }, claude, free)).toEqual({
      budgetTokens: 5000,
    });
    expect(resolve({ thinking: { type: 'enabled', budget_tokens: 10 } }, claude, free)).toEqual({ budgetTokens: 1024 });
    expect(resolve({ thinking: { type: 'enabled' } }, claude, free)).toEqual({ budgetTokens: 8192 });
  });

  it('max_completion_tokens bounds reasoning and answer together: the budget takes at most half, or thinking is off', () => {
    expect(resolve({ reasoning_effort: 'high', max_completion_tokens: 3000 }, claude, free)).toEqual({ budgetTokens: 1500 });
    expect(resolve({ reasoning_effort: 'low', max_completion_tokens: 30000 }, claude, free)).toEqual({ budgetTokens: 2048 });
    expect(resolve({ reasoning_effort: 'high', max_completion_tokens: 2047 }, claude, free)).toBeNull();
    expect(resolve({ reasoning_effort: 'high', max_completion_tokens: 2048 }, claude, free)).toEqual({ budgetTokens: 1024 });
    // The older max_tokens counts only the visible answer: the budget comes on top (see mapInferenceConfig).
    expect(resolve({ reasoning_effort: 'high', max_tokens: 3000 }, claude, free)).toEqual({ budgetTokens: 16384 });
  });

  it('the config turns thinking on by default; the request can turn it off', () => {
    expect(resolve({}, claudeThinking, free)).toEqual({ budgetTokens: 3000 });
    expect(resolve({ thinking: { type: 'disabled' } }, claudeThinking, free)).toBeNull();
    expect(resolve({}, claude, free)).toBeNull();
  });

  it('is never sent to a model not known to be Claude', () => {
    expect(resolve({ reasoning_effort: 'high' }, nova, free)).toBeNull();
  });

  it('a client-forced tool wins over thinking, even asked for (Claude refuses both at once)', () => {
    const forced = { clientForcesTool: true, structuredForcesTool: false };
    expect(resolve({}, claudeThinking, forced)).toBeNull();
    expect(resolve({ reasoning_effort: 'low' }, claudeThinking, forced)).toBeNull();
  });

  it('JSON output by a forced tool: a config default yields; an explicit request keeps thinking', () => {
    const structured = { clientForcesTool: false, structuredForcesTool: true };
    expect(resolve({}, claudeThinking, structured)).toBeNull();
    expect(resolve({ reasoning_effort: 'low' }, claudeThinking, structured)).toEqual({ budgetTokens: 2048 });
  });

  it('is skipped for a tool-use continuation whose assistant turn lacks signed reasoning', () => {
    const turn = (extra: Partial<ChatMessage>): ChatMessage[] => [
      { role: 'user', content: 'go' },
      { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }], ...extra },
      { role: 'tool', tool_call_id: 'c1', content: 'ok' },
    ];
    expect(resolve({ reasoning_effort: 'low', messages: turn({}) }, claude, free)).toBeNull();
    expect(
      resolve({ reasoning_effort: 'low', messages: turn({ reasoning_content: 'r', reasoning_signature: 's' }) }, claude, free),
    ).toEqual({
      budgetTokens: 2048,
    });
  });

  it('redacted reasoning in the tool-use turn counts as signed (a core request from another wire API)', () => {
    const req = decoded({ reasoning_effort: 'low' });
    const messages = [
      ...req.messages,
      {
        role: 'assistant' as const,
        content: [
          { type: 'redacted_reasoning' as const, data: 'AAAA' },
          { type: 'tool_use' as const, id: 'c1', name: 'f', input: {} },
        ],
      },
      {
        role: 'user' as const,
        content: [{ type: 'tool_result' as const, toolUseId: 'c1', content: [{ type: 'text' as const, text: 'ok' }] }],
      },
    ];
    expect(resolveThinking({ ...req, messages }, claude, free)).toEqual({ budgetTokens: 2048 });
  });

  it("renders Claude's request field", () => {
    expect(thinkingRequestFields({ budgetTokens: 2048 })).toEqual({ thinking: { type: 'enabled', budget_tokens: 2048 } });
  });
});
