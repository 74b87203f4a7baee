/**
 * OpenAI Responses request → the core request. Every Responses-specific rule is here:
 * - `instructions` and system/developer messages (wherever they stand) become system text;
 * - message items with input_text / input_image (data or http(s) URL) / input_file; assistant output_text / refusal;
 * - function_call / custom_tool_call → tool use (a custom call's raw text as the one string property `input`);
 *   function_call_output / custom_tool_call_output → tool results;
 * - reasoning items: their `encrypted_content` opens into the signed reasoning Bedrock needs; without it they are
 *   skipped (Codex sends `encrypted_content: null` for reasoning it got none for);
 * - tools: function tools as they are; `custom` tools as a tool with one required string property; every other
 *   type (web_search, tool_search, namespace, file_search, mcp, ...) is not offered to the model and is reported in
 *   the response's `ignored_tools`, unless tool_choice forces one: then a 400;
 * - tool_choice, parallel_tool_calls, max_output_tokens, temperature, top_p, reasoning.effort, text.format.
 */
import type {
  AssistantContent,
  ChatRequest,
  Message,
  ResponseFormat,
  ToolChoice as CoreToolChoice,
  ToolResultContent,
  ToolSpec,
  UserContent,
} from '../../chat/request.js';
import { reasoningFromEffort } from '../../chat/request.js';
import { DocumentNames } from '../../content/documents.js';
import { errors } from '../../errors.js';
import { isJsonObject, type JsonObject } from '../../json.js';
import { parseToolArguments } from '../tool-arguments.js';
import { decodeImageUrl, decodeInlineFile } from '../inline-content.js';
import { type openReasoning } from './reasoning-seal.js';
import type {
  ContentPart,
  ConversationItem,
  CustomTool,
  FunctionTool,
  IgnoredTool,
  ResponsesRequest,
  TextFormat,
  Tool,
  ToolChoice,
  ToolOutput,
} from './types.js';

/** The one string property a custom (free-form) tool is offered with; its value is the raw input. */
export const CUSTOM_TOOL_INPUT = 'input';

const EMPTY_OBJECT_SCHEMA: JsonObject = { type: 'object', properties: {} };

export interface DecodeContext {
  /** Opens reasoning `encrypted_content` (bound to the caller's key and the model). */
  openReasoning: (token: string, path: string) => ReturnType<typeof openReasoning>;
}

/** An item to decode, with the path its errors name (`input[3]`, or the stored conversation it came from). */
export interface PlacedItem {
  item: ConversationItem;
  path: string;
}

export interface DecodedResponses {
  request: ChatRequest;
  /** Names of the custom tools: calls of these are answered as custom_tool_call items. */
  customTools: Set<string>;
  /** The tools offered to the model, as the request named them (the response's `tools`). */
  offeredTools: Array<FunctionTool | CustomTool>;
  ignoredTools: IgnoredTool[];
}

