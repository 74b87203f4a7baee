import { readSse } from './sse';

/**
 * The console's one door to the gateway. /admin and /user answer `{success, data}` envelopes; /v1 answers OpenAI
 * shapes. Every failure becomes an ApiError carrying the backend's own message (or, when there is no JSON body,
 * the HTTP status), so pages can always show why.
 */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiConfig {
  /** Base of /admin and /user ('' = same origin). The stack's HttpApiUrl. */
  apiBase: string;
  /** Base of /v1 ('' = same origin). The stack's ChatFunctionUrl. */
  chatBase: string;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface ApiClientOptions extends ApiConfig {
  /** The signed-in key, read at each call. */
  getKey: () => string | null;
  fetch?: typeof fetch;
}

/** Joins a base URL (with or without a trailing slash) and an absolute path. */
export function joinUrl(base: string, path: string, query?: Query): string {
  const url = `${base.replace(/\/+$/, '')}${path}`;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null || v === '') continue;
    params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${url}?${qs}` : url;
}

/** The message of an error body in any of the gateway's shapes: envelope, OpenAI, Anthropic, or plain text. */
export function errorFromBody(status: number, text: string): ApiError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const err = (body as { error?: { message?: unknown; code?: unknown; type?: unknown } } | undefined)?.error;
  if (err && typeof err.message === 'string') {
    const code = typeof err.code === 'string' ? err.code : typeof err.type === 'string' ? err.type : null;
    return new ApiError(err.message, status, code);
  }
  const snippet = text.trim().slice(0, 200);
  return new ApiError(snippet && !snippet.startsWith('<') ? `HTTP ${status}: ${snippet}` : `HTTP ${status}`, status);
}

/** The pieces of a streamed chat completion, accumulated. */
export interface ChatResult {
  id: string | null;
  content: string;
  reasoning: string;
  finishReason: string | null;
  usage: { prompt_tokens: number; completion_tokens: number; cache_read_tokens: number; cache_write_tokens: number } | null;
  /** Milliseconds from the request to the first content or reasoning delta. */
  firstTokenMs: number | null;
  totalMs: number;
}

export type ChatContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string | ChatContentPart[];
}

/**
 * What the console reads of one `data:` frame of a streamed chat completion: an OpenAI chat.completion.chunk, or
 * the in-band error frame of a failure after the stream started. Every field may be missing.
 */
interface StreamChunk {
  id?: string;
  choices?: StreamChoice[];
  usage?: StreamUsage | null;
  error?: { message?: string; code?: string | null; type?: string | null };
}

interface StreamChoice {
  delta?: { content?: string | null; reasoning_content?: string | null };
  finish_reason?: string | null;
}

interface StreamUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number; cache_write_tokens?: number } | null;
  cache_creation_input_tokens?: number;
}

export interface ChatStreamOptions {
  model: string;
  messages: ChatMessage[];
  sessionId?: string;
  maxTokens?: number;
  signal?: AbortSignal;
  /** Called after each delta with everything received so far. */
  onUpdate?: (partial: ChatResult) => void;
}

export function createApiClient(opts: ApiClientOptions) {
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  const headers = (json: boolean, extra: Record<string, string> = {}) => {
    const h: Record<string, string> = { accept: 'application/json', ...extra };
    const key = opts.getKey();
    if (key) h.authorization = `Bearer ${key}`;
    if (json) h['content-type'] = 'application/json';
    return h;
  };

  async function send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await doFetch(url, init);
    } catch (e) {
      if ((e as Error)?.name === 'AbortError') throw e;
      throw new ApiError(`Network error: the gateway did not answer (${(e as Error)?.message ?? 'fetch failed'}).`, 0, 'network_error');
    }
  }

  /** An /admin or /user call: the `data` of its envelope, or an ApiError. */
  async function call<T>(method: 'GET' | 'POST', path: string, query?: Query, body?: unknown): Promise<T> {
    const res = await send(joinUrl(opts.apiBase, path, query), {
      method,
      headers: headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw errorFromBody(res.status, text);
    let parsed: { success?: boolean; data?: T } | undefined;
    try {
      parsed = JSON.parse(text) as { success?: boolean; data?: T } | undefined;
    } catch {
      throw new ApiError(`The gateway answered ${path} with something that is not JSON.`, res.status, 'bad_response');
    }
    if (!parsed || parsed.success !== true) throw errorFromBody(res.status, text);
    return parsed.data as T;
  }

  async function v1<T>(path: string): Promise<T> {
    const res = await send(joinUrl(opts.chatBase, path), { headers: headers(false) });
    const text = await res.text();
    if (!res.ok) throw errorFromBody(res.status, text);
    return JSON.parse(text) as T;
  }

  /**
   * POST /v1/chat/completions with stream:true and include_usage, decoded as it arrives. An in-band error frame
   * (a failure after the stream started) rejects with its message; a stream that ends without `[DONE]` too.
   */
  async function chatStream(o: ChatStreamOptions): Promise<ChatResult> {
    const started = performance.now();
    const extra: Record<string, string> = { accept: 'text/event-stream' };
    if (o.sessionId) extra['session-id'] = o.sessionId;
    const res = await send(joinUrl(opts.chatBase, '/v1/chat/completions'), {
      method: 'POST',
      headers: headers(true, extra),
      signal: o.signal,
      body: JSON.stringify({
        model: o.model,
        messages: o.messages,
        stream: true,
        stream_options: { include_usage: true },
        ...(o.maxTokens ? { max_tokens: o.maxTokens } : {}),
      }),
    });
    if (!res.ok || !res.body) throw errorFromBody(res.status, await res.text());
    const result: ChatResult = { id: null, content: '', reasoning: '', finishReason: null, usage: null, firstTokenMs: null, totalMs: 0 };
    let done = false;
    for await (const ev of readSse(res.body, o.signal)) {
      if (ev.data === '[DONE]') {
        done = true;
        break;
      }
      let chunk: StreamChunk;
      try {
        chunk = JSON.parse(ev.data) as StreamChunk;
      } catch {
        continue;
      }
      if (chunk?.error) {
        const { message, code, type } = chunk.error;
        throw new ApiError(String(message ?? 'The stream failed.'), 200, code ?? type ?? null);
      }
      result.id ??= typeof chunk.id === 'string' ? chunk.id : null;
      for (const choice of chunk.choices ?? []) {
        const delta = choice.delta ?? {};
        if (typeof delta.content === 'string' && delta.content) result.content += delta.content;
        if (typeof delta.reasoning_content === 'string' && delta.reasoning_content) result.reasoning += delta.reasoning_content;
        if (choice.finish_reason) result.finishReason = choice.finish_reason;
      }
      if (result.firstTokenMs === null && (result.content || result.reasoning)) result.firstTokenMs = performance.now() - started;
      if (chunk.usage) {
        const u = chunk.usage;
        result.usage = {
          prompt_tokens: u.prompt_tokens ?? 0,
          completion_tokens: u.completion_tokens ?? 0,
          cache_read_tokens: u.prompt_tokens_details?.cached_tokens ?? 0,
          cache_write_tokens: u.prompt_tokens_details?.cache_write_tokens ?? u.cache_creation_input_tokens ?? 0,
        };
      }
      result.totalMs = performance.now() - started;
      o.onUpdate?.({ ...result });
    }
    result.totalMs = performance.now() - started;
    if (!done && !o.signal?.aborted) throw new ApiError('The stream ended before the answer was complete.', 200, 'stream_truncated');
    return result;
  }

  return {
    get: <T>(path: string, query?: Query) => call<T>('GET', path, query),
    post: <T>(path: string, body: unknown = {}) => call<T>('POST', path, undefined, body),
    v1,
    chatStream,
    config: { apiBase: opts.apiBase, chatBase: opts.chatBase } satisfies ApiConfig,
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

/**
 * Where the APIs are: `config.json` next to index.html (the stack deploys one with its API URLs); without one
 * (npm start, the dev server) everything is same-origin.
 */
export async function loadConfig(fetchImpl: typeof fetch = fetch, url = 'config.json'): Promise<ApiConfig> {
  try {
    const res = await fetchImpl(url, { cache: 'no-store' });
    if (!res.ok) return { apiBase: '', chatBase: '' };
    const body = (await res.json()) as Partial<ApiConfig>;
    return {
      apiBase: typeof body.apiBase === 'string' ? body.apiBase : '',
      chatBase: typeof body.chatBase === 'string' ? body.chatBase : '',
    };
  } catch {
    return { apiBase: '', chatBase: '' };
  }
}
