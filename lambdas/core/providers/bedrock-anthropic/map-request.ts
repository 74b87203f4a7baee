/**
 * The core request → the Anthropic Messages body it came from (or the one an Anthropic client would have sent),
 * before any Bedrock rule (bedrock-rules.ts) runs. Everything Claude verifies or caches on is reproduced exactly:
 * thinking text and signatures, redacted thinking data, cache_control marks, tool ids, inputs and results. The
 * Anthropic-only fields the decoder kept (`anthropic` slots, `extensions.anthropic.fields`) are put back as sent.
 */
import type {
  AssistantContent,
  CacheMark,
  ChatRequest,
  DocumentBlock,
  ImageBlock,
  Message,
  ReasoningRequest,
  TextBlock,
  ToolChoice,
  ToolResultContent,
  ToolSpec,
  UserContent,
} from '../../chat/request.js';
import { isTextDocumentFormat } from '../../content/media.js';
import { GatewayError } from '../../errors.js';
import type { JsonObject, JsonValue } from '../../json.js';
import { toBedrockToolUseId } from '../bedrock-ids.js';

/** Output limit when neither the request nor the model config names one (Anthropic requires max_tokens). */
const DEFAULT_MAX_TOKENS = 4096;

export function toMessagesBody(req: ChatRequest, opts: { maxTokens?: number } = {}): JsonObject {
  const body: JsonObject = {};
  if (req.system.length > 0) body.system = req.system.map(textBlock);
  body.messages = mergeSameRoleTurns(req.messages).map(message);
  body.max_tokens = req.maxTokens ?? opts.maxTokens ?? DEFAULT_MAX_TOKENS;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.topK !== undefined) body.top_k = req.topK;
  if (req.stopSequences?.length) body.stop_sequences = req.stopSequences;
  if (req.tools.length > 0) body.tools = req.tools.map(tool);
  const choice = toolChoice(req.toolChoice, req.parallelToolCalls);
  if (choice) body.tool_choice = choice;
  const thinking = thinkingField(req.reasoning);
  if (thinking) body.thinking = thinking;
  for (const [name, value] of Object.entries(req.extensions?.anthropic?.fields ?? {})) {
    if (!(name in body)) body[name] = value;
  }
  return body;
}

/**
 * Consecutive turns of one role become one (the core allows same-role neighbours; the decoder folds `system`
 * messages out of the conversation, which can leave two user turns side by side).
 */
export function mergeSameRoleTurns(messages: readonly Message[]): Message[] {
  const out: Message[] = [];
  for (const m of messages) {
    const last = out[out.length - 1];
    if (last && last.role === m.role) {
      out[out.length - 1] = { ...last, content: [...last.content, ...m.content] } as Message;
    } else out.push(m);
  }
  return out;
}

function message(m: Message): JsonObject {
  const content: JsonObject[] =
    m.role === 'user'
      ? m.content.map(userBlock)
      : m.content.flatMap((b): JsonObject[] => {
          const block = assistantBlock(b);
          return block ? [block] : [];
        });
  return { role: m.role, content };
}

function withCache(block: JsonObject, cache: CacheMark | undefined): JsonObject {
  if (cache) block.cache_control = cacheControl(cache);
  return block;
}

function cacheControl(c: CacheMark): JsonObject {
  return { type: c.type, ...(c.ttl === undefined ? {} : { ttl: c.ttl }), ...c.anthropic };
}

function textBlock(b: TextBlock): JsonObject {
  return withCache({ type: 'text', text: b.text, ...b.anthropic }, b.cache);
}

function userBlock(b: UserContent): JsonObject {
  switch (b.type) {
    case 'text':
      return textBlock(b);
    case 'image':
      return withCache(imageBlock(b.source), b.cache);
    case 'document':
      return withCache(documentBlock(b), b.cache);
    case 'tool_result': {
      const block: JsonObject = { type: 'tool_result', tool_use_id: toBedrockToolUseId(b.toolUseId) };
      if (b.content.length > 0) block.content = b.content.map(toolResultContent);
      if (b.isError) block.is_error = true;
      return withCache(block, b.cache);
    }
  }
}

function assistantBlock(b: AssistantContent): JsonObject | undefined {
  switch (b.type) {
    case 'text':
      return textBlock(b);
    case 'tool_use':
      return withCache({ type: 'tool_use', id: toBedrockToolUseId(b.id), name: b.name, input: b.input }, b.cache);
    case 'reasoning':
      // Claude verifies the signature: unsigned reasoning (from another model) cannot be replayed.
      return b.signature ? { type: 'thinking', thinking: b.text, signature: b.signature } : undefined;
    case 'redacted_reasoning':
      return { type: 'redacted_thinking', data: b.data };
  }
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

function imageBlock(source: ImageBlock['source']): JsonObject {
  // The pipeline resolves URLs to bytes before a provider runs; a URL here is passed on as Claude reads it.
  if (source.type === 'url') return { type: 'image', source: { type: 'url', url: source.url } };
  return { type: 'image', source: { type: 'base64', media_type: source.mediaType, data: base64(source.data) } };
}

function documentBlock(b: DocumentBlock): JsonObject {
  let source: JsonObject;
  if (b.format === 'pdf') source = { type: 'base64', media_type: 'application/pdf', data: base64(b.data) };
  else if (isTextDocumentFormat(b.format)) source = { type: 'text', media_type: 'text/plain', data: Buffer.from(b.data).toString('utf8') };
  else {
    throw new GatewayError(400, `Claude reads PDF and plain-text documents; '${b.format}' (document '${b.name}') is not one.`, {
      kind: 'invalid_request',
      code: 'unsupported_document',
      param: 'messages',
    });
  }
  return { type: 'document', source, ...b.anthropic };
}

function toolResultContent(c: ToolResultContent): JsonObject {
  const block = c.type === 'text' ? { type: 'text', text: c.text } : imageBlock({ type: 'bytes', mediaType: c.mediaType, data: c.data });
  return withCache(block, c.cache);
}

function tool(t: ToolSpec): JsonObject {
  const extra: JsonObject = { ...t.anthropic };
  const type = extra.type;
  let out: JsonObject;
  if (typeof type === 'string' && type !== 'custom') {
    // A server or Anthropic-defined tool (web search, bash, text editor, …): its own fields, no input schema.
    out = { ...extra, name: t.name };
  } else {
    out = { name: t.name };
    if (t.description !== undefined) out.description = t.description;
    out.input_schema = t.inputSchema;
    Object.assign(out, extra);
  }
  return withCache(out, t.cache);
}

function toolChoice(choice: ToolChoice | undefined, parallel: boolean | undefined): JsonObject | undefined {
  const disable: JsonObject = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (!choice) return parallel === false ? { type: 'auto', ...disable } : undefined;
  if (choice.type === 'none') return { type: 'none' };
  if (choice.type === 'tool') return { type: 'tool', name: choice.name, ...disable };
  return { type: choice.type, ...disable };
}

function thinkingField(r: ReasoningRequest | undefined): JsonObject | undefined {
  if (!r) return undefined;
  if (r.mode === 'off') return { type: 'disabled' };
  const extra: JsonObject = { ...r.anthropic };
  if (r.adaptive) return { type: 'adaptive', ...extra };
  if (r.budgetTokens !== undefined) return { type: 'enabled', budget_tokens: r.budgetTokens, ...extra };
  return undefined;
}

/** A JSON value as a JSON object, when it is one. */
export const asObject = (v: JsonValue | undefined): JsonObject | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined;
