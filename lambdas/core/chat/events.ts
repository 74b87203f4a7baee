/**
 * The typed event stream of one chat call. Providers produce it from their upstream's stream (or from a
 * non-streaming answer, replayed as events); every wire API encodes it (OpenAI chunks, Anthropic SSE, Responses
 * events, a Feishu card); settlement and records fold it. Non-streaming answers are the same stream folded
 * (chat/fold.ts), so stream and non-stream can never disagree.
 *
 * Guarantees a provider gives (tested on every fixture by chat/check-events.ts):
 * - `message_start` comes first, once.
 * - A content block is opened by `block_start` before any of its deltas and closed by one `block_stop`; blocks
 *   are numbered by `index`, dense from 0 in the order they start (the provider's own block numbering is mapped).
 * - Tool calls are numbered by `toolIndex`, dense from 0 among tool calls only.
 * - `finish` comes once, after the last block; `usage` carries the upstream's cumulative totals and may come
 *   more than once (the last one counts), before or after `finish`.
 * - A failure is thrown by the iterator (as a GatewayError); the pipeline turns it into a final `error` event.
 */
import type { GatewayError } from '../errors.js';
import type { TokenUsage } from '../usage.js';

/** Why the model stopped, in neutral terms (each wire API maps it to its own vocabulary). */
export type FinishReason =
  | 'end_turn'
  | 'stop_sequence'
  | 'max_tokens'
  /** The conversation filled the model's context window (Claude's `model_context_window_exceeded`). */
  | 'context_window_exceeded'
  | 'tool_use'
  /** A guardrail or content filter stopped the answer. */
  | 'content_filter'
  /** The model declined (Claude's `refusal`). */
  | 'refusal'
  /** A long-running turn paused by the upstream (Claude's `pause_turn`). */
  | 'pause_turn';

/** A citation of a source document, opaque to the core: in Anthropic's shape (Claude's citations), passed on as is. */
export type Citation = Record<string, unknown>;

export type BlockKind =
  /** `cited`: the upstream may attach citations to this block (Claude with citations enabled on a document). */
  | { type: 'text'; cited?: boolean }
  /**
   * `signed`: the upstream signs this block (a signature follows before its block_stop), so it can be replayed to
   * it; unset when the provider cannot know before the block ends.
   */
  | { type: 'reasoning'; signed?: boolean }
  /** Reasoning the upstream withheld; `data` is opaque and must be sent back as it is. */
  | { type: 'redacted_reasoning'; data: string }
  | { type: 'tool_use'; id: string; name: string; toolIndex: number };

export type ChatEvent =
  | { type: 'message_start'; /** The upstream's message id, when it has one. */ upstreamId?: string }
  | { type: 'block_start'; index: number; block: BlockKind }
  | { type: 'text_delta'; index: number; text: string }
  | { type: 'citation_delta'; index: number; citation: Citation }
  | { type: 'reasoning_delta'; index: number; text: string }
  | { type: 'signature_delta'; index: number; signature: string }
  | { type: 'tool_input_delta'; index: number; toolIndex: number; json: string }
  | { type: 'block_stop'; index: number }
  | { type: 'usage'; usage: TokenUsage }
  | { type: 'finish'; reason: FinishReason; /** The stop sequence that ended the answer, when one did. */ stopSequence?: string }
  /** Only from the pipeline: the call failed after it started; nothing follows. */
  | { type: 'error'; error: GatewayError };
