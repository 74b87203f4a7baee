import type { ChatEvent } from '../../chat/events.js';
import { GatewayError } from '../../errors.js';
import { sanitizeUpstreamMessage } from '../sanitize-upstream-message.js';
import type { ChatProvider } from '../types.js';
import { buildUpstreamBody } from './build-request.js';
import { parseOpenAICompatibleConfig } from './config.js';
import { completionEvents, OpenAIChunkState } from './stream-state.js';

/** The HTTP call the provider makes; swapped for a fake in tests. */
export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

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
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: req.stream ? 'text/event-stream' : 'application/json',
        ...config.headers,
      };
      if (config.apiKey) headers.authorization = `Bearer ${config.apiKey}`;
      const timeout = AbortSignal.timeout(config.timeoutMs ?? 60_000);
      let res: Response;
      try {
        res = await fetchFn(`${config.baseUrl.replace(/\/+$/, '')}/chat/completions`, {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
          signal: AbortSignal.any([ctx.signal, timeout]),
        });
      } catch (e) {
        if (ctx.signal.aborted)
          throw new GatewayError(499, 'The request was cancelled.', { kind: 'cancelled', code: 'request_cancelled', cause: e });
        if (timeout.aborted)
          throw new GatewayError(504, 'The upstream did not answer in time.', {
            kind: 'timeout',
            code: 'upstream_timeout',
            retryable: true,
            cause: e,
          });
        throw new GatewayError(502, 'The upstream is unreachable.', {
          kind: 'upstream',
          code: 'upstream_unreachable',
          retryable: true,
          retryAfter: 2,
          cause: e,
        });
      }
      if (!res.ok) throw await upstreamError(res);
      if (!req.stream) return replay(completionEvents(await res.json()));
      if (!res.body) throw new GatewayError(502, 'The upstream returned no stream.', { kind: 'upstream', code: 'upstream_error' });
      return relay(res.body, new OpenAIChunkState());
    },
  };
}

async function upstreamError(res: Response): Promise<GatewayError> {
  let message = '';
  try {
    const j = (await res.json()) as { error?: { message?: unknown } | string; message?: unknown };
    const m = typeof j.error === 'string' ? j.error : (j.error?.message ?? j.message);
    message = typeof m === 'string' ? sanitizeUpstreamMessage(m) : '';
  } catch {
    /* not JSON */
  }
  const text = message || `HTTP ${res.status}`;
  const retryAfter = Number(res.headers.get('retry-after')) || undefined;
  if (res.status === 429)
    return new GatewayError(429, `The upstream is rate limiting: ${text}`, {
      kind: 'rate_limit',
      code: 'throttled',
      retryable: true,
      retryAfter: retryAfter ?? 2,
    });
  if (res.status === 400 || res.status === 422)
    return new GatewayError(400, text, { kind: 'invalid_request', code: 'upstream_validation_error' });
  if (res.status === 404)
    return new GatewayError(404, `The upstream does not know this model: ${text}`, { kind: 'not_found', code: 'upstream_model_not_found' });
  if (res.status === 401 || res.status === 403)
    return new GatewayError(502, 'The upstream refused the gateway’s credentials (check the model config).', {
      kind: 'upstream',
      code: 'upstream_auth_failed',
    });
  if (res.status === 503 || res.status === 504)
    return new GatewayError(503, `The upstream is unavailable: ${text}`, {
      kind: 'overloaded',
      code: 'upstream_unavailable',
      retryable: true,
      retryAfter: retryAfter ?? 2,
    });
  return new GatewayError(502, `The upstream failed: ${text}`, { kind: 'upstream', code: 'upstream_error' });
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
  try {
    for await (const piece of body) {
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
