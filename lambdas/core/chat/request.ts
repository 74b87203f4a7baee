/**
 * The core chat request: what every wire API (OpenAI chat completions, Anthropic messages, OpenAI responses, the
 * Feishu bot) decodes into and every chat provider (Bedrock Converse, Claude on InvokeModel, OpenAI-compatible
 * servers) encodes from. It names no wire format: a provider never knows which API called it.
 *
 * Content is already validated and decoded (images and documents as bytes of a checked type); image URLs are
 * resolved through the SSRF guard by the pipeline (chat/attachments.ts) before a provider sees the request.
 */
import type { DocumentFormat, ImageMediaType } from '../content/media.js';
import type { JsonObject } from '../json.js';

export interface ChatRequest {
  system: TextBlock[];
  /** In order; same-role neighbours are allowed (providers merge them where the upstream needs alternation). */
  messages: Message[];
  tools: ToolSpec[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  /** The output limit the client asked for (undefined: the model config's, else the upstream default). */
  maxTokens?: number;
  /** As the client sent it (OpenAI allows 0..2); providers map it to their range. */
  temperature?: number;
  topP?: number;
  topK?: number;
  stopSequences?: string[];
  reasoning?: ReasoningRequest;
  responseFormat?: ResponseFormat;
  /**
   * `maxTokens` is a ceiling the client's protocol made it send (Anthropic's max_tokens is required), not a wish:
   * a provider may lower it to the model's configured maximum instead of letting the upstream refuse it.
   */
  maxTokensIsCeiling?: boolean;
  /**
   * `maxTokens` bounds reasoning and answer together (OpenAI's max_output_tokens and max_completion_tokens): a
   * provider fits its thinking budget inside it instead of adding the budget on top.
   */
  maxTokensIncludesReasoning?: boolean;
  /** Whether the client reads the answer as a stream (a provider may use a non-streaming upstream call otherwise). */
  stream: boolean;
  /** What only one provider family understands, carried unchanged for it (others ignore it). */
  extensions?: { anthropic?: AnthropicExtensions };
}

/** Fields of the Anthropic Messages body that have no neutral meaning (context_management, output_config, ...). */
interface AnthropicExtensions {
  /** The request's `anthropic-beta` values (filtered by the provider to what Bedrock accepts). */
  betas: string[];
  /** Top-level body fields passed through to InvokeModel as they came. */
  fields: JsonObject;
}

export interface CacheMark {
  /** Anthropic's cache_control as sent ({type:"ephemeral", ttl?}); Converse turns any mark into a cache point. */
  type: 'ephemeral';
  ttl?: string;
  /** Other cache_control fields as sent (Anthropic's `scope`, ...), for Claude; the Claude provider drops what Bedrock rejects. */
  anthropic?: JsonObject;
}

export interface TextBlock {
  type: 'text';
  text: string;
  cache?: CacheMark;
  /** Anthropic block fields with no neutral meaning (citations, ...), passed through to Claude unchanged. */
  anthropic?: JsonObject;
}

export interface ImageBlock {
  type: 'image';
  /** A URL is replaced by its fetched bytes before a provider sees the request. */
  source: { type: 'bytes'; mediaType: ImageMediaType; data: Uint8Array } | { type: 'url'; url: string };
  cache?: CacheMark;
  /** Where the part was in the client's request (e.g. `messages[0].content[1]`), for the errors of a URL fetch. */
  path?: string;
}

export interface DocumentBlock {
  type: 'document';
  format: DocumentFormat;
  /** Safe for Bedrock: letters, digits, single spaces, hyphens, parentheses and brackets; unique in the request. */
  name: string;
  data: Uint8Array;
  cache?: CacheMark;
  /** Anthropic document fields (title, context, citations) passed through to Claude. */
  anthropic?: JsonObject;
}

interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: JsonObject;
  cache?: CacheMark;
}

export type ToolResultContent =
  /** `cache`: a mark on the block inside the result (Anthropic clients); Converse joins result texts and drops it. */
  { type: 'text'; text: string; cache?: CacheMark } | { type: 'image'; mediaType: ImageMediaType; data: Uint8Array; cache?: CacheMark };

interface ToolResultBlock {
  type: 'tool_result';
  toolUseId: string;
  content: ToolResultContent[];
  isError?: boolean;
  cache?: CacheMark;
}

/** Reasoning the model produced earlier, sent back; only signed reasoning can be replayed to Claude. */
export interface ReasoningBlock {
  type: 'reasoning';
  text: string;
  signature?: string;
}

export interface RedactedReasoningBlock {
  type: 'redacted_reasoning';
  /** Opaque, base64 as the upstream produced it. */
  data: string;
}

export type UserContent = TextBlock | ImageBlock | DocumentBlock | ToolResultBlock;
export type AssistantContent = TextBlock | ToolUseBlock | ReasoningBlock | RedactedReasoningBlock;
export type ContentBlock = UserContent | AssistantContent;

export type Message =
  | { role: 'user'; content: UserContent[]; /** Where the message came from, for error messages. */ path?: string }
  | { role: 'assistant'; content: AssistantContent[]; path?: string };

export interface ToolSpec {
  name: string;
  description?: string;
  /** JSON schema of the input object. */
  inputSchema: JsonObject;
  cache?: CacheMark;
  /**
   * Anthropic tool fields as the client sent them (`type` of a server tool, `strict`, `defer_loading`, ...), for
   * Claude; the Claude provider drops what Bedrock rejects, other providers ignore them.
   */
  anthropic?: JsonObject;
}

export type ToolChoice = { type: 'auto' } | { type: 'none' } | { type: 'any' } | { type: 'tool'; name: string };

export type ReasoningEffort = 'minimal' | 'low' | 'medium' | 'high';

export type ReasoningRequest =
  | { mode: 'off' }
  /** On; with a budget, or an effort the provider turns into one, or neither (the model config's default). */
  | {
      mode: 'on';
      budgetTokens?: number;
      effort?: ReasoningEffort;
      adaptive?: boolean;
      /** Claude's thinking fields with no neutral meaning (`display`), for Claude; dropped where Bedrock rejects them. */
      anthropic?: JsonObject;
    };

/**
 * OpenAI's reasoning efforts (Chat Completions' `reasoning_effort`, Responses' `reasoning.effort`) as the core's
 * reasoning request: `none` turns it off, `xhigh` is the largest budget, anything else absent is "not asked".
 */
export function reasoningFromEffort(effort: string | null | undefined): ReasoningRequest | undefined {
  switch (effort) {
    case 'none':
      return { mode: 'off' };
    case 'minimal':
    case 'low':
    case 'medium':
    case 'high':
      return { mode: 'on', effort };
    case 'xhigh':
      return { mode: 'on', effort: 'high' };
    default:
      return undefined;
  }
}

export type ResponseFormat =
  { type: 'json_object' } | { type: 'json_schema'; name: string; description?: string; schema?: JsonObject; strict?: boolean };
