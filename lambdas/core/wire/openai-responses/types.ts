/**
 * OpenAI Responses API wire types as this gateway speaks them: the request after validation (./schemas.ts), the items
 * of a conversation (input and output), the response object and the stream events. Only what clients read is typed;
 * unknown request fields are accepted and ignored.
 */
import type { JsonObject, JsonValue } from '../../json.js';

// ---------------------------------------------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------------------------------------------

interface InputTextPart {
  type: 'input_text';
  text: string;
}
interface InputImagePart {
  type: 'input_image';
  image_url?: string | null;
  file_id?: string | null;
  detail?: string;
}
interface InputFilePart {
  type: 'input_file';
  file_data?: string;
  file_id?: string | null;
  file_url?: string;
  filename?: string;
}
export interface OutputTextPart {
  type: 'output_text';
  text: string;
  annotations: JsonValue[];
  logprobs?: JsonValue[];
}
interface RefusalPart {
  type: 'refusal';
  refusal: string;
}
export type ContentPart = InputTextPart | InputImagePart | InputFilePart | OutputTextPart | RefusalPart;

type MessageRole = 'user' | 'assistant' | 'system' | 'developer';

interface MessageItem {
  type: 'message';
  id?: string;
  role: MessageRole;
  content: string | ContentPart[];
  status?: ItemStatus;
}

type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

interface FunctionCallItem {
  type: 'function_call';
  id?: string;
  call_id: string;
  name: string;
  arguments: string;
  status?: ItemStatus;
}

/** A call of a free-form (`custom`) tool: `input` is the raw text the model wrote, not JSON. */
interface CustomToolCallItem {
  type: 'custom_tool_call';
  id?: string;
  call_id: string;
  name: string;
  input: string;
  status?: ItemStatus;
}

/** What a tool answered: text, or parts (text, images, files). */
export type ToolOutput = string | Array<InputTextPart | InputImagePart | InputFilePart>;

interface FunctionCallOutputItem {
  type: 'function_call_output';
  id?: string;
  call_id: string;
  output: ToolOutput;
  status?: ItemStatus;
}

interface CustomToolCallOutputItem {
  type: 'custom_tool_call_output';
  id?: string;
  call_id: string;
  output: ToolOutput;
}

interface SummaryText {
  type: 'summary_text';
  text: string;
}

/** Reasoning; `encrypted_content` is this gateway's sealed copy of the upstream's reasoning (see reasoning-seal.ts). */
interface ReasoningItem {
  type: 'reasoning';
  id?: string;
  summary: SummaryText[];
  content?: JsonValue[] | null;
  encrypted_content?: string | null;
  status?: ItemStatus;
}

/** A reference to an output item of a stored response (the Vercel AI SDK sends these when `store` is on). */
interface ItemReference {
  type: 'item_reference';
  id: string;
}

export type ConversationItem =
  MessageItem | FunctionCallItem | CustomToolCallItem | FunctionCallOutputItem | CustomToolCallOutputItem | ReasoningItem;

export type InputItem = ConversationItem | ItemReference;

/** What a response's `output` holds. */
export type OutputItem =
  | (MessageItem & { id: string; role: 'assistant'; content: OutputTextPart[]; status: ItemStatus })
  | (FunctionCallItem & { id: string; status: ItemStatus })
  | (CustomToolCallItem & { id: string; status: ItemStatus })
  | (ReasoningItem & { id: string });

// ---------------------------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------------------------

export interface FunctionTool {
  type: 'function';
  name: string;
  description?: string | null;
  parameters?: JsonObject | null;
  strict?: boolean | null;
}

/** A free-form tool: the model writes raw text (optionally of a grammar), not a JSON object. */
export interface CustomTool {
  type: 'custom';
  name: string;
  description?: string;
  format?: { type: 'text' } | { type: 'grammar'; syntax: string; definition: string };
}

