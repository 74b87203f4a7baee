import type { ChatRequest, ContentBlock, ToolChoice } from '../../chat/request.js';
import type { JsonObject } from '../../json.js';
import type { OpenAICompatibleConfig } from './config.js';

/** The OpenAI chat completions body this provider sends (the fields an OpenAI-compatible server reads). */
export interface UpstreamChatBody {
  model: string;
  messages: UpstreamMessage[];
  stream: boolean;
  stream_options?: { include_usage: boolean };
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string[];
  tools?: Array<{ type: 'function'; function: { name: string; description?: string; parameters: JsonObject } }>;
  tool_choice?: 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };
  parallel_tool_calls?: boolean;
  response_format?:
    | { type: 'json_object' }
    | { type: 'json_schema'; json_schema: { name: string; description?: string; schema?: JsonObject; strict?: boolean } };
}

type Part =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string } }
  | { type: 'file'; file: { filename: string; file_data: string } };

type UpstreamMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: Part[] }
  | {
      role: 'assistant';
      content: string | null;
      tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
    }
  | { role: 'tool'; tool_call_id: string; content: string };

const dataUrl = (mediaType: string, data: Uint8Array) => `data:${mediaType};base64,${Buffer.from(data).toString('base64')}`;
const DOC_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  csv: 'text/csv',
  html: 'text/html',
  txt: 'text/plain',
  md: 'text/markdown',
};

/** One core request → one OpenAI chat completions body. Pure. Earlier reasoning is not sent (OpenAI has no slot for it). */
export function buildUpstreamBody(req: ChatRequest, config: OpenAICompatibleConfig): UpstreamChatBody {
  const messages: UpstreamMessage[] = [];
  const system = req.system.map((b) => b.text).join('\n\n');
  if (system) messages.push({ role: 'system', content: system });
  for (const m of req.messages) {
    if (m.role === 'user') {
      const parts: Part[] = [];
      for (const b of m.content) {
        if (b.type === 'tool_result') {
          messages.push({
            role: 'tool',
            tool_call_id: b.toolUseId,
            content: b.content.map((c) => (c.type === 'text' ? c.text : '[image]')).join(''),
          });
        } else {
          const part = userPart(b);
          if (part) parts.push(part);
        }
      }
      if (parts.length) messages.push({ role: 'user', content: parts });
    } else {
      const text = m.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
      const calls = m.content.flatMap((b) =>
        b.type === 'tool_use'
          ? [{ id: b.id, type: 'function' as const, function: { name: b.name, arguments: JSON.stringify(b.input) } }]
          : [],
      );
      if (text || calls.length) messages.push({ role: 'assistant', content: text || null, ...(calls.length ? { tool_calls: calls } : {}) });
    }
  }
  const body: UpstreamChatBody = { model: config.modelId, messages, stream: req.stream };
  if (req.stream) body.stream_options = { include_usage: true };
  const maxTokens = req.maxTokens ?? config.maxTokens;
  if (maxTokens !== undefined) body.max_tokens = maxTokens;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.stopSequences?.length) body.stop = req.stopSequences;
  if (req.tools.length) {
    body.tools = req.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.inputSchema },
    }));
    if (req.toolChoice) body.tool_choice = toolChoice(req.toolChoice);
    if (req.parallelToolCalls !== undefined) body.parallel_tool_calls = req.parallelToolCalls;
  }
  if (req.responseFormat?.type === 'json_object') body.response_format = { type: 'json_object' };
  else if (req.responseFormat?.type === 'json_schema') {
    const { name, description, schema, strict } = req.responseFormat;
    body.response_format = {
      type: 'json_schema',
      json_schema: {
        name,
        ...(description ? { description } : {}),
        ...(schema ? { schema } : {}),
        ...(strict === undefined ? {} : { strict }),
      },
    };
  }
  return body;
}

function userPart(b: ContentBlock): Part | undefined {
  switch (b.type) {
    case 'text':
      return { type: 'text', text: b.text };
    case 'image':
      return b.source.type === 'bytes' ? { type: 'image_url', image_url: { url: dataUrl(b.source.mediaType, b.source.data) } } : undefined;
    case 'document':
      return {
        type: 'file',
        file: { filename: `${b.name}.${b.format}`, file_data: dataUrl(DOC_TYPES[b.format] ?? 'application/octet-stream', b.data) },
      };
    default:
      return undefined;
  }
}

function toolChoice(c: ToolChoice): NonNullable<UpstreamChatBody['tool_choice']> {
  if (c.type === 'tool') return { type: 'function', function: { name: c.name } };
  if (c.type === 'any') return 'required';
  return c.type;
}
