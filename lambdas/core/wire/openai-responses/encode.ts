/**
 * Core chat events → Responses stream events, and the response object they fold into (the non-stream answer is the
 * same encoder run to the end, so stream and non-stream cannot disagree). The rules clients enforce:
 * - `response.created` first; every event has a strictly increasing `sequence_number` (from 0);
 * - per content block one output item, numbered densely by `output_index` in the order items start;
 *   `response.output_item.added` comes before any delta of it and `response.output_item.done` carries the full item
 *   (Codex prints nothing without it);
 * - text → message / output_text; reasoning → reasoning item with summary text, its `encrypted_content` set at
 *   done; a tool call → function_call, or custom_tool_call for a custom tool (its input streamed as the decoded
 *   string, see StreamedStringField);
 * - the end: `response.completed` with usage, `response.incomplete` (max tokens, content filter), or after a failure
 *   an `error` event followed by `response.failed` (Codex ignores `error` and reports `response.failed`).
 */
import { randomBytes } from 'node:crypto';
import type { BlockKind, ChatEvent, FinishReason } from '../../chat/events.js';
import type { GatewayError } from '../../errors.js';
import { promptTokensOf, type TokenUsage } from '../../usage.js';
import { CUSTOM_TOOL_INPUT } from './decode.js';
import type { SealedReasoning } from './reasoning-seal.js';
import { StreamedStringField } from './streamed-string-field.js';
import type { OutputItem, OutputTextPart, ResponseEvent, ResponseEventBody, ResponseObject, ResponseUsage } from './types.js';

/** The fields of the response object that echo the request (everything but status, output, usage and errors). */
export type ResponseEcho = Omit<ResponseObject, 'status' | 'output' | 'usage' | 'error' | 'incomplete_details' | 'completed_at'>;

export interface EncoderOptions {
  echo: ResponseEcho;
  customTools: ReadonlySet<string>;
  /** Seals reasoning for `encrypted_content`. */
  seal: (r: SealedReasoning) => string;
  /** Whether clients see `encrypted_content` (include: ["reasoning.encrypted_content"]); stored output always has it. */
  includeEncrypted: boolean;
}

export const newItemId = (prefix: string) => `${prefix}_${randomBytes(16).toString('hex')}`;

interface OpenItem {
  outputIndex: number;
  item: OutputItem;
  kind: BlockKind['type'];
  text: string;
  signature: string;
  json: string;
  field?: StreamedStringField;
}

function toResponsesUsage(u: TokenUsage): ResponseUsage {
  const input = promptTokensOf(u);
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u.cacheReadTokens },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens },
    total_tokens: input + u.outputTokens,
  };
}

/** One response's encoder (it holds the stream's state). */
export class ResponsesEncoder {
  private seq = 0;
  /** Output as stored: reasoning items always carry encrypted_content. */
  private readonly output: OutputItem[] = [];
  private readonly open = new Map<number, OpenItem>();
  /**
   * The item whose block just stopped, closed only when the next event comes: if that is the end of a response
   * cut by max_output_tokens, the item was cut too and closes as incomplete (as OpenAI's items do).
   */
  private stopped: OpenItem | undefined;
  private usage: TokenUsage | undefined;
  private finish: FinishReason | undefined;

  constructor(private readonly opts: EncoderOptions) {}

  /** response.created and response.in_progress. */
  start(): ResponseEvent[] {
    const snapshot = this.snapshot('in_progress');
    return [this.event({ type: 'response.created', response: snapshot }), this.event({ type: 'response.in_progress', response: snapshot })];
  }

  encode(ev: ChatEvent): ResponseEvent[] {
    if (this.stopped && ev.type !== 'usage' && ev.type !== 'finish') return [...this.closeStopped('completed'), ...this.encodeEvent(ev)];
    return this.encodeEvent(ev);
  }

  private closeStopped(status: 'completed' | 'incomplete'): ResponseEvent[] {
    const o = this.stopped;
    if (!o) return [];
    this.stopped = undefined;
    return this.finishItem(o, status);
  }

