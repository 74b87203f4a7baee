import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../../../lambdas/core/chat/request.js';
import { buildConverseRequest } from '../../../../lambdas/core/providers/bedrock-converse/build-request.js';
import { parseConverseConfig } from '../../../../lambdas/core/providers/bedrock-converse/config.js';
import type { ChatCompletionRequest } from '../../../../lambdas/core/wire/openai-chat/types.js';
import { openAIRequest, toConverse } from './openai-input.js';

const claude = parseConverseConfig({ modelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0' });
const build = (over: Partial<ChatCompletionRequest>, config = claude) => toConverse(openAIRequest({ model: 'c4', ...over }), config);
const weatherTool = { type: 'function' as const, function: { name: 'get_weather', description: 'w', parameters: { type: 'object' } } };

describe('buildConverseRequest', () => {
  it('a plain request carries only the model and the messages', () => {
    expect(build({})).toEqual({
      input: { modelId: claude.modelId, messages: [{ role: 'user', content: [{ text: 'hi' }] }] },
      structuredToolName: undefined,
    });
  });

  it('thinking: Claude field, raised maxTokens, temperature 1, signed reasoning replayed', () => {
    const { input } = build({
      reasoning_effort: 'low',
      temperature: 0.3,
      top_p: 0.8,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          reasoning_content: 'Call it.',
          reasoning_signature: 'sig',
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
      ],
    });
    expect(input.additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 2048 } });
    expect(input.inferenceConfig).toEqual({ maxTokens: 2048 + 4096, temperature: 1 });
    expect(input.messages![1].content![0]).toEqual({ reasoningContent: { reasoningText: { text: 'Call it.', signature: 'sig' } } });
  });

  it('json_schema without tools → forced tool; the plan names it for reading the answer', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } } };
    const plan = build({ response_format: { type: 'json_schema', json_schema: { name: 'city', schema } } });
    expect(plan.structuredToolName).toBe('city');
    expect(plan.input.toolConfig).toEqual({
      tools: [{ toolSpec: { name: 'city', description: expect.any(String), inputSchema: { json: schema } } }],
      toolChoice: { tool: { name: 'city' } },
    });
    expect(plan.input.system).toBeUndefined();
  });

  it("json_object with client tools → a system instruction after the client's system text", () => {
    const plan = build({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
      tools: [weatherTool],
      response_format: { type: 'json_object' },
    });
    expect(plan.structuredToolName).toBeUndefined();
    expect(plan.input.system).toEqual([{ text: 'Be brief.' }, { text: expect.stringMatching(/JSON object/) }]);
    expect(plan.input.toolConfig!.tools).toHaveLength(1);
  });

  it('json output with thinking requested → instruction (Claude cannot think under a forced tool)', () => {
    const plan = build({ reasoning_effort: 'medium', response_format: { type: 'json_object' } });
    expect(plan.structuredToolName).toBeUndefined();
    expect(plan.input.toolConfig).toBeUndefined();
    expect(plan.input.additionalModelRequestFields).toBeDefined();
  });

  it('a config thinking default yields to json output by forced tool', () => {
    const plan = build({ response_format: { type: 'json_object' } }, parseConverseConfig({ modelId: claude.modelId, thinking: true }));
    expect(plan.structuredToolName).toBe('json_object');
    expect(plan.input.additionalModelRequestFields).toBeUndefined();
  });

  it('tool history without tools: stand-in tool specs keep Bedrock from refusing the request', () => {
    const { input } = build({
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"q":1}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'found' },
        { role: 'assistant', content: 'Found it.' },
        { role: 'user', content: 'thanks' },
      ],
    });
    expect(input.toolConfig?.tools?.map((t) => t.toolSpec?.name)).toEqual(['lookup']);
    expect(input.toolConfig).not.toHaveProperty('toolChoice');
  });

  it('prompt cache points where the config asks', () => {
    const config = parseConverseConfig({ modelId: claude.modelId, promptCache: true });
    const { input } = build(
      {
        messages: [
          { role: 'system', content: 's' },
          { role: 'user', content: 'q' },
        ],
        tools: [weatherTool],
      },
      config,
    );
    const cp = { cachePoint: { type: 'default' } };
    expect(input.system).toEqual([{ text: 's' }, cp]);
    expect(input.toolConfig!.tools!.at(-1)).toEqual(cp);
    expect(input.messages!.at(-1)!.content).toEqual([{ text: 'q' }, cp]);
  });

  it('is pure: the same core request builds the same input twice and is left unchanged', () => {
    const req: ChatRequest = {
      system: [{ type: 'text', text: 's' }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'q' }] }],
      tools: [],
      stream: false,
    };
    const before = structuredClone(req);
    const config = parseConverseConfig({ modelId: claude.modelId, promptCache: true });
    expect(buildConverseRequest(req, config)).toEqual(buildConverseRequest(req, config));
    expect(req).toEqual(before);
  });
});