/** Any other tool type (hosted, client-executed search, namespaces): this gateway cannot offer it to a model. */
interface OtherTool {
  type: string;
  name?: string;
}

export type Tool = FunctionTool | CustomTool | OtherTool;

export type ToolChoice =
  | 'auto'
  | 'none'
  | 'required'
  | { type: 'function'; name: string }
  | { type: 'custom'; name: string }
  | { type: 'allowed_tools'; mode: 'auto' | 'required'; tools: Array<{ type: string; name?: string }> }
  | { type: string; name?: string };

type ReasoningEffortParam = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';

export type TextFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema?: JsonObject; description?: string; strict?: boolean | null };

export interface ResponsesRequest {
  model: string;
  input?: string | InputItem[];
  instructions?: string | null;
  tools?: Tool[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean | null;
  max_output_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  reasoning?: { effort?: ReasoningEffortParam | null; summary?: string | null } | null;
  text?: { format?: TextFormat; verbosity?: 'low' | 'medium' | 'high' | null } | null;
  include?: string[] | null;
  store?: boolean | null;
  previous_response_id?: string | null;
  metadata?: Record<string, string> | null;
  stream?: boolean | null;
  truncation?: 'auto' | 'disabled' | null;
  user?: string | null;
}

// ---------------------------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------------------------

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

/** A tool of the request this gateway could not offer to the model (see README "Hosted tools"). */
export interface IgnoredTool {
  type: string;
  name?: string;
}

export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  /** Only a completed or failed response has one. */
  completed_at?: number | null;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: string | null; summary: string | null };
  store: boolean;
  temperature: number | null;
  text: { format: TextFormat; verbosity: 'low' | 'medium' | 'high' };
  tool_choice: ToolChoice;
  /** The tools the model was offered (function and custom tools). */
  tools: Array<FunctionTool | CustomTool>;
  top_p: number | null;
  truncation: 'disabled';
  user: string | null;
  usage: ResponseUsage | null;
  metadata: Record<string, string>;
  background: false;
  /** Gateway extension: tools of the request that were not offered to the model (hosted and search tools). */
  ignored_tools?: IgnoredTool[];
}

// ---------------------------------------------------------------------------------------------------------------
// Stream events (each also carries `sequence_number`, added by the encoder)
// ---------------------------------------------------------------------------------------------------------------

interface ItemRef {
  item_id: string;
  output_index: number;
}

export type ResponseEventBody =
  | {
      type: 'response.created' | 'response.in_progress' | 'response.completed' | 'response.incomplete' | 'response.failed';
      response: ResponseObject;
    }
  | { type: 'response.output_item.added' | 'response.output_item.done'; output_index: number; item: OutputItem }
  | ({ type: 'response.content_part.added' | 'response.content_part.done'; content_index: number; part: OutputTextPart } & ItemRef)
  | ({ type: 'response.output_text.delta'; content_index: number; delta: string; logprobs: JsonValue[] } & ItemRef)
  | ({ type: 'response.output_text.done'; content_index: number; text: string; logprobs: JsonValue[] } & ItemRef)
  | ({ type: 'response.function_call_arguments.delta'; delta: string } & ItemRef)
  | ({ type: 'response.function_call_arguments.done'; name: string; arguments: string } & ItemRef)
  | ({ type: 'response.custom_tool_call_input.delta'; delta: string } & ItemRef)
  | ({ type: 'response.custom_tool_call_input.done'; input: string } & ItemRef)
  | ({
      type: 'response.reasoning_summary_part.added' | 'response.reasoning_summary_part.done';
      summary_index: number;
      part: SummaryText;
    } & ItemRef)
  | ({ type: 'response.reasoning_summary_text.delta'; summary_index: number; delta: string } & ItemRef)
  | ({ type: 'response.reasoning_summary_text.done'; summary_index: number; text: string } & ItemRef)
  | { type: 'error'; code: string | null; message: string; param: string | null };

export type ResponseEvent = ResponseEventBody & { sequence_number: number };