  private encodeEvent(ev: ChatEvent): ResponseEvent[] {
    switch (ev.type) {
      case 'block_start':
        return this.startItem(ev.index, ev.block);
      case 'text_delta': {
        const o = this.open.get(ev.index);
        if (o?.item.type !== 'message') return [];
        o.text += ev.text;
        return [this.event({ type: 'response.output_text.delta', ...this.ref(o), content_index: 0, delta: ev.text, logprobs: [] })];
      }
      case 'reasoning_delta': {
        const o = this.open.get(ev.index);
        if (o?.kind !== 'reasoning') return [];
        o.text += ev.text;
        return [this.event({ type: 'response.reasoning_summary_text.delta', ...this.ref(o), summary_index: 0, delta: ev.text })];
      }
      case 'signature_delta': {
        const o = this.open.get(ev.index);
        if (o) o.signature += ev.signature;
        return [];
      }
      case 'tool_input_delta': {
        const o = this.open.get(ev.index);
        if (!o) return [];
        o.json += ev.json;
        if (o.item.type === 'function_call') {
          return [this.event({ type: 'response.function_call_arguments.delta', ...this.ref(o), delta: ev.json })];
        }
        const text = o.field?.push(ev.json) ?? '';
        return text ? [this.event({ type: 'response.custom_tool_call_input.delta', ...this.ref(o), delta: text })] : [];
      }
      case 'block_stop': {
        const o = this.open.get(ev.index);
        if (!o) return [];
        this.open.delete(ev.index);
        this.stopped = o;
        return [];
      }
      case 'usage':
        this.usage = ev.usage;
        return [];
      case 'finish':
        this.finish ??= ev.reason;
        return [];
      case 'message_start':
      case 'citation_delta': // Claude's citations have no Responses form here (url_citation annotations are web-only)
      case 'error':
        return [];
    }
  }

  /** The final response and its closing events: response.completed or response.incomplete. */
  end(): { response: ResponseObject; events: ResponseEvent[] } {
    const incomplete =
      this.finish === 'max_tokens' || this.finish === 'context_window_exceeded'
        ? ({ reason: 'max_output_tokens' } as const)
        : this.finish === 'content_filter' || this.finish === 'refusal'
          ? ({ reason: 'content_filter' } as const)
          : null;
    const events = [...this.closeStopped(incomplete ? 'incomplete' : 'completed'), ...this.closeAll('incomplete')];
    const response = this.snapshot(incomplete ? 'incomplete' : 'completed', { incomplete_details: incomplete });
    events.push(this.event({ type: incomplete ? 'response.incomplete' : 'response.completed', response: this.forClient(response) }));
    return { response, events };
  }

  /** After a failure: the open items closed as incomplete, an `error` event, then response.failed. */
  fail(error: GatewayError): { response: ResponseObject; events: ResponseEvent[] } {
    const events = [...this.closeStopped('completed'), ...this.closeAll('incomplete')];
    const code = error.code ?? 'server_error';
    const response = this.snapshot('failed', { error: { code, message: error.message } });
    events.push(this.event({ type: 'error', code, message: error.message, param: error.param }));
    events.push(this.event({ type: 'response.failed', response: this.forClient(response) }));
    return { response, events };
  }

  /** A response as a client sees it: encrypted_content only when the request included it. */
  forClient(response: ResponseObject): ResponseObject {
    return this.opts.includeEncrypted ? response : { ...response, output: response.output.map(withoutEncryptedContent) };
  }

  private startItem(index: number, block: BlockKind): ResponseEvent[] {
    const outputIndex = this.output.length;
    let item: OutputItem;
    const open: OpenItem = { outputIndex, kind: block.type, text: '', signature: '', json: '', item: undefined as unknown as OutputItem };
    switch (block.type) {
      case 'text':
        item = { type: 'message', id: newItemId('msg'), status: 'in_progress', role: 'assistant', content: [] };
        break;
      case 'reasoning':
      case 'redacted_reasoning':
        item = { type: 'reasoning', id: newItemId('rs'), summary: [] };
        if (block.type === 'redacted_reasoning') open.text = block.data;
        break;
      case 'tool_use':
        if (this.opts.customTools.has(block.name)) {
          item = { type: 'custom_tool_call', id: newItemId('ctc'), status: 'in_progress', call_id: block.id, name: block.name, input: '' };
          open.field = new StreamedStringField(CUSTOM_TOOL_INPUT);
        } else {
          item = { type: 'function_call', id: newItemId('fc'), status: 'in_progress', call_id: block.id, name: block.name, arguments: '' };
        }
        break;
    }
    open.item = item;
    this.output.push(item);
    this.open.set(index, open);
    const events = [this.event({ type: 'response.output_item.added', output_index: outputIndex, item: structuredClone(item) })];
    if (item.type === 'message') {
      events.push(this.event({ type: 'response.content_part.added', ...this.ref(open), content_index: 0, part: textPart('') }));
    } else if (block.type === 'reasoning') {
      events.push(
        this.event({
          type: 'response.reasoning_summary_part.added',
          ...this.ref(open),
          summary_index: 0,
          part: { type: 'summary_text', text: '' },
        }),
      );
    }
    return events;
  }

