/**
 * Anthropic Messages request → the core request. Everything Anthropic-specific is decided here: `system` as a
 * string or text blocks (and `system` messages inside messages[], folded into it), content blocks (text, image,
 * document, tool_use, tool_result, thinking, redacted_thinking), tools (custom and server tools), tool_choice with
 * disable_parallel_tool_use, thinking (enabled / adaptive / disabled), cache_control marks, and the body fields
 * with no neutral meaning (metadata, output_config, context_management, …), which travel in
 * `extensions.anthropic` for Claude. Nothing a client sent for Claude is lost on the way: fields the core does not
 * model ride in the `anthropic` slots of blocks, tools, cache marks and thinking.
 */
import { checkAttachmentCounts, countAttachments } from '../../chat/attachments.js';
import type {
  AssistantContent,
  CacheMark,
  ChatRequest,
  DocumentBlock,
  ImageBlock,
  Message,
  ReasoningEffort,
  ReasoningRequest,
  TextBlock,
  ToolChoice,
  ToolResultContent,
  ToolSpec,
  UserContent,
} from '../../chat/request.js';
import { decodeBase64 } from '../../content/data-url.js';
import { DocumentNames } from '../../content/documents.js';
import { checkDocumentBytes, checkImageBytes } from '../../content/media.js';
import { errors } from '../../errors.js';
import { isJsonObject, type JsonObject } from '../../json.js';
import type { ContentBlockParam, CountTokensRequest, MessageParam, MessagesRequest, ToolParam } from './schemas.js';

/** Body fields the core models itself; every other top-level field is kept for Claude in extensions.anthropic.fields. */
const MODELLED_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'messages',
  'system',
  'max_tokens',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'stop_sequences',
  'tools',
  'tool_choice',
  'thinking',
]);

