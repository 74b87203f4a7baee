/**
 * OpenAI chat completions request → the core request. Everything OpenAI-specific is decided here: the roles
 * (system and developer become system text), tool messages (tool results), `reasoning_content` +
 * `reasoning_signature` on assistant turns (signed reasoning sent back), `tool_choice`, `reasoning_effort` and the
 * seed API's `thinking` switch, `response_format`, `max_completion_tokens` / `max_tokens` and `stop`.
 */
import { checkAttachmentCounts } from '../../chat/attachments.js';
import type {
  AssistantContent,
  ChatRequest,
  Message,
  ReasoningRequest,
  ResponseFormat as CoreResponseFormat,
  ToolChoice as CoreToolChoice,
  ToolSpec,
  UserContent,
} from '../../chat/request.js';
import { reasoningFromEffort } from '../../chat/request.js';
import { DocumentNames } from '../../content/documents.js';
import { errors } from '../../errors.js';
import { type JsonObject } from '../../json.js';
import { parseToolArguments } from '../tool-arguments.js';
import { decodeUserContent, isBlank, textsOf } from './decode-content.js';
import type { ChatCompletionRequest, ChatMessage, ResponseFormat, ToolChoice, ToolDef } from './types.js';

const EMPTY_OBJECT_SCHEMA: JsonObject = { type: 'object', properties: {} };

export function decodeChatCompletion(req: ChatCompletionRequest): ChatRequest {
  const messages = req.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw errors.badRequest('messages must be a non-empty array.', 'messages');
  // Bedrock's image/document counts are enforced before anything is decoded or fetched.
  checkAttachmentCounts(countParts(messages), { images: 'image_url parts', documents: 'doc and file parts' });

  const system: ChatRequest['system'] = [];
  const turns: Message[] = [];
  const names = new DocumentNames();
  const push = (m: Message) => {
    if (turns.length === 0 && m.role === 'assistant') {
      throw errors.badRequest(`The conversation must start with a user message; ${m.path} is an assistant message.`, m.path ?? 'messages');
    }
    turns.push(m);
  };

  for (const [i, m] of messages.entries()) {
    const path = `messages[${i}]`;
    switch (m?.role) {
      case 'system':
      case 'developer':
        for (const text of textsOf(m.content, path)) if (!isBlank(text)) system.push({ type: 'text', text });
        break;
      case 'user': {
        const content: UserContent[] = decodeUserContent(m.content, path, names);
        if (content.length === 0)
          throw errors.badRequest(`${path} has no content (Bedrock does not accept empty or blank messages).`, path);
        push({ role: 'user', content, path });
        break;
      }
      case 'assistant': {
        const content = assistantContent(m, path);
        // An empty assistant turn (content "" or null, no tool calls) is valid OpenAI but says nothing; Bedrock
        // refuses blank messages, so it is left out and the turns around it join up.
        if (content.length > 0) push({ role: 'assistant', content, path });
        break;
      }
      case 'tool':
        if (!m.tool_call_id) throw errors.badRequest(`${path}.tool_call_id is required.`, `${path}.tool_call_id`);
        push({
          role: 'user',
          content: [
            { type: 'tool_result', toolUseId: m.tool_call_id, content: [{ type: 'text', text: textsOf(m.content, path).join('') }] },
          ],
          path,
        });
        break;
      default:
        throw errors.badRequest(`${path}.role '${String((m as { role?: unknown } | null)?.role)}' is not supported.`, `${path}.role`);
    }
  }
  if (turns.length === 0) throw errors.badRequest('messages must contain at least one user message.', 'messages');

  const { tools, toolChoice } = decodeToolChoice(req.tool_choice, (req.tools ?? []).map(toolSpec));
  const out: ChatRequest = { system, messages: turns, tools, stream: req.stream === true };
  if (toolChoice) out.toolChoice = toolChoice;
  if (req.parallel_tool_calls !== undefined) out.parallelToolCalls = req.parallel_tool_calls;
  const maxTokens = req.max_completion_tokens ?? req.max_tokens ?? undefined;
  if (maxTokens !== undefined) out.maxTokens = maxTokens;
  // max_completion_tokens counts reasoning too; the older max_tokens only the visible answer.
  if (req.max_completion_tokens != null) out.maxTokensIncludesReasoning = true;
  if (req.temperature != null) out.temperature = req.temperature;
  if (req.top_p != null) out.topP = req.top_p;
  const stops = (typeof req.stop === 'string' ? [req.stop] : (req.stop ?? [])).filter((s) => typeof s === 'string' && s !== '');
  if (stops.length > 0) out.stopSequences = stops;
  const reasoning = decodeReasoning(req);
  if (reasoning) out.reasoning = reasoning;
  const format = decodeResponseFormat(req.response_format);
  if (format) out.responseFormat = format;
  return out;
}

