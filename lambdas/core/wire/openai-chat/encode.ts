/**
 * Core chat events → OpenAI chat completions: `chat.completion.chunk`s for a stream, one `chat.completion` for the
 * same stream folded. The wire rules strict clients enforce (REFERENCE §2): a role chunk first; the same id and
 * created on every chunk; tool calls numbered densely from 0, `id`/`type`/`name` on their first delta only; exactly
 * one finish_reason; the usage chunk (`choices: []`) last, only when asked for.
 */
import type { ChatEvent, FinishReason as CoreFinishReason } from '../../chat/events.js';
import type { ChatResult } from '../../chat/fold.js';
import { promptTokensOf, type TokenUsage } from '../../usage.js';
import type { ChatCompletion, ChatCompletionChunk, FinishReason, ToolCall, Usage } from './types.js';

export interface CompletionMeta {
  id: string;
  created: number;
  /** The model name the client sent (echoed on every chunk). */
  model: string;
}

type Delta = ChatCompletionChunk['choices'][number]['delta'];

export function toOpenAIFinishReason(reason: CoreFinishReason): FinishReason {
  switch (reason) {
    case 'max_tokens':
    case 'context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'content_filter':
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/** OpenAI counts cached input inside prompt_tokens; Bedrock reports it beside inputTokens. */
export function toOpenAIUsage(u: TokenUsage): Usage {
  const prompt = promptTokensOf(u);
  return {
    prompt_tokens: prompt,
    completion_tokens: u.outputTokens,
    total_tokens: prompt + u.outputTokens,
    prompt_tokens_details: {
      cached_tokens: u.cacheReadTokens,
      ...(u.cacheWriteTokens > 0 ? { cache_write_tokens: u.cacheWriteTokens } : {}),
    },
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens },
  };
}

/** One stream's encoder (per request: it holds the stream's state). */
export class OpenAIChatChunkEncoder {
  private started = false;
  private finished = false;
  private usage: TokenUsage | undefined;

  constructor(
    private readonly meta: CompletionMeta,
    private readonly includeUsage: boolean,
  ) {}

  encode(ev: ChatEvent): ChatCompletionChunk[] {
    const out = this.opening();
    switch (ev.type) {
      case 'block_start':
        if (ev.block.type === 'tool_use') {
          const { toolIndex: index, id, name } = ev.block;
          out.push(this.chunk({ tool_calls: [{ index, id, type: 'function', function: { name, arguments: '' } }] }));
        }
        break;
      case 'text_delta':
        out.push(this.chunk({ content: ev.text }));
        break;
      case 'reasoning_delta':
        out.push(this.chunk({ reasoning_content: ev.text }));
        break;
      case 'signature_delta':
        out.push(this.chunk({ reasoning_signature: ev.signature }));
        break;
      case 'tool_input_delta':
        out.push(this.chunk({ tool_calls: [{ index: ev.toolIndex, function: { arguments: ev.json } }] }));
        break;
      case 'finish':
        if (!this.finished) {
          this.finished = true;
          out.push(this.chunk({}, toOpenAIFinishReason(ev.reason)));
        }
        break;
      case 'usage':
        this.usage = ev.usage;
        break;
      default:
        break; // message_start, block_stop and redacted reasoning have no OpenAI representation
    }
    return out;
  }

  /** The closing chunks after the last event: the usage chunk, when asked for. */
  end(): ChatCompletionChunk[] {
    const out = this.opening();
    if (this.includeUsage && this.usage) out.push({ ...this.envelope(), choices: [], usage: toOpenAIUsage(this.usage) });
    return out;
  }

  private opening(): ChatCompletionChunk[] {
    if (this.started) return [];
    this.started = true;
    return [this.chunk({ role: 'assistant', content: '' })];
  }

  private envelope() {
    return { id: this.meta.id, object: 'chat.completion.chunk' as const, created: this.meta.created, model: this.meta.model };
  }

  private chunk(delta: Delta, finishReason: FinishReason | null = null): ChatCompletionChunk {
    return { ...this.envelope(), choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }] };
  }
}

/** The folded stream as a `chat.completion`: every text block joined, every tool call, reasoning and its signature. */
export function encodeChatCompletion(result: ChatResult, meta: CompletionMeta): ChatCompletion {
  const toolCalls: ToolCall[] = result.toolCalls.map((t) => ({
    id: t.id,
    type: 'function',
    function: { name: t.name, arguments: t.arguments },
  }));
  const message: ChatCompletion['choices'][number]['message'] = {
    role: 'assistant',
    content: result.text === '' && toolCalls.length > 0 ? null : result.text,
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (result.reasoning) message.reasoning_content = result.reasoning;
  const signature = [...result.blocks].reverse().find((b) => b.type === 'reasoning' && b.signature);
  if (signature?.type === 'reasoning' && signature.signature) message.reasoning_signature = signature.signature;
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message, finish_reason: toOpenAIFinishReason(result.finishReason ?? 'end_turn'), logprobs: null }],
    usage: toOpenAIUsage(result.usage),
  };
}
