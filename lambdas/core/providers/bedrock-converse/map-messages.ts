import type { ContentBlock, Message, SystemContentBlock, ToolResultContentBlock } from '@aws-sdk/client-bedrock-runtime';
import type { ChatRequest, ContentBlock as CoreBlock, ToolResultContent } from '../../chat/request.js';
import { isJsonObject } from '../../json.js';
import { toBedrockToolUseId } from '../bedrock-ids.js';

export interface MappedConversation {
  system: SystemContentBlock[];
  /** Strictly alternating, starting with a user turn. */
  messages: Message[];
  /** Names of the tools called in the history, in order of first use. */
  historyToolNames: string[];
  /** Whether any toolUse/toolResult block was sent (Bedrock then requires a toolConfig). */
  hasToolBlocks: boolean;
}

const CACHE_POINT = { cachePoint: { type: 'default' } } as const;

/**
 * The core conversation → Converse system blocks and user/assistant turns. Same-role neighbours are merged (tool
 * results are user content in Converse), tool results lead their user turn, and a trailing assistant prefill loses
 * its final whitespace (Claude refuses it). A block the client marked for caching is followed by a cache point
 * (unless `cachePoints` is false: a model that may refuse them).
 * Earlier reasoning is sent back only when this request thinks (`includeReasoning`) and only when signed.
 */
export function mapMessages(
  req: Pick<ChatRequest, 'system' | 'messages'>,
  opts: { includeReasoning: boolean; /** Client cache marks become cache points (default true). */ cachePoints?: boolean },
): MappedConversation {
  const cachePoints = opts.cachePoints ?? true;
  const system: SystemContentBlock[] = [];
  for (const b of req.system) {
    system.push({ text: b.text });
    if (b.cache && cachePoints) system.push(CACHE_POINT);
  }
  const turns: Message[] = [];
  const toolNames = new Set<string>();
  for (const m of req.messages) {
    const blocks: ContentBlock[] = [];
    for (const b of m.content) {
      const mapped = mapBlock(b, opts.includeReasoning, toolNames);
      if (!mapped) continue;
      blocks.push(mapped);
      if ('cache' in b && b.cache && cachePoints) blocks.push(CACHE_POINT);
    }
    if (blocks.length === 0) continue;
    const last = turns[turns.length - 1];
    if (last?.role === m.role) last.content!.push(...blocks);
    else turns.push({ role: m.role, content: blocks });
  }
  const ordered = turns.map((t) => (t.role === 'user' ? { ...t, content: toolResultsFirst(t.content!) } : t));
  trimFinalAssistantText(ordered);
  return {
    system,
    messages: ordered,
    historyToolNames: [...toolNames],
    hasToolBlocks: ordered.some((t) => t.content!.some((b) => b.toolUse || b.toolResult)),
  };
}

function mapBlock(b: CoreBlock, includeReasoning: boolean, toolNames: Set<string>): ContentBlock | undefined {
  switch (b.type) {
    case 'text':
      return { text: b.text };
    case 'image':
      // The pipeline resolved every URL before the provider runs; an unresolved one is a bug, not a client error.
      if (b.source.type !== 'bytes') throw new Error('image URL reached the Converse provider unresolved');
      return { image: { format: imageFormat(b.source.mediaType), source: { bytes: b.source.data } } };
    case 'document':
      return { document: { format: b.format, name: b.name, source: { bytes: b.data } } };
    case 'tool_use':
      toolNames.add(b.name);
      return { toolUse: { toolUseId: toBedrockToolUseId(b.id), name: b.name, input: b.input } };
    case 'tool_result':
      return {
        toolResult: {
          toolUseId: toBedrockToolUseId(b.toolUseId),
          content: toolResultContent(b.content),
          ...(b.isError ? { status: 'error' as const } : {}),
        },
      };
    case 'reasoning':
      // Claude verifies the signature, so unsigned reasoning cannot be replayed.
      return includeReasoning && b.signature
        ? { reasoningContent: { reasoningText: { text: b.text, signature: b.signature } } }
        : undefined;
    case 'redacted_reasoning':
      return includeReasoning ? { reasoningContent: { redactedContent: Buffer.from(b.data, 'base64') } } : undefined;
  }
}

const imageFormat = (mediaType: string) => mediaType.slice('image/'.length) as 'png' | 'jpeg' | 'gif' | 'webp';

/**
 * A JSON object result travels as {json}; anything else as text. An empty result becomes an empty JSON object
 * because Bedrock rejects blank text and we will not invent wording for it.
 */
export function toolResultContent(content: ToolResultContent[]): ToolResultContentBlock[] {
  const out: ToolResultContentBlock[] = [];
  const text = content.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('');
  if (text.trim() !== '') out.push(textOrJson(text));
  for (const c of content) if (c.type === 'image') out.push({ image: { format: imageFormat(c.mediaType), source: { bytes: c.data } } });
  return out.length > 0 ? out : [{ json: {} }];
}

function textOrJson(text: string): ToolResultContentBlock {
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

/** Claude requires tool results at the start of a user turn (a user message may follow tool messages). */
function toolResultsFirst(blocks: ContentBlock[]): ContentBlock[] {
  const isResult = (b: ContentBlock, i: number) =>
    b.toolResult !== undefined || (b.cachePoint !== undefined && blocks[i - 1]?.toolResult !== undefined);
  return [...blocks.filter(isResult), ...blocks.filter((b, i) => !isResult(b, i))];
}

/** A trailing assistant turn is a prefill; Claude rejects a prefill that ends in whitespace. */
function trimFinalAssistantText(turns: Message[]): void {
  const last = turns[turns.length - 1];
  if (!last) return;
  const tail = last.content![last.content!.length - 1];
  if (last.role === 'assistant' && tail?.text !== undefined) last.content![last.content!.length - 1] = { text: tail.text.trimEnd() };
}