  private finishItem(o: OpenItem, status: 'completed' | 'incomplete'): ResponseEvent[] {
    const events: ResponseEvent[] = [];
    let done: OutputItem;
    const item = o.item;
    switch (item.type) {
      case 'message': {
        const part = textPart(o.text);
        events.push(this.event({ type: 'response.output_text.done', ...this.ref(o), content_index: 0, text: o.text, logprobs: [] }));
        events.push(this.event({ type: 'response.content_part.done', ...this.ref(o), content_index: 0, part }));
        done = { ...item, status, content: [part] };
        break;
      }
      case 'reasoning': {
        const redacted = o.kind === 'redacted_reasoning';
        const summary = redacted ? [] : [{ type: 'summary_text' as const, text: o.text }];
        if (!redacted) {
          events.push(this.event({ type: 'response.reasoning_summary_text.done', ...this.ref(o), summary_index: 0, text: o.text }));
          events.push(this.event({ type: 'response.reasoning_summary_part.done', ...this.ref(o), summary_index: 0, part: summary[0] }));
        }
        const sealed: SealedReasoning = redacted
          ? { type: 'redacted_reasoning', data: o.text }
          : { type: 'reasoning', text: o.text, ...(o.signature ? { signature: o.signature } : {}) };
        done = { ...item, summary, encrypted_content: this.opts.seal(sealed) };
        break;
      }
      case 'function_call': {
        const args = o.json.trim() === '' ? '{}' : o.json;
        events.push(this.event({ type: 'response.function_call_arguments.done', ...this.ref(o), name: item.name, arguments: args }));
        done = { ...item, status, arguments: args };
        break;
      }
      case 'custom_tool_call': {
        const input = o.field?.found ? o.field.value : rawInput(o.json);
        events.push(this.event({ type: 'response.custom_tool_call_input.done', ...this.ref(o), input }));
        done = { ...item, status, input };
        break;
      }
    }
    this.output[o.outputIndex] = done;
    const shown = this.opts.includeEncrypted ? done : withoutEncryptedContent(done);
    events.push(this.event({ type: 'response.output_item.done', output_index: o.outputIndex, item: structuredClone(shown) }));
    return events;
  }

  private closeAll(status: 'incomplete'): ResponseEvent[] {
    const events: ResponseEvent[] = [];
    for (const [index, o] of [...this.open.entries()].sort((a, b) => a[1].outputIndex - b[1].outputIndex)) {
      this.open.delete(index);
      events.push(...this.finishItem(o, status));
    }
    return events;
  }

  private snapshot(
    status: ResponseObject['status'],
    extra: Partial<Pick<ResponseObject, 'error' | 'incomplete_details'>> = {},
  ): ResponseObject {
    const final = status !== 'in_progress';
    return {
      ...this.opts.echo,
      status,
      // OpenAI: "present only when the status is completed" (an incomplete or failed response has none).
      completed_at: status === 'completed' ? Math.floor(Date.now() / 1000) : null,
      error: extra.error ?? null,
      incomplete_details: extra.incomplete_details ?? null,
      output: final ? this.output.map((i) => structuredClone(i)) : [],
      usage: final && this.usage ? toResponsesUsage(this.usage) : null,
    };
  }

  private ref(o: OpenItem) {
    return { item_id: o.item.id, output_index: o.outputIndex };
  }

  private event(body: ResponseEventBody): ResponseEvent {
    return { ...body, sequence_number: this.seq++ };
  }
}

const textPart = (text: string): OutputTextPart => ({ type: 'output_text', text, annotations: [], logprobs: [] });

export function withoutEncryptedContent(item: OutputItem): OutputItem {
  if (item.type !== 'reasoning' || item.encrypted_content === undefined) return item;
  const { encrypted_content: _omitted, ...rest } = item;
  return rest;
}

/**
 * The input of a custom tool call whose JSON had no string `input` property (a model that named it differently):
 * the only string value of the object if there is exactly one, else the JSON text as the model wrote it.
 */
function rawInput(json: string): string {
  try {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed === 'string') return parsed;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const strings = Object.values(parsed).filter((v): v is string => typeof v === 'string');
      if (strings.length === 1) return strings[0];
    }
  } catch {
    // not JSON: hand it over as it came
  }
  return json;
}
