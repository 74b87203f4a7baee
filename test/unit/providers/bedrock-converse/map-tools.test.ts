import { describe, expect, it } from 'vitest';
import type { ToolSpec } from '../../../../lambdas/core/chat/request.js';
import { mapToolConfig, type ToolInputs } from '../../../../lambdas/core/providers/bedrock-converse/map-tools.js';
import type { ToolChoice, ToolDef } from '../../../../lambdas/core/wire/openai-chat/types.js';
import { decoded } from './openai-input.js';

const weather: ToolDef = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather by city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};
const bare: ToolDef = { type: 'function', function: { name: 'ping', description: '' } };

/** The old mapper's OpenAI inputs: tools and tool_choice are decoded into the core request first. */
interface OpenAIToolInputs extends Omit<Partial<ToolInputs>, 'tools' | 'toolChoice'> {
  tools?: ToolDef[];
  toolChoice?: ToolChoice;
}
const inputs = (over: OpenAIToolInputs): ToolInputs => {
  const { tools, toolChoice } = decoded({ tools: over.tools, tool_choice: over.toolChoice });
  return { historyToolNames: [], hasToolBlocks: false, ...over, tools, toolChoice };
};

describe('mapToolConfig', () => {
  it('maps tools to toolSpecs; empty description → the name, missing parameters → an empty object schema', () => {
    expect(mapToolConfig(inputs({ tools: [weather, bare] }))).toEqual({
      tools: [
        { toolSpec: { name: 'get_weather', description: 'Weather by city', inputSchema: { json: weather.function.parameters } } },
        { toolSpec: { name: 'ping', description: 'ping', inputSchema: { json: { type: 'object', properties: {} } } } },
      ],
    });
  });

  it.each([
    ['auto', { auto: {} }],
    ['required', { any: {} }],
    [{ type: 'function', function: { name: 'get_weather' } }, { tool: { name: 'get_weather' } }],
  ] as const)('tool_choice %j → %j', (choice, expected) => {
    expect(mapToolConfig(inputs({ tools: [weather], toolChoice: choice }))?.toolChoice).toEqual(expected);
  });

  it('sends no toolChoice when tool_choice is unset', () => {
    expect(mapToolConfig(inputs({ tools: [weather] }))).not.toHaveProperty('toolChoice');
  });

  it('none withholds the tools entirely when the history has no tool blocks', () => {
    expect(mapToolConfig(inputs({ tools: [weather], toolChoice: 'none' }))).toBeUndefined();
  });

  it('none with tool history: only stand-ins for the tools already called, nothing forced', () => {
    expect(
      mapToolConfig(inputs({ tools: [weather, bare], toolChoice: 'none', historyToolNames: ['get_weather'], hasToolBlocks: true })),
    ).toEqual({
      tools: [
        {
          toolSpec: {
            name: 'get_weather',
            description: 'get_weather',
            inputSchema: { json: { type: 'object', additionalProperties: true } },
          },
        },
      ],
    });
  });

  it('tool history without tools in the request: declares the tools already called', () => {
    const config = mapToolConfig(inputs({ historyToolNames: ['a', 'b'], hasToolBlocks: true }));
    expect(config?.tools?.map((t) => t.toolSpec?.name)).toEqual(['a', 'b']);
    expect(config).not.toHaveProperty('toolChoice');
  });

  it('no tools and no history: no toolConfig at all', () => {
    expect(mapToolConfig(inputs({ toolChoice: 'auto' }))).toBeUndefined();
  });

  it('never sends toolChoice without tools: forcing a tool without tools is a 400', () => {
    expect(() => mapToolConfig(inputs({ toolChoice: 'required' }))).toThrow(expect.objectContaining({ status: 400, param: 'tool_choice' }));
    expect(() => mapToolConfig(inputs({ tools: [weather], toolChoice: { type: 'function', function: { name: 'nope' } } }))).toThrow(
      /not in tools/,
    );
  });

  it('the response_format tool replaces absent client tools and is forced', () => {
    const forcedTool = { name: 'answer', description: 'd', inputSchema: { json: { type: 'object' } } };
    expect(mapToolConfig(inputs({ forcedTool, historyToolNames: ['old'], hasToolBlocks: true }))).toEqual({
      tools: [{ toolSpec: forcedTool }],
      toolChoice: { tool: { name: 'answer' } },
    });
  });

  it('refuses a tool without a name', () => {
    expect(() => mapToolConfig(inputs({ tools: [{ type: 'function', function: { name: '' } }] }))).toThrow(
      expect.objectContaining({ status: 400, param: 'tools[0].function.name' }),
    );
  });

  it('a core tool marked for caching is followed by a cache point', () => {
    const cached: ToolSpec = { name: 'lookup', inputSchema: { type: 'object' }, cache: { type: 'ephemeral' } };
    expect(mapToolConfig({ tools: [cached], toolChoice: { type: 'auto' }, historyToolNames: [], hasToolBlocks: false })).toEqual({
      tools: [
        { toolSpec: { name: 'lookup', description: 'lookup', inputSchema: { json: { type: 'object' } } } },
        { cachePoint: { type: 'default' } },
      ],
      toolChoice: { auto: {} },
    });
  });
});
