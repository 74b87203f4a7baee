import type { Tool, ToolChoice as ConverseToolChoice, ToolConfiguration, ToolSpecification } from '@aws-sdk/client-bedrock-runtime';
import { errors } from '../../openai/errors.js';
import type { ToolChoice, ToolDef } from '../../openai/types.js';
import type { JsonDocument } from './json.js';

export interface ToolInputs {
  tools: ToolDef[] | undefined;
  toolChoice: ToolChoice | undefined;
  /** Tools called earlier in the conversation (toolUse blocks in the history). */
  historyToolNames: string[];
  hasToolBlocks: boolean;
  /** The response_format tool, used only when the client sent no tools. */
  forcedTool?: ToolSpecification & { name: string };
}

const EMPTY_OBJECT_SCHEMA = { type: 'object', properties: {} } as const;

/**
 * tools + tool_choice → toolConfig (undefined when no tool is sent).
 * - none: Converse has no such choice, so the client's tools are withheld. If the history holds tool blocks,
 *   Bedrock insists on a toolConfig: the tools already called are declared with a permissive schema and no
 *   toolChoice, so nothing is forced (the model could still call one of them; nothing else is callable).
 * - tool blocks in the history but no tools in the request: the same stand-ins for the tools already called.
 * - toolChoice is only sent together with tools.
 */
export function mapToolConfig(inputs: ToolInputs): ToolConfiguration | undefined {
  const declared = (inputs.tools ?? []).map(toToolSpec);
  const choice = inputs.toolChoice;
  const forcing = choice === 'required' || typeof choice === 'object';
  if (forcing && declared.length === 0) {
    throw errors.badRequest('tool_choice requires tools to be specified.', 'tool_choice');
  }
  if (typeof choice === 'object' && !declared.some((t) => t.name === choice.function?.name)) {
    throw errors.badRequest(`tool_choice names '${String(choice.function?.name)}', which is not in tools.`, 'tool_choice');
  }

  let specs: ToolSpecification[] = choice === 'none' ? [] : declared;
  let toolChoice: ConverseToolChoice | undefined = specs.length > 0 ? mapToolChoice(choice) : undefined;
  if (inputs.forcedTool && declared.length === 0) {
    specs = [inputs.forcedTool];
    toolChoice = { tool: { name: inputs.forcedTool.name } };
  }
  if (specs.length === 0 && inputs.hasToolBlocks) specs = inputs.historyToolNames.map(standInSpec);
  if (specs.length === 0) return undefined;
  const tools: Tool[] = specs.map((toolSpec) => ({ toolSpec }));
  return toolChoice ? { tools, toolChoice } : { tools };
}

function toToolSpec(def: ToolDef, i: number): ToolSpecification & { name: string } {
  const fn = def?.function;
  if (!fn?.name) throw errors.badRequest(`tools[${i}].function.name is required.`, `tools[${i}].function.name`);
  const params = fn.parameters && Object.keys(fn.parameters).length > 0 ? fn.parameters : EMPTY_OBJECT_SCHEMA;
  return {
    name: fn.name,
    // Bedrock rejects an empty description.
    description: fn.description?.trim() || fn.name,
    inputSchema: { json: params as JsonDocument },
  };
}

function mapToolChoice(choice: ToolChoice | undefined): ConverseToolChoice | undefined {
  if (choice === 'required') return { any: {} };
  if (typeof choice === 'object') return { tool: { name: choice.function.name } };
  if (choice === 'auto') return { auto: {} };
  return undefined; // unset: Bedrock's default is auto
}

function standInSpec(name: string): ToolSpecification {
  return { name, description: name, inputSchema: { json: { type: 'object', additionalProperties: true } } };
}
