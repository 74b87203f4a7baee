import type { Tool, ToolChoice as ConverseToolChoice, ToolConfiguration, ToolSpecification } from '@aws-sdk/client-bedrock-runtime';
import type { ToolChoice, ToolSpec } from '../../chat/request.js';
import type { JsonObject } from '../../json.js';

export interface ToolInputs {
  tools: ToolSpec[];
  toolChoice: ToolChoice | undefined;
  /** Tools called earlier in the conversation (toolUse blocks in the history). */
  historyToolNames: string[];
  hasToolBlocks: boolean;
  /** The response_format tool, used only when the client sent no tools. */
  forcedTool?: ToolSpecification & { name: string };
  /** A tool the client marked for caching is followed by a cache point (default true). */
  cachePoints?: boolean;
}

const CACHE_POINT = { cachePoint: { type: 'default' } } as const;

/**
 * tools + tool choice → toolConfig (undefined when no tool is sent).
 * - none: Converse has no such choice, so the client's tools are withheld. If the history holds tool blocks,
 *   Bedrock insists on a toolConfig: the tools already called are declared with a permissive schema and no
 *   toolChoice, so nothing is forced (the model could still call one of them; nothing else is callable).
 * - tool blocks in the history but no tools in the request: the same stand-ins for the tools already called.
 * - toolChoice is only sent together with tools; a tool marked for caching is followed by a cache point.
 */
export function mapToolConfig(inputs: ToolInputs): ToolConfiguration | undefined {
  const choice = inputs.toolChoice;
  let tools: Tool[] =
    choice?.type === 'none'
      ? []
      : inputs.tools.flatMap((t) =>
          t.cache && inputs.cachePoints !== false ? [{ toolSpec: toToolSpec(t) }, CACHE_POINT] : [{ toolSpec: toToolSpec(t) }],
        );
  let toolChoice: ConverseToolChoice | undefined = tools.length > 0 ? mapToolChoice(choice) : undefined;
  if (inputs.forcedTool && inputs.tools.length === 0) {
    tools = [{ toolSpec: inputs.forcedTool }];
    toolChoice = { tool: { name: inputs.forcedTool.name } };
  }
  if (tools.length === 0 && inputs.hasToolBlocks) tools = inputs.historyToolNames.map((name) => ({ toolSpec: standInSpec(name) }));
  if (tools.length === 0) return undefined;
  return toolChoice ? { tools, toolChoice } : { tools };
}

function toToolSpec(t: ToolSpec): ToolSpecification {
  // Bedrock rejects an empty description.
  return { name: t.name, description: t.description?.trim() || t.name, inputSchema: { json: t.inputSchema } };
}

function mapToolChoice(choice: ToolChoice | undefined): ConverseToolChoice | undefined {
  switch (choice?.type) {
    case 'any':
      return { any: {} };
    case 'tool':
      return { tool: { name: choice.name } };
    case 'auto':
      return { auto: {} };
    default:
      return undefined; // unset: Bedrock's default is auto
  }
}

const PERMISSIVE: JsonObject = { type: 'object', additionalProperties: true };

function standInSpec(name: string): ToolSpecification {
  return { name, description: name, inputSchema: { json: PERMISSIVE } };
}
