import type { ContentBlock, Message, SystemContentBlock, ToolResultContentBlock } from '@aws-sdk/client-bedrock-runtime';
import { errors } from '../../openai/errors.js';
import type { ChatMessage } from '../../openai/types.js';
import type { CallContext } from '../types.js';
import { AttachmentBudget, checkAttachmentCounts } from './attachment-limits.js';
import { isBlank, mapUserContent, textsOf, type UserContentContext } from './map-content.js';
import { DocumentNames } from './map-document.js';
import { isJsonObject, type JsonObject } from './json.js';

export interface MappedConversation {
  system: SystemContentBlock[];
  /** Strictly alternating, starting with a user turn. */
  messages: Message[];
  /** Names of the tools called in the history, in order of first use. */
  historyToolNames: string[];
  /** Whether any toolUse/toolResult block was sent (Bedrock then requires a toolConfig). */
  hasToolBlocks: boolean;
}

export interface MapMessagesOptions {
  fetchImage: CallContext['fetchImage'];
  /** Send earlier reasoning back (only valid when this request has thinking on). */
  includeReasoning: boolean;
}

/**
 * OpenAI messages → Converse system blocks and user/assistant turns. Same-role neighbours are merged (tool
 * results are user content in Converse); nothing is invented to repair a conversation — it is refused instead.
 */
export async function mapMessages(messages: ChatMessage[], opts: MapMessagesOptions): Promise<MappedConversation> {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw errors.badRequest('messages must be a non-empty array.', 'messages');
  }
  const system: SystemContentBlock[] = [];
  const turns: Message[] = [];
  const toolNames = new Set<string>();
  // Bedrock's image/document counts are enforced before anything is decoded or fetched.
  checkAttachmentCounts(messages);
  const cx: UserContentContext = { attachments: new AttachmentBudget(opts.fetchImage), documents: new DocumentNames() };

  const append = (role: 'user' | 'assistant', blocks: ContentBlock[], path: string) => {
    if (blocks.length === 0) {
      throw errors.badRequest(`${path} has no content (Bedrock does not accept empty or blank messages).`, path);
    }
    const last = turns[turns.length - 1];
    if (!last && role === 'assistant') {
      throw errors.badRequest(`The conversation must start with a user message; ${path} is an assistant message.`, path);
    }
    if (last?.role === role) last.content!.push(...blocks);
    else turns.push({ role, content: blocks });
  };

  for (const [i, m] of messages.entries()) {
    const path = `messages[${i}]`;
    switch (m?.role) {
      case 'system':
      case 'developer':
        for (const text of textsOf(m.content, path)) if (!isBlank(text)) system.push({ text });
        break;
      case 'user':
        append('user', await mapUserContent(m.content, path, cx), path);
        break;
      case 'assistant': {
        const blocks = assistantBlocks(m, path, opts.includeReasoning, toolNames);
        // An empty assistant turn (content "" or null, no tool calls) is valid OpenAI but says nothing; Bedrock
        // refuses blank messages, so it is left out and the turns around it join up.
        if (blocks.length > 0) append('assistant', blocks, path);
        break;
      }
      case 'tool':
        append('user', [toolResultBlock(m, path)], path);
        break;
      default:
        throw errors.badRequest(`${path}.role '${String(m?.role)}' is not supported.`, `${path}.role`);
    }
  }
  if (turns.length === 0) throw errors.badRequest('messages must contain at least one user message.', 'messages');

  const ordered = turns.map((t) => (t.role === 'user' ? { ...t, content: toolResultsFirst(t.content!) } : t));
  trimFinalAssistantText(ordered);
  return {
    system,
    messages: ordered,
    historyToolNames: [...toolNames],
    hasToolBlocks: ordered.some((t) => t.content!.some((b) => b.toolUse || b.toolResult)),
  };
}

function assistantBlocks(m: ChatMessage, path: string, includeReasoning: boolean, toolNames: Set<string>) {
  const blocks: ContentBlock[] = [];
  // Claude verifies the signature, so unsigned reasoning cannot be replayed.
  if (includeReasoning && m.reasoning_content && m.reasoning_signature) {
    blocks.push({ reasoningContent: { reasoningText: { text: m.reasoning_content, signature: m.reasoning_signature } } });
  }
  for (const text of textsOf(m.content, path)) if (!isBlank(text)) blocks.push({ text });
  for (const [j, call] of (m.tool_calls ?? []).entries()) {
    const at = `${path}.tool_calls[${j}]`;
    const name = call?.function?.name;
    if (!call?.id || !name) throw errors.badRequest(`${at} needs an id and a function name.`, at);
    toolNames.add(name);
    blocks.push({ toolUse: { toolUseId: toToolUseId(call.id), name, input: parseArguments(call.function.arguments, at) } });
  }
  return blocks;
}

function parseArguments(args: unknown, path: string): JsonObject {
  if (args == null || (typeof args === 'string' && isBlank(args))) return {};
  let parsed: unknown;
  try {
    parsed = typeof args === 'string' ? JSON.parse(args) : args;
  } catch {
    throw errors.badRequest(`${path}.function.arguments is not valid JSON.`, `${path}.function.arguments`);
  }
  if (!isJsonObject(parsed)) {
    throw errors.badRequest(`${path}.function.arguments must be a JSON object.`, `${path}.function.arguments`);
  }
  return parsed;
}

function toolResultBlock(m: ChatMessage, path: string): ContentBlock {
  if (!m.tool_call_id) throw errors.badRequest(`${path}.tool_call_id is required.`, `${path}.tool_call_id`);
  const text = textsOf(m.content, path).join('');
  return { toolResult: { toolUseId: toToolUseId(m.tool_call_id), content: [toolResultContent(text)] } };
}

/**
 * A JSON object result travels as {json}; anything else as text. An empty result becomes an empty JSON object
 * because Bedrock rejects blank text and we will not invent wording for it.
 */
export function toolResultContent(text: string): ToolResultContentBlock {
  if (isBlank(text)) return { json: {} };
  if (text.trimStart().startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (isJsonObject(parsed)) return { json: parsed };
    } catch {
      // not JSON after all: send as text
    }
  }
  return { text };
}

/**
 * Bedrock tool-use ids must match ^[a-zA-Z0-9_-]{1,64}$; ids minted by other providers may not. The same rewrite
 * is applied to the call and to its result, so they still pair up.
 */
export function toToolUseId(id: string): string {
  return id.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
}

/** Claude requires tool results at the start of a user turn (a user message may follow tool messages). */
function toolResultsFirst(blocks: ContentBlock[]): ContentBlock[] {
  return [...blocks.filter((b) => b.toolResult), ...blocks.filter((b) => !b.toolResult)];
}

/** A trailing assistant turn is a prefill; Claude rejects a prefill that ends in whitespace. */
function trimFinalAssistantText(turns: Message[]): void {
  const last = turns[turns.length - 1]!;
  const tail = last.content![last.content!.length - 1];
  if (last.role === 'assistant' && tail?.text !== undefined) {
    last.content![last.content!.length - 1] = { text: tail.text.trimEnd() };
  }
}
