/**
 * Core chat events → Anthropic's Messages API: the SSE events of a stream and the one message of the same stream
 * folded. The rules clients depend on (REFERENCE §5): message_start first (Claude Code re-sends without streaming if
 * it or content_block_start is missing), blocks numbered densely from 0, each opened, delta'd and closed in order;
 * one message_delta with the stop reason and the final cumulative usage — cache reads and writes included, reported
 * there once — then message_stop.
 *
 * Reasoning reaches the client as a `thinking` block only when it is signed: an Anthropic client sends thinking
 * back, and Claude refuses thinking without its signature. Reasoning the provider marks as signed streams live;
 * other reasoning is held until its block ends and dropped if no signature came (the records still keep it).
 */
import type { BlockKind, ChatEvent, FinishReason } from '../../chat/events.js';
import type { ChatResult } from '../../chat/fold.js';
import type { TokenUsage } from '../../usage.js';
import type { Message, ResponseBlock, StopReason, StreamEvent, Usage } from './types.js';

export interface MessageMeta {
  /** Used when the upstream gives the message no id of its own. */
  id: string;
  /** The model name the client sent (echoed). */
  model: string;
}

function toAnthropicStopReason(reason: FinishReason): StopReason {
  switch (reason) {
    case 'content_filter':
      return 'refusal';
    case 'context_window_exceeded':
      return 'model_context_window_exceeded';
    default:
      return reason;
  }
}

/** Anthropic counts cache reads and writes beside input_tokens, as the core does. */
function toAnthropicUsage(u: TokenUsage | undefined): Usage {
  return {
    input_tokens: u?.inputTokens ?? 0,
    output_tokens: u?.outputTokens ?? 0,
    cache_creation_input_tokens: u?.cacheWriteTokens ?? 0,
    cache_read_input_tokens: u?.cacheReadTokens ?? 0,
  };
}

const messageId = (meta: MessageMeta, upstreamId: string | undefined) => upstreamId || meta.id;

type Held = { text: string; signature: string };

/** One stream's encoder (per request: it holds the stream's state). */
export class AnthropicStreamEncoder {
  private pendingStart: { upstreamId?: string } | undefined;
  private started = false;
  private usage: TokenUsage | undefined;
  private stop: { reason: StopReason; sequence: string | null } | undefined;
  private nextIndex = 0;
  /** Core block index → the index the client sees (blocks not shown have none). */
  private readonly wireIndex = new Map<number, number>();
  /** Core reasoning blocks held until they end (not known to be signed). */
  private readonly held = new Map<number, Held>();

  constructor(private readonly meta: MessageMeta) {}

  encode(ev: ChatEvent): StreamEvent[] {
    if (ev.type === 'message_start') {
      // Held one event: Claude's input usage follows its message_start at once and belongs in it.
      this.pendingStart = ev.upstreamId ? { upstreamId: ev.upstreamId } : {};
      return [];
    }
    if (ev.type === 'usage') {
      this.usage = ev.usage;
      return this.opening();
    }
    const out = this.opening();
    switch (ev.type) {
      case 'block_start':
        this.onBlockStart(ev.index, ev.block, out);
        break;
      case 'text_delta':
        this.delta(ev.index, { type: 'text_delta', text: ev.text }, out);
        break;
      case 'citation_delta':
        this.delta(ev.index, { type: 'citations_delta', citation: ev.citation }, out);
        break;
      case 'reasoning_delta': {
        const held = this.held.get(ev.index);
        if (held) held.text += ev.text;
        else this.delta(ev.index, { type: 'thinking_delta', thinking: ev.text }, out);
        break;
      }
      case 'signature_delta': {
        const held = this.held.get(ev.index);
        if (held) held.signature += ev.signature;
        else this.delta(ev.index, { type: 'signature_delta', signature: ev.signature }, out);
        break;
      }
      case 'tool_input_delta':
        this.delta(ev.index, { type: 'input_json_delta', partial_json: ev.json }, out);
        break;
      case 'block_stop':
        this.onBlockStop(ev.index, out);
        break;
      case 'finish':
        this.stop ??= { reason: toAnthropicStopReason(ev.reason), sequence: ev.stopSequence ?? null };
        break;
      case 'error':
        break; // rendered by the route as `event: error`
    }
    return out;
  }