export function decodeResponses(req: ResponsesRequest, items: PlacedItem[], ctx: DecodeContext): DecodedResponses {
  const system: ChatRequest['system'] = [];
  if (req.instructions && !isBlank(req.instructions)) system.push({ type: 'text', text: req.instructions });
  const messages: Message[] = [];
  const names = new DocumentNames();
  // Consecutive items of one role are one turn (a reasoning item, the text and the tool calls of one answer; the
  // results of parallel calls): the provider checks the last assistant turn for its signed reasoning.
  const push = (m: Message) => {
    if (messages.length === 0 && m.role === 'assistant') {
      throw errors.badRequest(`The conversation must start with a user message; ${m.path} is assistant output.`, m.path ?? 'input');
    }
    const last = messages[messages.length - 1];
    if (last?.role === 'user' && m.role === 'user') last.content.push(...m.content);
    else if (last?.role === 'assistant' && m.role === 'assistant') last.content.push(...m.content);
    else messages.push(m);
  };

  for (const { item, path } of items) {
    switch (item.type) {
      case 'message': {
        if (item.role === 'system' || item.role === 'developer') {
          for (const text of textsOf(item.content, path)) if (!isBlank(text)) system.push({ type: 'text', text });
        } else if (item.role === 'user') {
          const content = userContent(item.content, path, names);
          if (content.length === 0)
            throw errors.badRequest(`${path} has no content (Bedrock does not accept empty or blank messages).`, path);
          push({ role: 'user', content, path });
        } else {
          const content: AssistantContent[] = textsOf(item.content, path)
            .filter((t) => !isBlank(t))
            .map((text) => ({ type: 'text', text }));
          if (content.length > 0) push({ role: 'assistant', content, path });
        }
        break;
      }
      case 'function_call':
        push({
          role: 'assistant',
          content: [
            { type: 'tool_use', id: item.call_id, name: item.name, input: parseToolArguments(item.arguments, `${path}.arguments`) },
          ],
          path,
        });
        break;
      case 'custom_tool_call':
        push({
          role: 'assistant',
          content: [{ type: 'tool_use', id: item.call_id, name: item.name, input: { [CUSTOM_TOOL_INPUT]: item.input } }],
          path,
        });
        break;
      case 'function_call_output':
      case 'custom_tool_call_output':
        push({ role: 'user', content: [{ type: 'tool_result', toolUseId: item.call_id, content: toolOutput(item.output, path) }], path });
        break;
      case 'reasoning': {
        if (!item.encrypted_content) break;
        const block = ctx.openReasoning(item.encrypted_content, path);
        if (block) push({ role: 'assistant', content: [block], path });
        break;
      }
    }
  }
  if (!messages.some((m) => m.role === 'user')) throw errors.badRequest('input must contain at least one user message.', 'input');

  const tools = decodeTools(req.tools ?? []);
  const { specs, toolChoice } = decodeToolChoice(req.tool_choice, tools);
  const request: ChatRequest = { system, messages, tools: specs, stream: req.stream === true };
  if (toolChoice) request.toolChoice = toolChoice;
  if (req.parallel_tool_calls != null) request.parallelToolCalls = req.parallel_tool_calls;
  if (req.max_output_tokens != null) {
    request.maxTokens = req.max_output_tokens;
    request.maxTokensIncludesReasoning = true;
  }
  if (req.temperature != null) request.temperature = req.temperature;
  if (req.top_p != null) request.topP = req.top_p;
  const reasoning = reasoningFromEffort(req.reasoning?.effort);
  if (reasoning) request.reasoning = reasoning;
  const format = decodeTextFormat(req.text?.format);
  if (format) request.responseFormat = format;
  return {
    request,
    customTools: new Set(tools.offered.filter((t) => t.type === 'custom').map((t) => t.name)),
    offeredTools: tools.offered.filter((t) => specs.some((s) => s.name === t.name)),
    ignoredTools: tools.ignored,
  };
}

const isBlank = (text: string) => text.trim() === '';

function textsOf(content: string | ContentPart[], path: string): string[] {
  if (typeof content === 'string') return [content];
  return content.map((part, j) => {
    const at = `${path}.content[${j}]`;
    if (part.type === 'input_text' || part.type === 'output_text') return part.text;
    if (part.type === 'refusal') return part.refusal;
    throw errors.badRequest(`${at}: only text parts are allowed in this message role.`, at);
  });
}

function userContent(content: string | ContentPart[], path: string, names: DocumentNames): UserContent[] {
  if (typeof content === 'string') return isBlank(content) ? [] : [{ type: 'text', text: content }];
  const out: UserContent[] = [];
  content.forEach((part, j) => {
    const at = `${path}.content[${j}]`;
    switch (part.type) {
      case 'input_text':
      case 'output_text':
        if (!isBlank(part.text)) out.push({ type: 'text', text: part.text });
        return;
      case 'refusal':
        if (!isBlank(part.refusal)) out.push({ type: 'text', text: part.refusal });
        return;
      case 'input_image':
        if (!part.image_url && part.file_id) throw errors.badRequest(`${at}: file_id references are not supported; send image_url.`, at);
        out.push(decodeImageUrl(part.image_url, at, 'image_url'));
        return;
      case 'input_file':
        if (!part.file_data && part.file_url) throw errors.badRequest(`${at}: file_url is not supported; send file_data.`, at);
        out.push(decodeInlineFile(part, names, at));
        return;
    }
  });
  return out;
}

/** A tool's answer: text, and images given as data URLs (a tool result carries bytes only). */
function toolOutput(output: ToolOutput, path: string): ToolResultContent[] {
  if (typeof output === 'string') return [{ type: 'text', text: output }];
  return output.flatMap((part, j): ToolResultContent[] => {
    const at = `${path}.output[${j}]`;
    if (part.type === 'input_text') return [{ type: 'text', text: part.text }];
    if (part.type === 'input_image') {
      const image = decodeImageUrl(part.image_url, at, 'image_url');
      if (image.source.type !== 'bytes') throw errors.badRequest(`${at}: images in tool output must be data URLs.`, at);
      return [{ type: 'image', mediaType: image.source.mediaType, data: image.source.data }];
    }
    throw errors.badRequest(`${at}: files are not supported in tool output; send text or images.`, at);
  });
}

interface DecodedTools {
  specs: ToolSpec[];
  offered: Array<FunctionTool | CustomTool>;
  ignored: IgnoredTool[];
}

const isFunctionTool = (t: Tool): t is FunctionTool => t.type === 'function';
const isCustomTool = (t: Tool): t is CustomTool => t.type === 'custom';