/** The `anthropic-beta` header's values (comma-separated, possibly repeated). */
export function betasOf(headers: Record<string, string | undefined>): string[] {
  return (headers['anthropic-beta'] ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
}

export function decodeMessagesRequest(req: MessagesRequest, betas: string[]): ChatRequest {
  const out = decodeCommon(req, betas, req.stream === true);
  out.maxTokens = req.max_tokens;
  // Anthropic makes max_tokens mandatory, so clients send a ceiling (Claude Code: 32000 for any model).
  out.maxTokensIsCeiling = true;
  if (req.temperature != null) out.temperature = req.temperature;
  if (req.top_p != null) out.topP = req.top_p;
  if (req.top_k != null) out.topK = req.top_k;
  const stops = (req.stop_sequences ?? []).filter((s) => s !== '');
  if (stops.length > 0) out.stopSequences = stops;
  // Anthropic's structured outputs (`output_format: {type: "json_schema", schema}`): Claude reads the field as sent
  // (extensions.anthropic.fields); for every other model it is the core's JSON-schema response format.
  const format: unknown = (req as Record<string, unknown>).output_format;
  if (isJsonObject(format) && format.type === 'json_schema' && isJsonObject(format.schema)) {
    out.responseFormat = { type: 'json_schema', name: 'output', schema: format.schema, strict: true };
  }
  return out;
}

/** count_tokens: the same prompt, no output settings, never streamed. */
export function decodeCountTokensRequest(req: CountTokensRequest, betas: string[]): ChatRequest {
  return decodeCommon(req, betas, false);
}

function decodeCommon(req: CountTokensRequest, betas: string[], stream: boolean): ChatRequest {
  const { system, messages } = foldSystemMessages(req.system, req.messages);
  const names = new DocumentNames();
  const turns: Message[] = [];
  messages.forEach(({ message, index }) => {
    const path = `messages[${index}]`;
    const decoded = message.role === 'user' ? userMessage(message, path, names) : assistantMessage(message, path);
    if (decoded.content.length > 0) turns.push(decoded);
  });
  if (turns.length === 0) throw errors.badRequest('messages must contain at least one non-empty user or assistant message.', 'messages');
  checkAttachmentCounts(countAttachments({ messages: turns }), { images: 'image blocks', documents: 'document blocks' });

  const tools = (req.tools ?? []).map(toolSpec);
  const out: ChatRequest = { system, messages: turns, tools, stream };
  const choice = req.tool_choice;
  if (choice) {
    const decoded = toolChoice(choice);
    // As Anthropic answers it: forcing a tool needs tools, and a named one must be among them (Converse models
    // would otherwise drop the choice and answer in text).
    if ((decoded?.type === 'any' || decoded?.type === 'tool') && tools.length === 0) {
      throw errors.badRequest(`tool_choice.type "${choice.type}" requires tools.`, 'tool_choice');
    }
    if (decoded?.type === 'tool' && !(req.tools ?? []).some((t) => t?.name === decoded.name)) {
      throw errors.badRequest(`tool_choice names '${decoded.name}', which is not in tools.`, 'tool_choice.name');
    }
    if (decoded) out.toolChoice = decoded;
    if (choice.disable_parallel_tool_use === true) out.parallelToolCalls = false;
  }
  const reasoning = decodeThinking(req);
  if (reasoning) out.reasoning = reasoning;
  const fields: JsonObject = {};
  for (const [name, value] of Object.entries(req)) {
    if (!MODELLED_FIELDS.has(name) && value !== undefined) fields[name] = value as JsonObject[string];
  }
  out.extensions = { anthropic: { betas, fields } };
  return out;
}

/**
 * `system` messages inside messages[] (Claude Code sends them for model names it does not know; Bedrock and
 * Converse refuse the role) become system text, after the request's own `system`, in order.
 */
export function foldSystemMessages(
  system: MessagesRequest['system'],
  messages: MessageParam[],
): { system: TextBlock[]; messages: Array<{ message: MessageParam & { role: 'user' | 'assistant' }; index: number }> } {
  const blocks: TextBlock[] = [];
  const add = (content: MessageParam['content'] | undefined, path: string) => {
    content?.forEach((b, j) => {
      if (b.type !== 'text') throw errors.badRequest(`${path}[${j}]: system content must be text blocks.`, `${path}[${j}]`);
      const t = textBlock(b);
      if (t) blocks.push(t);
    });
  };
  add(system, 'system');
  const rest: Array<{ message: MessageParam & { role: 'user' | 'assistant' }; index: number }> = [];
  messages.forEach((m, index) => {
    if (m.role === 'system') add(m.content, `messages[${index}].content`);
    else rest.push({ message: m as MessageParam & { role: 'user' | 'assistant' }, index });
  });
  return { system: blocks, messages: rest };
}

/**
 * A message's blocks, in order: text blocks alike for both roles (blank text left out), every other block by
 * `decode` (the role's own kinds; it throws for a block of the other role).
 */
function messageContent<C>(
  m: MessageParam,
  path: string,
  decode: (b: Exclude<ContentBlockParam, { type: 'text' }>, at: string) => C,
): Array<C | TextBlock> {
  const content: Array<C | TextBlock> = [];
  m.content.forEach((b, j) => {
    if (b.type !== 'text') content.push(decode(b, `${path}.content[${j}]`));
    else {
      const t = textBlock(b);
      if (t) content.push(t);
    }
  });
  return content;
}

function userMessage(m: MessageParam, path: string, names: DocumentNames): Message {
  const content = messageContent(m, path, (b, at): UserContent => {
    switch (b.type) {
      case 'image':
        return imageBlock(b, at);
      case 'document':
        return documentBlock(b, at, names);
      case 'tool_result':
        return {
          type: 'tool_result',
          toolUseId: b.tool_use_id,
          content: toolResultContent(b.content, at),
          ...(b.is_error ? { isError: true } : {}),
          ...cacheOf(b.cache_control),
        };
      default:
        throw errors.badRequest(`${at}: a ${b.type} block belongs in an assistant message.`, at);
    }
  });
  return { role: 'user', content, path };
}

function assistantMessage(m: MessageParam, path: string): Message {
  const content = messageContent(m, path, (b, at): AssistantContent => {
    switch (b.type) {
      case 'tool_use':
        return { type: 'tool_use', id: b.id, name: b.name, input: b.input as JsonObject, ...cacheOf(b.cache_control) };
      case 'thinking':
        // Kept exactly (Claude verifies the signature); an empty signature is none.
        return { type: 'reasoning', text: b.thinking, ...(b.signature ? { signature: b.signature } : {}) };
      case 'redacted_thinking':
        return { type: 'redacted_reasoning', data: b.data };
      default:
        throw errors.badRequest(`${at}: a ${b.type} block belongs in a user message.`, at);
    }
  });
  return { role: 'assistant', content, path };
}

/** The block's own fields except those the core models: they go back to Claude as they came. */
function rest(block: Record<string, unknown>, modelled: readonly string[]): JsonObject | undefined {
  const extra: JsonObject = {};
  for (const [k, v] of Object.entries(block)) if (!modelled.includes(k) && v !== undefined) extra[k] = v as JsonObject[string];
  return Object.keys(extra).length > 0 ? extra : undefined;
}

function cacheOf(c: { type: 'ephemeral'; ttl?: string } | null | undefined): { cache?: CacheMark } {
  if (!c) return {};
  const extra = rest(c, ['type', 'ttl']);
  return { cache: { type: 'ephemeral', ...(c.ttl === undefined ? {} : { ttl: c.ttl }), ...(extra ? { anthropic: extra } : {}) } };
}

/** A text block; blank text (which Anthropic and Bedrock both refuse) is left out. */
function textBlock(b: Extract<ContentBlockParam, { type: 'text' }>): TextBlock | undefined {
  if (b.text.trim() === '') return undefined;
  const extra = rest(b, ['type', 'text', 'cache_control']);
  return { type: 'text', text: b.text, ...cacheOf(b.cache_control), ...(extra ? { anthropic: extra } : {}) };
}

function imageBlock(b: Extract<ContentBlockParam, { type: 'image' }>, path: string): ImageBlock {
  const cache = cacheOf(b.cache_control);
  if (b.source.type === 'url') {
    if (!/^https?:\/\//i.test(b.source.url)) throw errors.badRequest(`${path}.source.url must be an http(s) URL.`, path);
    return { type: 'image', source: { type: 'url', url: b.source.url }, ...cache };
  }
  const bytes = decodeBase64(b.source.data);
  if (!bytes || bytes.length === 0) throw errors.badRequest(`${path}.source.data is not valid base64 image data.`, path);
  return {
    type: 'image',
    source: { type: 'bytes', mediaType: checkImageBytes(bytes, b.source.media_type ?? '', path), data: bytes },
    ...cache,
  };
}

function documentBlock(b: Extract<ContentBlockParam, { type: 'document' }>, path: string, names: DocumentNames): DocumentBlock {
  const source = b.source;
  const extra = rest(b, ['type', 'source', 'cache_control']);
  const base = { name: names.claim(b.title ?? undefined), ...cacheOf(b.cache_control), ...(extra ? { anthropic: extra } : {}) };
  if (source.type === 'base64' && (source.media_type ?? 'application/pdf') === 'application/pdf') {
    const bytes = decodeBase64(source.data ?? '');
    if (!bytes || bytes.length === 0) throw errors.badRequest(`${path}.source.data is not valid base64 PDF data.`, path);
    checkDocumentBytes('pdf', bytes, path);
    return { type: 'document', format: 'pdf', data: bytes, ...base };
  }
  if (source.type === 'text' && typeof source.data === 'string') {
    const bytes = new TextEncoder().encode(source.data);
    checkDocumentBytes('txt', bytes, path);
    return { type: 'document', format: 'txt', data: bytes, ...base };
  }
  if (source.type === 'content') {
    // A custom content document: its text blocks, in order, make one plain-text document (citations then point
    // into that text rather than at block indexes). Images in it are not taken.
    const content = (source as { content?: unknown }).content;
    const parts: unknown[] | undefined =
      typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? content : undefined;
    const isText = (p: unknown): p is { type: 'text'; text: string } =>
      typeof p === 'object' &&
      p !== null &&
      (p as { type?: unknown }).type === 'text' &&
      typeof (p as { text?: unknown }).text === 'string';
    if (!parts || parts.length === 0 || !parts.every(isText)) {
      throw errors.badRequest(`${path}.source.content: a content document is a string or a list of text blocks here.`, path);
    }
    const bytes = new TextEncoder().encode(parts.map((p) => p.text).join('\n\n'));
    checkDocumentBytes('txt', bytes, path);
    return { type: 'document', format: 'txt', data: bytes, ...base };
  }
  throw errors.badRequest(
    `${path}: document sources are base64 PDF, plain text or text content here (not '${source.type}'${source.media_type ? ` ${source.media_type}` : ''}).`,
    path,
  );
}

function toolResultContent(content: Extract<ContentBlockParam, { type: 'tool_result' }>['content'], path: string): ToolResultContent[] {
  if (content === undefined) return [];
  return content.flatMap((c, k): ToolResultContent[] => {
    if (c.type === 'text') return c.text === '' ? [] : [{ type: 'text', text: c.text, ...cacheOf(c.cache_control) }];
    const image = imageBlock(c, `${path}.content[${k}]`);
    if (image.source.type !== 'bytes') throw errors.badRequest(`${path}.content[${k}]: tool_result images must be base64.`, path);
    return [{ type: 'image', mediaType: image.source.mediaType, data: image.source.data, ...cacheOf(c.cache_control) }];
  });
}

const PERMISSIVE_SCHEMA: JsonObject = { type: 'object' };

function toolSpec(t: ToolParam, i: number): ToolSpec {
  const at = `tools[${i}]`;
  const cache = cacheOf(t.cache_control);
  if (t.type && t.type !== 'custom') {
    // A server or Anthropic-defined tool (web search, bash, text editor, …): Claude knows its schema.
    return { name: t.name, inputSchema: PERMISSIVE_SCHEMA, ...cache, anthropic: rest(t, ['name', 'cache_control']) };
  }
  if (!t.input_schema) throw errors.badRequest(`${at}.input_schema is required.`, `${at}.input_schema`);
  if (!/^[a-zA-Z0-9_-]{1,128}$/.test(t.name)) {
    throw errors.badRequest(`${at}.name must match ^[a-zA-Z0-9_-]{1,128}$.`, `${at}.name`);
  }
  const extra = rest(t, ['name', 'description', 'input_schema', 'cache_control']);
  return {
    name: t.name,
    ...(t.description === undefined ? {} : { description: t.description }),
    inputSchema: t.input_schema as JsonObject,
    ...cache,
    ...(extra ? { anthropic: extra } : {}),
  };
}

function toolChoice(c: NonNullable<MessagesRequest['tool_choice']>): ToolChoice | undefined {
  switch (c.type) {
    case 'tool':
      if (!c.name) throw errors.badRequest('tool_choice.name is required when tool_choice.type is "tool".', 'tool_choice.name');
      return { type: 'tool', name: c.name };
    case 'any':
      return { type: 'any' };
    case 'none':
      return { type: 'none' };
    case 'auto':
      return { type: 'auto' };
  }
}

const EFFORTS: Readonly<Record<string, ReasoningEffort>> = { low: 'low', medium: 'medium', high: 'high', xhigh: 'high', max: 'high' };

function decodeThinking(req: CountTokensRequest): ReasoningRequest | undefined {
  const t = req.thinking;
  if (!t) return undefined;
  if (t.type === 'disabled') return { mode: 'off' };
  const outputConfig = (req as Record<string, unknown>).output_config;
  const effort = isJsonObject(outputConfig) && typeof outputConfig.effort === 'string' ? EFFORTS[outputConfig.effort] : undefined;
  if (t.type === 'adaptive') {
    const extra = rest(t, ['type']);
    return { mode: 'on', adaptive: true, ...(effort ? { effort } : {}), ...(extra ? { anthropic: extra } : {}) };
  }
  const extra = rest(t, ['type', 'budget_tokens']);
  return { mode: 'on', budgetTokens: t.budget_tokens, ...(extra ? { anthropic: extra } : {}) };
}
