import { z } from 'zod';
import type { ChatEvent, FinishReason } from '../../chat/events.js';
import { errors, GatewayError } from '../../errors.js';
import { type TokenUsage, tokenCount, zeroUsage } from '../../usage.js';

/** What an OpenAI-compatible server streams (and answers, non-streaming), the fields read here. */
const usageSchema = z
  .object({
    prompt_tokens: z.number().optional(),
    completion_tokens: z.number().optional(),
    prompt_tokens_details: z.object({ cached_tokens: z.number().optional() }).nullish(),
    completion_tokens_details: z.object({ reasoning_tokens: z.number().optional() }).nullish(),
  })
  .nullish();

const toolDelta = z.object({
  index: z.number().int().nonnegative().optional(),
  id: z.string().optional(),
  function: z.object({ name: z.string().optional(), arguments: z.string().optional() }).optional(),
});

const chunkSchema = z.object({
  choices: z
    .array(
      z.object({
        delta: z
          .object({
            content: z.string().nullish(),
            reasoning_content: z.string().nullish(),
            reasoning: z.string().nullish(),
            tool_calls: z.array(toolDelta).nullish(),
          })
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .optional(),
  usage: usageSchema,
});

const completionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullish(),
          reasoning_content: z.string().nullish(),
          tool_calls: z
            .array(z.object({ id: z.string(), function: z.object({ name: z.string(), arguments: z.string().optional() }) }))
            .nullish(),
        }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: usageSchema,
});

function toUsage(u: z.infer<typeof usageSchema>): TokenUsage {
  if (!u) return zeroUsage();
  // Counts as billable whole numbers: another server's -100000 or 10.5 is not billed as such.
  const prompt = tokenCount(u.prompt_tokens);
  const cached = Math.min(tokenCount(u.prompt_tokens_details?.cached_tokens), prompt);
  return {
    ...zeroUsage(),
    inputTokens: prompt - cached,
    cacheReadTokens: cached,
    outputTokens: tokenCount(u.completion_tokens),
    reasoningTokens: tokenCount(u.completion_tokens_details?.reasoning_tokens),
  };
}

const FINISH: Record<string, FinishReason> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'content_filter',
};
const mapFinish = (reason: string | null | undefined): FinishReason => FINISH[reason ?? ''] ?? 'end_turn';

const badUpstream = (detail: string) =>
  new GatewayError(502, `Unexpected answer from the OpenAI-compatible upstream: ${detail}.`, { kind: 'upstream', code: 'upstream_error' });

/**
 * Turns one upstream's chat.completion.chunk stream into core events. One instance per request. Text, reasoning
 * (`reasoning_content` or `reasoning`) and each tool call (by its index) become blocks, opened before their deltas and
 * closed when another block starts or at the finish; usage comes from the final usage chunk.
 */
export class OpenAIChunkState {
  private started = false;
  private finished = false;
  private nextIndex = 0;
  private open: { index: number; kind: 'text' | 'reasoning' | 'tool'; toolIndex?: number } | undefined;
  private readonly tools = new Map<number, { index: number; toolIndex: number }>();
  private usage: TokenUsage | undefined;
  private finish: FinishReason | undefined;

  next(raw: unknown): ChatEvent[] {
    const parsed = chunkSchema.safeParse(raw);
    if (!parsed.success) throw badUpstream('a stream chunk is not a chat.completion.chunk');
    const out: ChatEvent[] = this.opening();
    const chunk = parsed.data;
    if (chunk.usage) this.usage = toUsage(chunk.usage);
    const choice = chunk.choices?.[0];
    const d = choice?.delta;
    const reasoning = d?.reasoning_content ?? d?.reasoning;
    if (reasoning) out.push({ type: 'reasoning_delta', index: this.block('reasoning', out), text: reasoning });
    if (d?.content) out.push({ type: 'text_delta', index: this.block('text', out), text: d.content });
    for (const call of d?.tool_calls ?? []) {
      const at = call.index ?? 0;
      let tool = this.tools.get(at);
      if (!tool) {
        this.closeOpen(out);
        tool = { index: this.nextIndex++, toolIndex: this.tools.size };
        this.tools.set(at, tool);
        this.open = { index: tool.index, kind: 'tool', toolIndex: tool.toolIndex };
        out.push({
          type: 'block_start',
          index: tool.index,
          block: { type: 'tool_use', id: call.id ?? `call_${tool.toolIndex}`, name: call.function?.name ?? '', toolIndex: tool.toolIndex },
        });
      }
      if (call.function?.arguments)
        out.push({ type: 'tool_input_delta', index: tool.index, toolIndex: tool.toolIndex, json: call.function.arguments });
    }
    if (choice?.finish_reason) this.finish ??= mapFinish(choice.finish_reason);
    return out;
  }

  /** After the last chunk: close the open block, finish, usage. A stream that never finished was cut off. */
  end(): ChatEvent[] {
    if (this.finish === undefined) throw errors.streamIncomplete();
    const out: ChatEvent[] = this.opening();
    this.closeOpen(out);
    if (!this.finished) {
      this.finished = true;
      out.push({ type: 'finish', reason: this.tools.size === 0 && this.finish === 'tool_use' ? 'end_turn' : this.finish });
    }
    // No usage event when the server reported none: the call is then billed by the gateway's estimate, never free.
    if (this.usage) out.push({ type: 'usage', usage: this.usage });
    return out;
  }

  private opening(): ChatEvent[] {
    if (this.started) return [];
    this.started = true;
    return [{ type: 'message_start' }];
  }

  private block(kind: 'text' | 'reasoning', out: ChatEvent[]): number {
    if (this.open?.kind === kind) return this.open.index;
    this.closeOpen(out);
    this.open = { index: this.nextIndex++, kind };
    out.push({ type: 'block_start', index: this.open.index, block: { type: kind } });
    return this.open.index;
  }

  private closeOpen(out: ChatEvent[]): void {
    if (!this.open) return;
    out.push({ type: 'block_stop', index: this.open.index });
    this.open = undefined;
  }
}

/** A non-streaming completion → the events a stream of it would have produced. */
export function completionEvents(raw: unknown): ChatEvent[] {
  const parsed = completionSchema.safeParse(raw);
  if (!parsed.success) throw badUpstream('the body is not a chat.completion');
  const choice = parsed.data.choices[0];
  const state = new OpenAIChunkState();
  const events = state.next({
    choices: [
      {
        delta: {
          reasoning_content: choice.message.reasoning_content,
          content: choice.message.content,
          tool_calls: choice.message.tool_calls?.map((t, index) => ({
            index,
            id: t.id,
            function: { name: t.function.name, arguments: t.function.arguments ?? '{}' },
          })),
        },
        finish_reason: choice.finish_reason ?? 'stop',
      },
    ],
    usage: parsed.data.usage,
  });
  return [...events, ...state.end()];
}
