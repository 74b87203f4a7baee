import type { ContentBlockDeltaEvent, ContentBlockStartEvent, ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionChunk, FinishReason, ToolCall } from '../../openai/types.js';
import { GatewayError } from '../../openai/errors.js';
import { type ChatOutcome, type TokenUsage, zeroUsage } from '../types.js';
import type { CompletionMeta } from './completion-meta.js';
import { mapBedrockError } from './map-error.js';
import { mapFinishReason } from './map-finish-reason.js';
import { toOpenAIUsage, toTokenUsage } from './map-usage.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

export interface StreamOptions extends CompletionMeta {
  /** stream_options.include_usage: end with a `choices: []` usage chunk. */
  includeUsage: boolean;
}

const EXCEPTION_MEMBERS = [
  'internalServerException',
  'modelStreamErrorException',
  'validationException',
  'throttlingException',
  'serviceUnavailableException',
] as const;

/**
 * Turns one ConverseStream's events into OpenAI chunks and accumulates the outcome. One instance per request:
 * it is the only place per-stream state lives.
 *
 * Chunk order: a role chunk first; content / reasoning / tool-call deltas; exactly one finish chunk (at
 * messageStop, or at the end if Bedrock never sent one); then the usage chunk when requested.
 */
export class ConverseStreamState {
  private started = false;
  private finishSent = false;
  private text = '';
  private reasoning = '';
  private readonly toolCalls: ToolCall[] = [];
  /** Bedrock contentBlockIndex → dense OpenAI tool_calls index. */
  private readonly toolIndexByBlock = new Map<number, number>();
  /** contentBlockIndex of the response_format tool, whose input is streamed as content. */
  private readonly structuredBlocks = new Set<number>();
  private finishReason: FinishReason | null = null;
  private usage: TokenUsage = zeroUsage();

  constructor(private readonly opts: StreamOptions) {}

  /** Chunks for one Converse stream event (possibly none). Throws a GatewayError for exception events. */
  next(event: ConverseStreamOutput): ChatCompletionChunk[] {
    const out = this.opening();
    for (const member of EXCEPTION_MEMBERS) {
      const failure = (event as Partial<Record<(typeof EXCEPTION_MEMBERS)[number], object>>)[member];
      if (failure) throw mapBedrockError(Object.assign({}, failure, { name: member }));
    }
    if (event.contentBlockStart) out.push(...this.onBlockStart(event.contentBlockStart));
    else if (event.contentBlockDelta) out.push(...this.onBlockDelta(event.contentBlockDelta));
    else if (event.messageStop) {
      out.push(...this.finish(mapFinishReason(event.messageStop.stopReason, this.toolCalls.length > 0)));
    } else if (event.metadata) this.usage = toTokenUsage(event.metadata.usage);
    return out;
  }

  private onBlockStart({ contentBlockIndex, start }: ContentBlockStartEvent): ChatCompletionChunk[] {
    const use = start?.toolUse;
    if (!use) return [];
    if (use.name === this.opts.structuredToolName) {
      this.structuredBlocks.add(contentBlockIndex ?? 0);
      return [];
    }
    const index = this.toolCalls.length;
    const call: ToolCall = { id: use.toolUseId ?? '', type: 'function', function: { name: use.name ?? '', arguments: '' } };
    this.toolIndexByBlock.set(contentBlockIndex ?? 0, index);
    this.toolCalls.push(call);
    return [this.chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { ...call.function } }] })];
  }

  private onBlockDelta({ contentBlockIndex, delta }: ContentBlockDeltaEvent): ChatCompletionChunk[] {
    const block = contentBlockIndex ?? 0;
    if (delta?.text) return [this.content(delta.text)];
    if (delta?.toolUse?.input) {
      if (this.structuredBlocks.has(block)) return [this.content(delta.toolUse.input)];
      const index = this.toolIndexByBlock.get(block);
      if (index === undefined) return [];
      this.toolCalls[index]!.function.arguments += delta.toolUse.input;
      return [this.chunk({ tool_calls: [{ index, function: { arguments: delta.toolUse.input } }] })];
    }
    if (delta?.reasoningContent?.text) {
      this.reasoning += delta.reasoningContent.text;
      return [this.chunk({ reasoning_content: delta.reasoningContent.text })];
    }
    if (delta?.reasoningContent?.signature) return [this.chunk({ reasoning_signature: delta.reasoningContent.signature })];
    return []; // redactedContent has no OpenAI representation
  }

  /**
   * The closing chunks once the upstream stream is exhausted. A stream that ends before messageStop was cut off
   * (a dropped connection looks exactly like that): it is a failure, not a complete answer — the caller ends the
   * response with an error frame and records the call as failed with what was produced.
   */
  end(): ChatCompletionChunk[] {
    if (!this.finishSent) {
      throw new GatewayError(502, 'The upstream stream ended before the model finished its answer.', {
        type: 'api_error',
        code: 'upstream_stream_incomplete',
      });
    }
    const out = [...this.opening()];
    if (this.opts.includeUsage) {
      out.push({ ...this.envelope(), choices: [], usage: toOpenAIUsage(this.usage) });
    }
    return out;
  }

  /** Everything produced so far (complete after end(); partial if the stream failed). */
  outcome(): ChatOutcome {
    return {
      text: this.text,
      reasoning: this.reasoning,
      toolCalls: this.toolCalls.map((c) => ({ ...c, function: { ...c.function } })),
      finishReason: this.finishReason,
      usage: { ...this.usage },
    };
  }

  private opening(): ChatCompletionChunk[] {
    if (this.started) return [];
    this.started = true;
    return [this.chunk({ role: 'assistant', content: '' })];
  }

  private finish(reason: FinishReason): ChatCompletionChunk[] {
    if (this.finishSent) return [];
    this.finishSent = true;
    this.finishReason = reason;
    return [this.chunk({}, reason)];
  }

  private content(text: string): ChatCompletionChunk {
    this.text += text;
    return this.chunk({ content: text });
  }

  private envelope() {
    return { id: this.opts.id, object: 'chat.completion.chunk' as const, created: this.opts.created, model: this.opts.model };
  }

  private chunk(delta: Delta, finishReason: FinishReason | null = null): ChatCompletionChunk {
    return { ...this.envelope(), choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }] };
  }
}
