import type { ContentBlockDeltaEvent, ContentBlockStartEvent, ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { ChatEvent } from '../../chat/events.js';
import { errors } from '../../errors.js';
import { mapBedrockError } from '../bedrock-errors.js';
import { finishEvent } from './map-finish-reason.js';
import { toTokenUsage } from './map-usage.js';

const EXCEPTION_MEMBERS = [
  'internalServerException',
  'modelStreamErrorException',
  'validationException',
  'throttlingException',
  'serviceUnavailableException',
] as const;

type OpenBlock = { index: number; kind: 'text' | 'reasoning' | 'redacted_reasoning' | 'tool_use' | 'structured'; toolIndex?: number };

/** A tool call left out (parallel_tool_calls: false, after the first): nothing of it is emitted. */
const DROPPED = { index: -1, kind: 'dropped' } as const;
type Tracked = OpenBlock | typeof DROPPED;

export interface StreamOptions {
  /** The tool the gateway offered for a response format: its input is the answer's text. */
  structuredToolName?: string;
  /** At most one tool call (parallel_tool_calls: false, which Converse has no field for): later ones are dropped. */
  singleToolCall?: boolean;
  /** The request's stop sequences: Converse does not say which one matched, so only a single one is named. */
  stopSequences?: string[];
}

/**
 * Turns one ConverseStream's events into core chat events. One instance per request: it is the only place
 * per-stream state lives.
 *
 * Converse opens only tool blocks explicitly (text and reasoning blocks just start sending deltas), numbers blocks
 * with its own contentBlockIndex, and reports usage after messageStop. This normalises that into the core
 * guarantees: message_start first; every block opened before its deltas and closed once, numbered densely in
 * order; tool calls numbered densely; one finish; usage. The response-format tool's input is text to the client.
 * With `singleToolCall`, a tool call after the first is left out entirely (its tokens are still billed).
 */
export class ConverseStreamState {
  private started = false;
  private finished = false;
  private nextIndex = 0;
  private toolCount = 0;
  /** Converse contentBlockIndex → the block as emitted. */
  private readonly open = new Map<number, Tracked>();
  private readonly structuredToolName: string | undefined;
  private readonly singleToolCall: boolean;
  private readonly stopSequences: string[] | undefined;

  constructor(opts: StreamOptions = {}) {
    this.structuredToolName = opts.structuredToolName;
    this.singleToolCall = opts.singleToolCall === true;
    this.stopSequences = opts.stopSequences;
  }

  /** Events for one Converse stream event (possibly none). Throws a GatewayError for exception events. */
  next(event: ConverseStreamOutput): ChatEvent[] {
    const out = this.opening();
    for (const member of EXCEPTION_MEMBERS) {
      const failure = (event as Partial<Record<(typeof EXCEPTION_MEMBERS)[number], object>>)[member];
      if (failure) throw mapBedrockError(Object.assign({}, failure, { name: member }));
    }
    if (event.contentBlockStart) this.onBlockStart(event.contentBlockStart, out);
    else if (event.contentBlockDelta) this.onBlockDelta(event.contentBlockDelta, out);
    else if (event.contentBlockStop) this.close(event.contentBlockStop.contentBlockIndex ?? 0, out);
    else if (event.messageStop) {
      this.closeAll(out);
      if (!this.finished) {
        this.finished = true;
        out.push(finishEvent(event.messageStop.stopReason, this.toolCount > 0, this.stopSequences));
      }
    } else if (event.metadata) out.push({ type: 'usage', usage: toTokenUsage(event.metadata.usage) });
    return out;
  }

  /**
   * Once the upstream stream is exhausted. A stream that ends before messageStop was cut off (a dropped connection
   * looks exactly like that): it is a failure, not a complete answer.
   */
  end(): ChatEvent[] {
    if (!this.finished) throw errors.streamIncomplete();
    return this.opening();
  }

  private opening(): ChatEvent[] {
    if (this.started) return [];
    this.started = true;
    return [{ type: 'message_start' }];
  }

  private onBlockStart({ contentBlockIndex, start }: ContentBlockStartEvent, out: ChatEvent[]): void {
    const use = start?.toolUse;
    if (!use) return;
    const at = contentBlockIndex ?? 0;
    if (use.name !== undefined && use.name === this.structuredToolName) {
      this.begin(at, { kind: 'structured' }, out);
      return;
    }
    if (this.singleToolCall && this.toolCount > 0) {
      this.open.set(at, DROPPED);
      return;
    }
    this.begin(at, { kind: 'tool_use', toolIndex: this.toolCount++ }, out, { id: use.toolUseId ?? '', name: use.name ?? '' });
  }

  private onBlockDelta({ contentBlockIndex, delta }: ContentBlockDeltaEvent, out: ChatEvent[]): void {
    const at = contentBlockIndex ?? 0;
    if (this.open.get(at) === DROPPED) return;
    if (delta?.text) {
      const b = this.open.get(at) ?? this.begin(at, { kind: 'text' }, out);
      out.push({ type: 'text_delta', index: b.index, text: delta.text });
    } else if (delta?.toolUse?.input) {
      const b = this.open.get(at);
      if (b?.kind === 'structured') out.push({ type: 'text_delta', index: b.index, text: delta.toolUse.input });
      else if (b?.kind === 'tool_use')
        out.push({ type: 'tool_input_delta', index: b.index, toolIndex: b.toolIndex!, json: delta.toolUse.input });
    } else if (delta?.reasoningContent?.text) {
      const b = this.open.get(at) ?? this.begin(at, { kind: 'reasoning' }, out);
      out.push({ type: 'reasoning_delta', index: b.index, text: delta.reasoningContent.text });
    } else if (delta?.reasoningContent?.signature) {
      const b = this.open.get(at) ?? this.begin(at, { kind: 'reasoning' }, out);
      out.push({ type: 'signature_delta', index: b.index, signature: delta.reasoningContent.signature });
    } else if (delta?.reasoningContent?.redactedContent) {
      if (!this.open.has(at)) {
        this.begin(
          at,
          { kind: 'redacted_reasoning' },
          out,
          undefined,
          Buffer.from(delta.reasoningContent.redactedContent).toString('base64'),
        );
      }
    }
  }

  private begin(
    at: number,
    b: Omit<OpenBlock, 'index'>,
    out: ChatEvent[],
    tool?: { id: string; name: string },
    redacted?: string,
  ): OpenBlock {
    const block: OpenBlock = { ...b, index: this.nextIndex++ };
    this.open.set(at, block);
    if (b.kind === 'tool_use') {
      out.push({
        type: 'block_start',
        index: block.index,
        block: { type: 'tool_use', id: tool!.id, name: tool!.name, toolIndex: b.toolIndex! },
      });
    } else if (b.kind === 'redacted_reasoning') {
      out.push({ type: 'block_start', index: block.index, block: { type: 'redacted_reasoning', data: redacted ?? '' } });
    } else {
      out.push({ type: 'block_start', index: block.index, block: { type: b.kind === 'reasoning' ? 'reasoning' : 'text' } });
    }
    return block;
  }

  private close(at: number, out: ChatEvent[]): void {
    const b = this.open.get(at);
    if (!b) return;
    this.open.delete(at);
    if (b !== DROPPED) out.push({ type: 'block_stop', index: b.index });
  }

  private closeAll(out: ChatEvent[]): void {
    for (const at of [...this.open.keys()]) this.close(at, out);
  }
}
