import { readdirSync, readFileSync } from 'node:fs';
import type { ResponseStream } from '@aws-sdk/client-bedrock-runtime';
import type { ChatEvent } from '../../../../lambdas/core/chat/events.js';
import { ChatFold, type ChatResult } from '../../../../lambdas/core/chat/fold.js';
import { ClaudeStreamState } from '../../../../lambdas/core/providers/bedrock-anthropic/stream-state.js';

const FIXTURE_DIR = new URL('../../../fixtures/anthropic/', import.meta.url);

/**
 * Every recorded-style InvokeModelWithResponseStream scenario in test/fixtures/anthropic/ (a new file is picked up
 * by itself). Each entry is one stream frame as the SDK yields it, with the chunk's bytes shown decoded:
 * `{"chunk": <Anthropic event>}` or an exception member (`{"modelStreamErrorException": {...}}`).
 */
export const FIXTURES: readonly string[] = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

/** The fixtures whose stream does not end well (the provider throws after these events). */
export const FAILING = new Set(['mid-stream-exception', 'truncated']);

type Frame = { chunk?: unknown } & Record<string, unknown>;

/** The fixture as the SDK's ResponseStream items: chunk bytes encoded, exception members as they are. */
export function loadFrames(name: string): ResponseStream[] {
  const frames = JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURE_DIR), 'utf8')) as Frame[];
  return frames.map((f) =>
    f.chunk === undefined ? (f as ResponseStream) : { chunk: { bytes: new TextEncoder().encode(JSON.stringify(f.chunk)) } },
  );
}

/** The Anthropic events of a fixture (what Bedrock's chunks carry). */
export function loadAnthropicEvents(name: string): Record<string, unknown>[] {
  const frames = JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURE_DIR), 'utf8')) as Frame[];
  return frames.flatMap((f) => (f.chunk === undefined ? [] : [f.chunk as Record<string, unknown>]));
}

export interface Replay {
  events: ChatEvent[];
  result: ChatResult;
  /** What the stream state threw (an exception frame, a cut-off stream), if anything. */
  error: unknown;
}

/** Frames → ClaudeStreamState → core events, the way the provider relays them (exception members thrown). */
export function replay(name: string): Replay {
  const state = new ClaudeStreamState();
  const events: ChatEvent[] = [];
  let error: unknown;
  try {
    for (const frame of loadFrames(name)) {
      const exception = Object.entries(frame).find(([k]) => k.endsWith('Exception'));
      if (exception) throw Object.assign(new Error(String((exception[1] as { message?: string }).message)), { name: exception[0] });
      if (frame.chunk?.bytes) events.push(...state.nextChunk(frame.chunk.bytes));
    }
    events.push(...state.end());
  } catch (e) {
    error = e;
  }
  return { events, result: fold(events), error };
}

export function fold(events: readonly ChatEvent[]): ChatResult {
  const f = new ChatFold();
  for (const ev of events) f.add(ev);
  return f.result();
}