function countParts(messages: ChatMessage[]): { images: number; documents: number } {
  let images = 0;
  let documents = 0;
  for (const m of messages) {
    const content = (m as ChatMessage | null | undefined)?.content;
    if (!Array.isArray(content)) continue;
    for (const part of content) {
      const type = (part as { type?: unknown } | null | undefined)?.type;
      if (type === 'image_url') images += 1;
      else if (type === 'doc' || type === 'file') documents += 1;
    }
  }
  return { images, documents };
}

function assistantContent(m: ChatMessage, path: string): AssistantContent[] {
  const blocks: AssistantContent[] = [];
  // Claude verifies the signature, so unsigned reasoning cannot be replayed.
  if (m.reasoning_content && m.reasoning_signature)
    blocks.push({ type: 'reasoning', text: m.reasoning_content, signature: m.reasoning_signature });
  for (const text of textsOf(m.content, path)) if (!isBlank(text)) blocks.push({ type: 'text', text });
  for (const [j, call] of (m.tool_calls ?? []).entries()) {
    const at = `${path}.tool_calls[${j}]`;
    const name = call?.function?.name;
    if (!call?.id || !name) throw errors.badRequest(`${at} needs an id and a function name.`, at);
    blocks.push({ type: 'tool_use', id: call.id, name, input: parseToolArguments(call.function.arguments, `${at}.function.arguments`) });
  }
  return blocks;
}

function toolSpec(def: ToolDef, i: number): ToolSpec {
  const fn = def?.function;
  if (!fn?.name) throw errors.badRequest(`tools[${i}].function.name is required.`, `tools[${i}].function.name`);
  const params = fn.parameters && Object.keys(fn.parameters).length > 0 ? (fn.parameters as JsonObject) : EMPTY_OBJECT_SCHEMA;
  return { name: fn.name, ...(fn.description === undefined ? {} : { description: fn.description }), inputSchema: params };
}

/** tool_choice → the core's, and the tools the model is offered (allowed_tools narrows them). */
function decodeToolChoice(
  choice: ToolChoice | undefined,
  tools: ToolSpec[],
): { tools: ToolSpec[]; toolChoice: CoreToolChoice | undefined } {
  if (choice === undefined) return { tools, toolChoice: undefined };
  const forcing = choice === 'required' || typeof choice === 'object';
  if (forcing && tools.length === 0) throw errors.badRequest('tool_choice requires tools to be specified.', 'tool_choice');
  const named = (name: string | undefined) => {
    const found = tools.find((t) => t.name === name);
    if (!found) throw errors.badRequest(`tool_choice names '${String(name)}', which is not in tools.`, 'tool_choice');
    return found;
  };
  if (typeof choice === 'object' && choice.type === 'allowed_tools') {
    const allowed = [...new Set(choice.allowed_tools.tools.map((t) => named(t.function.name)))];
    return { tools: allowed, toolChoice: { type: choice.allowed_tools.mode === 'required' ? 'any' : 'auto' } };
  }
  if (typeof choice === 'object') return { tools, toolChoice: { type: 'tool', name: named(choice.function?.name).name } };
  if (choice === 'required') return { tools, toolChoice: { type: 'any' } };
  if (choice === 'none') return { tools, toolChoice: { type: 'none' } };
  return { tools, toolChoice: { type: 'auto' } };
}

/** The request's `thinking` field first (the seed API's), then `reasoning_effort`. */
function decodeReasoning(req: ChatCompletionRequest): ReasoningRequest | undefined {
  if (req.thinking?.type === 'disabled') return { mode: 'off' };
  if (req.thinking?.type === 'enabled')
    return req.thinking.budget_tokens === undefined ? { mode: 'on' } : { mode: 'on', budgetTokens: req.thinking.budget_tokens };
  return reasoningFromEffort(req.reasoning_effort);
}

function decodeResponseFormat(format: ResponseFormat | undefined): CoreResponseFormat | undefined {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema') {
    const s = format.json_schema;
    if (!s) throw errors.badRequest('response_format.json_schema is required.', 'response_format.json_schema');
    return {
      type: 'json_schema',
      name: s.name,
      ...(s.description === undefined ? {} : { description: s.description }),
      ...(s.schema === undefined ? {} : { schema: s.schema as JsonObject }),
      ...(s.strict == null ? {} : { strict: s.strict }),
    };
  }
  throw errors.badRequest(
    `response_format.type '${String((format as { type?: unknown }).type)}' is not supported.`,
    'response_format.type',
  );
}
