/**
 * Reads the gateway's own /v1 stream (what runChat returns for `stream: true`) back into events, so the bot
 * consumes exactly what an HTTP client would: `data: <json>` chunks, `: comment` keep-alives (skipped), an in-band
 * `data: {"error": ...}` frame, and the closing `data: [DONE]`.
 */
import type { ChatCompletionChunk } from '../openai/types.js';

export type SseEvent =
  | { kind: 'chunk'; chunk: ChatCompletionChunk }
  | { kind: 'error'; error: { message: string; type?: string; code?: string | null } }
  | { kind: 'done' };

function toEvent(data: string): SseEvent | undefined {
  if (data === '[DONE]') return { kind: 'done' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const err = (parsed as { error?: unknown }).error;
  if (err && typeof err === 'object') {
    const e = err as { message?: unknown; type?: unknown; code?: unknown };
    return {
      kind: 'error',
      error: {
        message: typeof e.message === 'string' ? e.message : 'Upstream error.',
        ...(typeof e.type === 'string' ? { type: e.type } : {}),
        code: typeof e.code === 'string' ? e.code : null,
      },
    };
  }
  return { kind: 'chunk', chunk: parsed as ChatCompletionChunk };
}

/** One event per `data:` frame, in order. */
export async function* readSseEvents(body: AsyncIterable<string | Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  const drain = function* (final: boolean): Generator<SseEvent> {
    let end: number;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0 || (final && buffer.trim() !== '')) {
      const frame = end >= 0 ? buffer.slice(0, end) : buffer;
      buffer = end >= 0 ? buffer.slice(buffer.slice(end).match(/^\r?\n\r?\n/)![0].length + end) : '';
      const data = frame
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n');
      if (!data) continue;
      const ev = toEvent(data);
      if (ev) yield ev;
    }
  };
  for await (const piece of body) {
    buffer += typeof piece === 'string' ? piece : decoder.decode(piece, { stream: true });
    yield* drain(false);
  }
  buffer += decoder.decode();
  yield* drain(true);
}
