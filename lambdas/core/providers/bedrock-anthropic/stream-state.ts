import type { ChatEvent } from '../../chat/events.js';
import { errors, GatewayError } from '../../errors.js';
import { mapBedrockError } from '../bedrock-errors.js';
import { mapStopReason } from './map-stop-reason.js';
import { UsageTracker } from './map-usage.js';
import { type AnthropicStreamEvent, streamEventSchema } from './wire-types.js';

type Open = { index: number; kind: 'text' | 'reasoning' | 'redacted_reasoning' | 'tool_use'; toolIndex?: number };

/** Claude's own error types (an `error` event in the stream) under the Bedrock exception names the one error map knows. */
const EXCEPTION_BY_ERROR_TYPE: Readonly<Record<string, string>> = {
  overloaded_error: 'serviceUnavailableException',
  rate_limit_error: 'throttlingException',
  invalid_request_error: 'validationException',
};

/**
 * Turns the Anthropic stream events of one InvokeModelWithResponseStream call into core chat events. One instance
 * per request: it is the only place per-stream state lives.
 *
 * Claude's stream is close to the core's already (blocks opened, delta'd and closed in order); this maps its block
 * numbers to dense core ones (skipping server-side blocks the core has no form for), numbers tool calls, marks
 * thinking blocks as signed, turns message_delta's stop_reason into one `finish`, and reports usage as it grows.
 */
export class ClaudeStreamState {
  private started = false;
  private finished = false;
  private intervened = false;
  private nextIndex = 0;
  private toolCount = 0;
  /** Claude's block index → the core block (null: a block the core leaves out). */
  private readonly open = new Map<number, Open | null>();
  private readonly usage = new UsageTracker();

  /** One chunk's bytes (an Anthropic event as JSON) → core events. Throws a GatewayError for an error event. */
  nextChunk(bytes: Uint8Array): ChatEvent[] {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    } catch {
      throw new GatewayError(502, 'Bedrock sent a stream chunk that is not JSON.', { kind: 'upstream', code: 'upstream_error' });
    }
    // A guardrail that intervened: the answer is its blocked message, and the call ends as a refusal.
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      (parsed as Record<string, unknown>)['amazon-bedrock-guardrailAction'] === 'INTERVENED'
    )
      this.intervened = true;
    const event = streamEventSchema.safeParse(parsed);
    // An event type that did not exist when this was written is skipped, as Anthropic asks clients to.
    if (!event.success) return this.opening();
    return this.next(event.data);
  }

  next(event: AnthropicStreamEvent): ChatEvent[] {
    const out = this.opening(event.type === 'message_start' ? event.message.id : undefined);
    switch (event.type) {
      case 'message_start':
        this.usage.fromAnthropic(event.message.usage);
        break;
      case 'content_block_start':
        this.onBlockStart(event, out);
        break;
      case 'content_block_delta':
        this.onBlockDelta(event, out);
        break;
      case 'content_block_stop': {
        const b = this.open.get(event.index);
        this.open.delete(event.index);
        if (b) out.push({ type: 'block_stop', index: b.index });
        break;
      }
      case 'message_delta':
        this.usage.fromAnthropic(event.usage);
        this.closeAll(out);
        if (!this.finished && event.delta.stop_reason) {
          this.finished = true;
          const stopSequence = event.delta.stop_sequence ?? undefined;
          out.push({
            type: 'finish',
            reason: this.intervened ? 'refusal' : mapStopReason(event.delta.stop_reason),
            ...(stopSequence ? { stopSequence } : {}),
          });
        }
        break;
      case 'error': {
        const type = event.error?.type ?? '';
        throw mapBedrockError({ name: EXCEPTION_BY_ERROR_TYPE[type] ?? 'internalServerException', message: event.error?.message ?? type });
      }
      case 'message_stop':
      case 'ping':
        break;
    }
    const metrics = event['amazon-bedrock-invocationMetrics'];
    this.usage.fromMetrics(metrics);
    if (event.type === 'message_start' || event.type === 'message_delta' || (metrics && this.usage.hasAny)) {
      out.push({ type: 'usage', usage: this.usage.current() });
    }
    return out;
  }

  /**
   * Once the upstream stream is exhausted. A stream that ends before Claude's stop reason was cut off (a dropped
   * connection looks exactly like that): a failure, not a complete answer.
   */
  end(): ChatEvent[] {
    if (!this.finished) throw errors.streamIncomplete();
    return this.opening();
  }

  private opening(upstreamId?: string): ChatEvent[] {
    if (this.started) return [];
    this.started = true;
    return [{ type: 'message_start', ...(upstreamId ? { upstreamId } : {}) }];
  }

  private onBlockStart(event: Extract<AnthropicStreamEvent, { type: 'content_block_start' }>, out: ChatEvent[]): void {
    const b = event.content_block;
    const index = this.nextIndex;
    let open: Open | null = null;
    switch (b.type) {
      case 'text':
        open = { index, kind: 'text' };
        // A text block that may be cited starts with `citations: []` (Claude with citations enabled).
        out.push({ type: 'block_start', index, block: Array.isArray(b.citations) ? { type: 'text', cited: true } : { type: 'text' } });
        for (const citation of b.citations ?? []) out.push({ type: 'citation_delta', index, citation });
        if (b.text) out.push({ type: 'text_delta', index, text: b.text });
        break;
      case 'thinking':
        open = { index, kind: 'reasoning' };
        out.push({ type: 'block_start', index, block: { type: 'reasoning', signed: true } });
        if (b.thinking) out.push({ type: 'reasoning_delta', index, text: b.thinking });
        if (b.signature) out.push({ type: 'signature_delta', index, signature: b.signature });
        break;
      case 'redacted_thinking':
        open = { index, kind: 'redacted_reasoning' };
        out.push({ type: 'block_start', index, block: { type: 'redacted_reasoning', data: b.data ?? '' } });
        break;
      case 'tool_use': {
        const toolIndex = this.toolCount++;
        open = { index, kind: 'tool_use', toolIndex };
        out.push({ type: 'block_start', index, block: { type: 'tool_use', id: b.id ?? '', name: b.name ?? '', toolIndex } });
        break;
      }
      default:
        break; // server_tool_use, web_search_tool_result, …: no core form
    }
    if (open) this.nextIndex++;
    this.open.set(event.index, open);
  }

  private onBlockDelta(event: Extract<AnthropicStreamEvent, { type: 'content_block_delta' }>, out: ChatEvent[]): void {
    const b = this.open.get(event.index);
    if (!b) return;
    const d = event.delta;
    if (d.type === 'text_delta' && b.kind === 'text' && d.text) out.push({ type: 'text_delta', index: b.index, text: d.text });
    else if (d.type === 'citations_delta' && b.kind === 'text' && d.citation)
      out.push({ type: 'citation_delta', index: b.index, citation: d.citation });
    else if (d.type === 'thinking_delta' && b.kind === 'reasoning' && d.thinking)
      out.push({ type: 'reasoning_delta', index: b.index, text: d.thinking });
    else if (d.type === 'signature_delta' && b.kind === 'reasoning' && d.signature)
      out.push({ type: 'signature_delta', index: b.index, signature: d.signature });
    else if (d.type === 'input_json_delta' && b.kind === 'tool_use' && d.partial_json)
      out.push({ type: 'tool_input_delta', index: b.index, toolIndex: b.toolIndex!, json: d.partial_json });
    // anything newer: no core form
  }

  private closeAll(out: ChatEvent[]): void {
    for (const [at, b] of [...this.open]) {
      this.open.delete(at);
      if (b) out.push({ type: 'block_stop', index: b.index });
    }
  }
}
