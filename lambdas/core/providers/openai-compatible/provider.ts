import type { ChatEvent } from '../../chat/events.js';
import { GatewayError } from '../../errors.js';
import { sanitizeUpstreamMessage } from '../sanitize-upstream-message.js';
import type { ChatProvider } from '../types.js';
import { buildUpstreamBody } from './build-request.js';
import { parseOpenAICompatibleConfig } from './config.js';
import { type Fetch, post } from './http.js';
import { completionEvents, OpenAIChunkState } from './stream-state.js';

/**
 * Chat on any OpenAI-compatible server (vLLM, Ollama, another gateway), through the core event stream, so every wire
 * API of the gateway works on it. Streams ask for `stream_options.include_usage` (the usage is billed); errors are
 * mapped by status to the gateway's neutral kinds, with the upstream's message sanitised.
 */
export function createOpenAICompatibleProvider(fetchFn: Fetch = (url, init) => fetch(url, init)): ChatProvider {
  return {
    kind: 'chat',
    async chat(req, model, ctx) {
      const config = parseOpenAICompatibleConfig(model.config);
      const body = buildUpstreamBody(req, config);
      const res = await post(fetchFn, config, '/chat/completions', body, ctx, req.stream);
      if (!req.stream) return replay(await completionOf(res));
      if (!res.body) throw new GatewayError(502, 'The upstream returned no stream.', { kind: 'upstream', code: 'upstream_error' });
      return relay(res.body, new OpenAIChunkState());
    },
  };
}

/**
 * A non-streamed answer's events. A body that is not JSON, or not a chat completion the state can read, is the
 * upstream's fault (502), never the gateway's 500; a body cut off by the timeout or the client is a stream error.
 */
async function completionOf(res: Response): Promise<ChatEvent[]> {
  const bad = (cause: unknown) =>
    new GatewayError(502, 'The upstream answered with a body that is not an OpenAI chat completion.', {
      kind: 'upstream',
      code: 'upstream_error',
      cause,
    });
  let text: string;
  try {
    text = await res.text();
  } catch (e) {
    throw new GatewayError(502, 'The upstream answer broke off.', { kind: 'upstream', code: 'upstream_error', cause: e });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw bad(e);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad(undefined);
  try {
    return completionEvents(parsed);
  } catch (e) {
    if (e instanceof GatewayError) throw e;
    throw bad(e);
  }
}

// eslint-disable-next-line @typescript-eslint/require-await -- an async generator, so the pipeline reads both paths alike
async function* replay(events: ChatEvent[]): AsyncGenerator<ChatEvent> {
  yield* events;
}

/** Server-sent events (`data: <json>` frames, `data: [DONE]` last) → chunk JSON → core events. */
async function* relay(body: ReadableStream<Uint8Array>, state: OpenAIChunkState): AsyncGenerator<ChatEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let done = false;
  const frames = function* (final: boolean): Generator<string> {
    let end: number;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0 || (final && buffer.trim() !== '')) {
      const frame = end >= 0 ? buffer.slice(0, end) : buffer;
      buffer = end >= 0 ? buffer.slice(end).replace(/^\r?\n\r?\n/, '') : '';
      const data = frame
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (data) yield data;
    }
  };
  const reader = body.getReader();
  try {
    for (;;) {
      const { value: piece, done: ended } = await reader.read();
      if (ended) break;
      buffer += decoder.decode(piece, { stream: true });
      for (const data of frames(false)) {
        if (data === '[DONE]') {
          done = true;
          break;
        }
        yield* state.next(parseJson(data));
      }
      if (done) break;
    }
    if (!done) for (const data of frames(true)) if (data !== '[DONE]') yield* state.next(parseJson(data));
  } catch (e) {
    if (e instanceof GatewayError) throw e;
    throw new GatewayError(502, 'The upstream stream broke off.', { kind: 'upstream', code: 'upstream_error', cause: e });
  } finally {
    // Stopped early (the client left, or [DONE] came before the body ended): release the connection.
    reader.cancel().catch(() => undefined);
  }
  yield* state.end();
}

function parseJson(data: string): unknown {
  try {
    const parsed: unknown = JSON.parse(data);
    if (parsed && typeof parsed === 'object' && 'error' in parsed) {
      const err = (parsed as { error?: { message?: unknown } }).error;
      throw new GatewayError(
        502,
        `The upstream failed mid-stream: ${sanitizeUpstreamMessage(String(typeof err?.message === 'string' ? err.message : 'error'))}`,
        {
          kind: 'upstream',
          code: 'upstream_error',
        },
      );
    }
    return parsed;
  } catch (e) {
    if (e instanceof GatewayError) throw e;
    throw new GatewayError(502, 'The upstream sent a stream frame that is not JSON.', { kind: 'upstream', code: 'upstream_error' });
  }
}

export const openAICompatibleProvider: ChatProvider = createOpenAICompatibleProvider();
