/**
 * OpenAI chat completions wire types as this gateway speaks them (the subset strict SDKs read).
 * Requests are validated with zod in ./schemas.ts; these are the shapes after validation.
 */

type Role = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

interface TextPart {
  type: 'text';
  text: string;
}
interface ImageUrlPart {
  type: 'image_url';
  image_url: { url: string; detail?: string };
}
/** The seed API's document part: bytes as an index→byte map (or an array / base64 string, which we also accept). */
export interface DocPart {
  type: 'doc';
  doc: { name?: string; format?: string; size?: number; source: { bytes: Record<string, number> | number[] | string } };
}
/** OpenAI's file part: file_data is a data: URL or bare base64. */
export interface FilePart {
  type: 'file';
  file: { file_data?: string; filename?: string; file_id?: string };
}
/** An assistant turn's refusal (OpenAI's assistant content may hold one): its text is the turn's text. */
interface RefusalPart {
  type: 'refusal';
  refusal: string;
}
export type ContentPart = TextPart | ImageUrlPart | DocPart | FilePart | RefusalPart;

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: Role;
  content?: string | ContentPart[] | null;
  name?: string;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  /** Reasoning the gateway returned earlier; sent back so Claude accepts multi-turn tool use with thinking. */
  reasoning_content?: string | null;
  /** Signature of that reasoning (returned by this gateway as `reasoning_signature`). */
  reasoning_signature?: string | null;
}

export interface ToolDef {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

export type ToolChoice =
  | 'auto'
  | 'none'
  | 'required'
  | { type: 'function'; function: { name: string } }
  /** Only these of `tools` may be called; `required`: one of them must be. */
  | { type: 'allowed_tools'; allowed_tools: { mode: 'auto' | 'required'; tools: Array<{ type: 'function'; function: { name: string } }> } };

export interface ResponseFormat {
  type: 'text' | 'json_object' | 'json_schema';
  json_schema?: { name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean };
}

export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  temperature?: number | null;
  top_p?: number | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  stop?: string | string[] | null;
  tools?: ToolDef[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  reasoning_effort?: 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | null;
  /** Claude-style thinking switch accepted by the seed API. */
  thinking?: { type: 'enabled' | 'disabled'; budget_tokens?: number } | null;
  response_format?: ResponseFormat;
  user?: string;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number; cache_write_tokens?: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: {
      role: 'assistant';
      content: string | null;
      refusal: null;
      tool_calls?: ToolCall[];
      reasoning_content?: string;
      reasoning_signature?: string;
    };
    finish_reason: FinishReason;
    logprobs: null;
  }>;
  usage: Usage;
}

interface ChunkToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: {
      role?: 'assistant';
      content?: string;
      reasoning_content?: string;
      reasoning_signature?: string;
      tool_calls?: ChunkToolCallDelta[];
    };
    finish_reason: FinishReason | null;
    logprobs: null;
  }>;
  usage?: Usage | null;
}
