import { readFileSync } from 'node:fs';
import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionChunk } from '../../../lambdas/core/openai/types.js';
import { ConverseStreamState, type StreamOptions } from '../../../lambdas/core/providers/bedrock-converse/stream-state.js';

/** A recorded-style ConverseStream event sequence from test/fixtures/converse/<name>.json. */
export function loadEvents(name: string): ConverseStreamOutput[] {
  return JSON.parse(readFileSync(new URL(`../../fixtures/converse/${name}.json`, import.meta.url), 'utf8'));
}

export const META: StreamOptions = {
  id: 'chatcmpl-req-1',
  created: 1_700_000_000,
  model: 'claude-sonnet',
  structuredToolName: undefined,
  includeUsage: false,
};

export function replay(name: string, opts: Partial<StreamOptions> = {}) {
  const state = new ConverseStreamState({ ...META, ...opts });
  const chunks: ChatCompletionChunk[] = [];
  for (const event of loadEvents(name)) chunks.push(...state.next(event));
  let endError: unknown;
  try {
    chunks.push(...state.end());
  } catch (e) {
    endError = e;
  }
  return { chunks, outcome: state.outcome(), endError };
}

/** The choice deltas and finish reasons only, for exact sequence assertions. */
export const deltas = (chunks: ChatCompletionChunk[]) =>
  chunks.map((c) => (c.choices.length === 0 ? { usage: c.usage } : { delta: c.choices[0]!.delta, finish: c.choices[0]!.finish_reason }));
