import { readdirSync, readFileSync } from 'node:fs';
import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { ChatEvent } from '../../../../lambdas/core/chat/events.js';
import { ChatFold, type ChatResult } from '../../../../lambdas/core/chat/fold.js';
import { ConverseStreamState } from '../../../../lambdas/core/providers/bedrock-converse/stream-state.js';
import { type CompletionMeta, OpenAIChatChunkEncoder } from '../../../../lambdas/core/wire/openai-chat/encode.js';
import type { ChatCompletionChunk } from '../../../../lambdas/core/wire/openai-chat/types.js';

const FIXTURE_DIR = new URL('../../../fixtures/converse/', import.meta.url);

/** Every recorded-style ConverseStream scenario in test/fixtures/converse/ (a new file is picked up by itself). */
export const FIXTURES: readonly string[] = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

/** A recorded-style ConverseStream event sequence from test/fixtures/converse/<name>.json. */
export function loadEvents(name: string): ConverseStreamOutput[] {
  return JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURE_DIR), 'utf8')) as ConverseStreamOutput[];
}

export const META: CompletionMeta = { id: 'chatcmpl-req-1', created: 1_700_000_000, model: 'claude-sonnet' };

export interface ReplayOptions {
  /** The response-format tool of the request, if one was forced. */
  structuredToolName?: string;
  /** The client's stream_options.include_usage. */
  includeUsage?: boolean;
}

export interface Replay {
  /** What the provider emitted (before a failure, if it failed). */
  events: ChatEvent[];
  /** What an OpenAI client received: the events through the chunk encoder, as the route relays them. */
  chunks: ChatCompletionChunk[];
  /** The events folded (what a non-stream answer, settlement and records see). */
  result: ChatResult;
  /** What ConverseStreamState threw, if the stream failed. */
  endError: unknown;
}

/**
 * Converse events → ConverseStreamState → core events → OpenAIChatChunkEncoder → chunks, the path a streamed
 * /v1/chat/completions answer takes. After a failure the encoder is not closed (the route sends an error frame).
 */
function replayEvents(source: readonly ConverseStreamOutput[], opts: ReplayOptions = {}): Replay {
  const state = new ConverseStreamState({ structuredToolName: opts.structuredToolName });
  const encoder = new OpenAIChatChunkEncoder(META, opts.includeUsage ?? false);
  const events: ChatEvent[] = [];
  const chunks: ChatCompletionChunk[] = [];
  const emit = (evs: ChatEvent[]) => {
    for (const ev of evs) {
      events.push(ev);
      chunks.push(...encoder.encode(ev));
    }
  };
  let endError: unknown;
  try {
    for (const e of source) emit(state.next(e));
    emit(state.end());
    chunks.push(...encoder.end());
  } catch (e) {
    endError = e;
  }
  return { events, chunks, result: fold(events), endError };
}

export const replay = (name: string, opts: ReplayOptions = {}): Replay => replayEvents(loadEvents(name), opts);

export function fold(events: readonly ChatEvent[]): ChatResult {
  const f = new ChatFold();
  for (const ev of events) f.add(ev);
  return f.result();
}

/** The choice deltas and finish reasons only, for exact sequence assertions. */
export const deltas = (chunks: ChatCompletionChunk[]) =>
  chunks.map((c) => (c.choices.length === 0 ? { usage: c.usage } : { delta: c.choices[0].delta, finish: c.choices[0].finish_reason }));