  /**
   * message_start now, if it is still held (the model is silent after its start: the keep-alive calls this, so a
   * client never sees a ping before message_start).
   */
  flush(): StreamEvent[] {
    return this.pendingStart ? this.opening() : [];
  }

  /** The closing events once the call has ended well: message_delta (stop reason, final usage), message_stop. */
  end(): StreamEvent[] {
    const out = this.opening(true);
    out.push(
      {
        type: 'message_delta',
        delta: { stop_reason: this.stop?.reason ?? 'end_turn', stop_sequence: this.stop?.sequence ?? null },
        usage: toAnthropicUsage(this.usage),
      },
      { type: 'message_stop' },
    );
    return out;
  }

  private opening(force = false): StreamEvent[] {
    if (this.started || (!this.pendingStart && !force)) return [];
    this.started = true;
    const message: Message = {
      id: messageId(this.meta, this.pendingStart?.upstreamId),
      type: 'message',
      role: 'assistant',
      model: this.meta.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...toAnthropicUsage(this.usage), output_tokens: this.usage?.outputTokens ?? 0 },
    };
    return [{ type: 'message_start', message }, { type: 'ping' }];
  }

  private open(core: number, block: ResponseBlock, out: StreamEvent[]): void {
    const index = this.nextIndex++;
    this.wireIndex.set(core, index);
    out.push({ type: 'content_block_start', index, content_block: block });
  }

  private onBlockStart(core: number, block: BlockKind, out: StreamEvent[]): void {
    switch (block.type) {
      case 'text':
        this.open(core, block.cited ? { type: 'text', text: '', citations: [] } : { type: 'text', text: '' }, out);
        return;
      case 'reasoning':
        if (block.signed) this.open(core, { type: 'thinking', thinking: '', signature: '' }, out);
        else this.held.set(core, { text: '', signature: '' });
        return;
      case 'redacted_reasoning':
        this.open(core, { type: 'redacted_thinking', data: block.data }, out);
        return;
      case 'tool_use':
        this.open(core, { type: 'tool_use', id: block.id, name: block.name, input: {} }, out);
        return;
    }
  }

  private delta(core: number, delta: Extract<StreamEvent, { type: 'content_block_delta' }>['delta'], out: StreamEvent[]): void {
    const index = this.wireIndex.get(core);
    if (index !== undefined) out.push({ type: 'content_block_delta', index, delta });
  }

  private onBlockStop(core: number, out: StreamEvent[]): void {
    const held = this.held.get(core);
    if (held) {
      this.held.delete(core);
      if (!held.signature) return; // unsigned reasoning: not a thinking block an Anthropic client could send back
      this.open(core, { type: 'thinking', thinking: '', signature: '' }, out);
      this.delta(core, { type: 'thinking_delta', thinking: held.text }, out);
      this.delta(core, { type: 'signature_delta', signature: held.signature }, out);
    }
    const index = this.wireIndex.get(core);
    if (index !== undefined) out.push({ type: 'content_block_stop', index });
  }
}

/** The folded stream as one Anthropic message: every block in order, thinking only when signed. */
export function encodeAnthropicMessage(result: ChatResult, meta: MessageMeta): Message {
  const content: ResponseBlock[] = [];
  for (const b of result.blocks) {
    switch (b.type) {
      case 'text':
        content.push(b.citations ? { type: 'text', text: b.text, citations: b.citations } : { type: 'text', text: b.text });
        break;
      case 'reasoning':
        if (b.signature) content.push({ type: 'thinking', thinking: b.text, signature: b.signature });
        break;
      case 'redacted_reasoning':
        content.push({ type: 'redacted_thinking', data: b.data });
        break;
      case 'tool_use':
        content.push({ type: 'tool_use', id: b.id, name: b.name, input: parseInput(b.json) });
        break;
    }
  }
  return {
    id: messageId(meta, result.upstreamId),
    type: 'message',
    role: 'assistant',
    model: meta.model,
    content,
    stop_reason: toAnthropicStopReason(result.finishReason ?? 'end_turn'),
    stop_sequence: result.stopSequence ?? null,
    usage: toAnthropicUsage(result.usage),
  };
}

/** Tool input JSON as the model streamed it; an empty input is `{}`. */
function parseInput(json: string): unknown {
  if (json.trim() === '') return {};
  try {
    return JSON.parse(json);
  } catch {
    return {};
  }
}
