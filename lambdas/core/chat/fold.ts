import { type TokenUsage, zeroUsage } from '../usage.js';
import type { ChatEvent, Citation, FinishReason } from './events.js';

/** One content block of a finished (or partial) answer, in the order the model produced them. */
export type ResultBlock =
  | { type: 'text'; text: string; /** Present on a cited block (citations enabled), in the order they came. */ citations?: Citation[] }
  | { type: 'reasoning'; text: string; signature?: string }
  | { type: 'redacted_reasoning'; data: string }
  | { type: 'tool_use'; id: string; name: string; toolIndex: number; /** The input JSON as streamed. */ json: string };

interface ToolCallResult {
  id: string;
  name: string;
  /** JSON text of the input, as the model produced it. */
  arguments: string;
}

/** What one call produced: for non-stream answers, settlement and records. */
export interface ChatResult {
  blocks: ResultBlock[];
  /** Every text block, joined. */
  text: string;
  /** Every reasoning block's text, joined. */
  reasoning: string;
  toolCalls: ToolCallResult[];
  finishReason: FinishReason | null;
  stopSequence?: string;
  usage: TokenUsage;
  /** The upstream's id of the message, when it gave one. */
  upstreamId?: string;
  /** Whether any usage event arrived (an interrupted call may have none). */
  usageReported: boolean;
}

/**
 * Folds a chat event stream into its result, one event at a time, so that a partial answer (a stream cut short)
 * is always available. Non-streaming responses are exactly this fold of the same events.
 */
export class ChatFold {
  private readonly blocks: ResultBlock[] = [];
  private readonly byIndex = new Map<number, ResultBlock>();
  private finishReason: FinishReason | null = null;
  private stopSequence: string | undefined;
  private usage: TokenUsage = zeroUsage();
  private usageReported = false;
  private upstreamId: string | undefined;

  add(ev: ChatEvent): void {
    switch (ev.type) {
      case 'message_start':
        this.upstreamId = ev.upstreamId;
        return;
      case 'block_start': {
        const b = ev.block;
        const block: ResultBlock =
          b.type === 'tool_use'
            ? { type: 'tool_use', id: b.id, name: b.name, toolIndex: b.toolIndex, json: '' }
            : b.type === 'redacted_reasoning'
              ? { type: 'redacted_reasoning', data: b.data }
              : b.type === 'reasoning'
                ? { type: 'reasoning', text: '' }
                : b.cited
                  ? { type: 'text', text: '', citations: [] }
                  : { type: 'text', text: '' };
        this.blocks.push(block);
        this.byIndex.set(ev.index, block);
        return;
      }
      case 'text_delta': {
        const block = this.byIndex.get(ev.index);
        if (block?.type === 'text') block.text += ev.text;
        return;
      }
      case 'citation_delta': {
        const block = this.byIndex.get(ev.index);
        if (block?.type === 'text') (block.citations ??= []).push(ev.citation);
        return;
      }
      case 'reasoning_delta': {
        const block = this.byIndex.get(ev.index);
        if (block?.type === 'reasoning') block.text += ev.text;
        return;
      }
      case 'signature_delta': {
        const block = this.byIndex.get(ev.index);
        if (block?.type === 'reasoning') block.signature = (block.signature ?? '') + ev.signature;
        return;
      }
      case 'tool_input_delta': {
        const block = this.byIndex.get(ev.index);
        if (block?.type === 'tool_use') block.json += ev.json;
        return;
      }
      case 'usage':
        this.usage = { ...ev.usage };
        this.usageReported = true;
        return;
      case 'finish':
        this.finishReason ??= ev.reason;
        this.stopSequence ??= ev.stopSequence;
        return;
      case 'block_stop':
      case 'error':
        return;
    }
  }

  result(): ChatResult {
    const blocks = this.blocks.map((b) => (b.type === 'text' && b.citations ? { ...b, citations: [...b.citations] } : { ...b }));
    const text = blocks.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
    const reasoning = blocks.flatMap((b) => (b.type === 'reasoning' ? [b.text] : [])).join('');
    const toolCalls = blocks.flatMap((b) => (b.type === 'tool_use' ? [{ id: b.id, name: b.name, arguments: b.json }] : []));
    return {
      blocks,
      text,
      reasoning,
      toolCalls,
      finishReason: this.finishReason,
      ...(this.stopSequence === undefined ? {} : { stopSequence: this.stopSequence }),
      usage: { ...this.usage },
      ...(this.upstreamId === undefined ? {} : { upstreamId: this.upstreamId }),
      usageReported: this.usageReported,
    };
  }
}

/** The whole stream folded (the non-streaming path). A failure thrown by the stream propagates. */
export async function foldEvents(events: AsyncIterable<ChatEvent>): Promise<ChatResult> {
  const fold = new ChatFold();
  for await (const ev of events) {
    if (ev.type === 'error') throw ev.error;
    fold.add(ev);
  }
  return fold.result();
}