function decodeTools(tools: Tool[]): DecodedTools {
  const out: DecodedTools = { specs: [], offered: [], ignored: [] };
  tools.forEach((t, i) => {
    if (!isFunctionTool(t) && !isCustomTool(t)) {
      out.ignored.push({ type: t.type, ...(typeof t.name === 'string' ? { name: t.name } : {}) });
      return;
    }
    if (out.specs.some((s) => s.name === t.name))
      throw errors.badRequest(`tools[${i}]: the tool name '${t.name}' is used twice.`, `tools[${i}].name`);
    out.specs.push(isFunctionTool(t) ? functionSpec(t) : customSpec(t));
    out.offered.push(t);
  });
  return out;
}

function functionSpec(t: FunctionTool): ToolSpec {
  return {
    name: t.name,
    ...(t.description ? { description: t.description } : {}),
    inputSchema: isJsonObject(t.parameters) ? t.parameters : EMPTY_OBJECT_SCHEMA,
  };
}

/**
 * A free-form tool as a tool with one required string property. A grammar cannot constrain a Bedrock model, so it
 * is given to the model in the property's description (Codex's apply_patch grammar is ~1 KB).
 */
function customSpec(t: CustomTool): ToolSpec {
  const format = t.format?.type === 'grammar' ? t.format : undefined;
  const property = format
    ? `The raw input, not JSON. It must match this ${format.syntax} grammar:\n${format.definition}`
    : 'The raw input text (free-form, not JSON).';
  return {
    name: t.name,
    description: t.description?.trim() || `Free-form tool ${t.name}: its input is raw text.`,
    inputSchema: {
      type: 'object',
      properties: { [CUSTOM_TOOL_INPUT]: { type: 'string', description: property } },
      required: [CUSTOM_TOOL_INPUT],
      additionalProperties: false,
    },
  };
}

function decodeToolChoice(choice: ToolChoice | undefined, tools: DecodedTools): { specs: ToolSpec[]; toolChoice?: CoreToolChoice } {
  const { specs } = tools;
  const requireTools = (what: string) => {
    if (specs.length === 0) {
      throw errors.badRequest(
        `tool_choice ${what} needs a function or custom tool; ${tools.ignored.length > 0 ? `the hosted tools (${tools.ignored.map((t) => t.type).join(', ')}) are not run by this gateway` : 'tools is empty'}.`,
        'tool_choice',
      );
    }
  };
  if (choice === undefined) return { specs };
  if (choice === 'auto') return { specs, toolChoice: { type: 'auto' } };
  if (choice === 'none') return { specs, toolChoice: { type: 'none' } };
  if (choice === 'required') {
    requireTools("'required'");
    return { specs, toolChoice: { type: 'any' } };
  }
  if (choice.type === 'allowed_tools' && 'tools' in choice && Array.isArray(choice.tools)) {
    const allowed = new Set<string | undefined>();
    choice.tools.forEach((t, i) => {
      if (t.type !== 'function' && t.type !== 'custom') return; // a hosted tool: not offered here anyway
      if (!tools.offered.some((o) => o.name === t.name && o.type === t.type))
        throw errors.badRequest(
          `tool_choice.tools[${i}] names the ${t.type} tool '${String(t.name)}', which is not in tools.`,
          `tool_choice.tools[${i}]`,
        );
      allowed.add(t.name);
    });
    const kept = specs.filter((s) => allowed.has(s.name));
    if (choice.mode === 'required') {
      if (kept.length === 0) throw errors.badRequest('tool_choice.tools names no function or custom tool of tools.', 'tool_choice.tools');
      return { specs: kept, toolChoice: { type: 'any' } };
    }
    return { specs: kept, toolChoice: { type: 'auto' } };
  }
  if (choice.type === 'function' || choice.type === 'custom') {
    const name = 'name' in choice ? choice.name : undefined;
    if (typeof name !== 'string' || name === '')
      throw errors.badRequest(`tool_choice of type '${choice.type}' needs the tool's name.`, 'tool_choice.name');
    const named = tools.offered.find((t) => t.name === name && t.type === choice.type);
    if (!named)
      throw errors.badRequest(`tool_choice names the ${choice.type} tool '${String(name)}', which is not in tools.`, 'tool_choice');
    return { specs, toolChoice: { type: 'tool', name: named.name } };
  }
  throw errors.badRequest(
    `tool_choice forces the hosted tool '${choice.type}', which this gateway cannot run (only function and custom tools are offered to the model).`,
    'tool_choice',
    'unsupported_tool',
  );
}

function decodeTextFormat(format: TextFormat | undefined): ResponseFormat | undefined {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  return {
    type: 'json_schema',
    name: format.name,
    ...(format.description === undefined ? {} : { description: format.description }),
    ...(format.schema === undefined ? {} : { schema: format.schema }),
    ...(format.strict == null ? {} : { strict: format.strict }),
  };
}
