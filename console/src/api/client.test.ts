import { describe, expect, it } from 'vitest';
import { ApiError, createApiClient, errorFromBody, joinUrl, loadConfig } from './client';

/** A fetch stand-in that records each request and answers from a script. */
function fakeFetch(answer: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fn = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    calls.push({ url, init });
    return answer(url, init);
  }) as typeof fetch;
  return { fn, calls };
}

/** The JSON a recorded request sent: the client sends its bodies as strings. */
function sentJson(init: RequestInit): unknown {
  if (typeof init.body !== 'string') throw new Error(`expected a string body, got ${typeof init.body}`);
  return JSON.parse(init.body);
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function sseResponse(chunks: string[]): Response {
  const enc = new TextEncoder();
  return new Response(
    new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(enc.encode(chunk));
        c.close();
      },
    }),
    { status: 200, headers: { 'content-type': 'text/event-stream' } },
  );
}

const client = (fetchImpl: typeof fetch, key: string | null = 'br-test', bases = { apiBase: '', chatBase: '' }) =>
  createApiClient({ ...bases, getKey: () => key, fetch: fetchImpl });

describe('joinUrl', () => {
  it('joins bases with or without a trailing slash and drops empty query values', () => {
    expect(joinUrl('https://api.example/', '/admin/api-key/list', { q: '', group_id: 3, role: undefined, limit: 20 })).toBe(
      'https://api.example/admin/api-key/list?group_id=3&limit=20',
    );
    expect(joinUrl('', '/user/api-key/mine')).toBe('/user/api-key/mine');
  });
});

describe('the /admin and /user envelope', () => {
  it('sends the key as a bearer token and returns data', async () => {
    const f = fakeFetch(() => json(200, { success: true, data: { id: 1, role: 'admin' } }));
    await expect(client(f.fn).get('/user/api-key/mine')).resolves.toEqual({ id: 1, role: 'admin' });
    expect(new Headers(f.calls[0].init.headers).get('authorization')).toBe('Bearer br-test');
  });

  it('posts JSON bodies', async () => {
    const f = fakeFetch(() => json(200, { success: true, data: { id: 9 } }));
    await client(f.fn, 'k', { apiBase: 'https://api.example/', chatBase: '' }).post('/admin/group/save', { name: 'g' });
    expect(f.calls[0].url).toBe('https://api.example/admin/group/save');
    expect(f.calls[0].init.method).toBe('POST');
    expect(new Headers(f.calls[0].init.headers).get('content-type')).toBe('application/json');
    expect(sentJson(f.calls[0].init)).toEqual({ name: 'g' });
  });

  it("turns an error envelope into an ApiError with the backend's message, status and code", async () => {
    const f = fakeFetch(() =>
      json(403, { success: false, error: { code: 'permission_denied', message: 'This route needs an admin key.' } }),
    );
    const err = await client(f.fn)
      .get('/admin/api-key/list')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ message: 'This route needs an admin key.', status: 403, code: 'permission_denied' });
  });

  it('reports a route the backend does not have yet with its 404 message', async () => {
    const f = fakeFetch(() =>
      json(404, { success: false, error: { code: 'not_found', message: 'No route POST /admin/api-key/disable.' } }),
    );
    await expect(client(f.fn).post('/admin/api-key/disable', { id: 1 })).rejects.toThrow('No route POST /admin/api-key/disable.');
  });

  it('says what happened when the answer is not JSON or the network fails', async () => {
    const html = fakeFetch(() => new Response('<html>Bad gateway</html>', { status: 502 }));
    await expect(client(html.fn).get('/admin/model/list')).rejects.toMatchObject({ message: 'HTTP 502', status: 502 });
    const down = fakeFetch(() => {
      throw new TypeError('Failed to fetch');
    });
    await expect(client(down.fn).get('/admin/model/list')).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });
});

describe('errorFromBody', () => {
  it('reads OpenAI and Anthropic error shapes as well', () => {
    expect(
      errorFromBody(429, JSON.stringify({ error: { message: 'Quota used up.', type: 'insufficient_quota', code: 'insufficient_quota' } })),
    ).toMatchObject({
      message: 'Quota used up.',
      code: 'insufficient_quota',
    });
    expect(
      errorFromBody(401, JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: 'Invalid key.' } })),
    ).toMatchObject({
      message: 'Invalid key.',
      code: 'authentication_error',
    });
    expect(errorFromBody(500, 'plain text failure').message).toBe('HTTP 500: plain text failure');
  });
});

describe('chatStream', () => {
  const chunk = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
  const stream = [
    ': keep-alive\n\n',
    chunk({ id: 'chatcmpl-req-1', choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] }),
    chunk({ id: 'chatcmpl-req-1', choices: [{ index: 0, delta: { reasoning_content: 'hmm' } }] }),
    chunk({ id: 'chatcmpl-req-1', choices: [{ index: 0, delta: { content: 'Hel' } }] }),
    chunk({ id: 'chatcmpl-req-1', choices: [{ index: 0, delta: { content: 'lo' }, finish_reason: 'stop' }] }),
    chunk({
      id: 'chatcmpl-req-1',
      choices: [],
      usage: { prompt_tokens: 11, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 2 } },
    }),
    'data: [DONE]\n\n',
  ];

  it('asks for a stream with usage, names the session, and accumulates deltas as they come', async () => {
    // Split every frame in two so that events straddle reads.
    const pieces = stream.flatMap((s) => [s.slice(0, 5), s.slice(5)]);
    const f = fakeFetch(() => sseResponse(pieces));
    const updates: string[] = [];
    const result = await client(f.fn, 'br-user', { apiBase: '', chatBase: 'https://chat.example/' }).chatStream({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      sessionId: 's-1',
      onUpdate: (p) => updates.push(p.content),
    });
    expect(f.calls[0].url).toBe('https://chat.example/v1/chat/completions');
    expect(new Headers(f.calls[0].init.headers).get('session-id')).toBe('s-1');
    expect(sentJson(f.calls[0].init)).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(result).toMatchObject({
      id: 'chatcmpl-req-1',
      content: 'Hello',
      reasoning: 'hmm',
      finishReason: 'stop',
      usage: { prompt_tokens: 11, completion_tokens: 7, cache_read_tokens: 2, cache_write_tokens: 0 },
    });
    expect(updates).toContain('Hel');
    expect(updates[updates.length - 1]).toBe('Hello');
    expect(result.firstTokenMs).not.toBeNull();
  });

  it('rejects with the message of an in-band error frame', async () => {
    const f = fakeFetch(() =>
      sseResponse([stream[1], chunk({ error: { message: 'Upstream stream was cut off.', type: 'api_error', code: 'upstream_error' } })]),
    );
    await expect(client(f.fn).chatStream({ model: 'm', messages: [] })).rejects.toMatchObject({
      message: 'Upstream stream was cut off.',
      code: 'upstream_error',
    });
  });

  it('rejects a stream that ends without [DONE]', async () => {
    const f = fakeFetch(() => sseResponse([stream[1], stream[3]]));
    await expect(client(f.fn).chatStream({ model: 'm', messages: [] })).rejects.toMatchObject({ code: 'stream_truncated' });
  });

  it('rejects a refusal before the stream with its OpenAI error', async () => {
    const f = fakeFetch(() =>
      json(404, { error: { message: "The model 'x' does not exist.", type: 'invalid_request_error', code: 'model_not_found' } }),
    );
    await expect(client(f.fn).chatStream({ model: 'x', messages: [] })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
  });
});

describe('loadConfig', () => {
  it('reads the API bases from config.json', async () => {
    const f = fakeFetch(() => json(200, { apiBase: 'https://api.example/', chatBase: 'https://chat.example/' }));
    await expect(loadConfig(f.fn, '/console/config.json')).resolves.toEqual({
      apiBase: 'https://api.example/',
      chatBase: 'https://chat.example/',
    });
  });

  it('falls back to the same origin without one', async () => {
    await expect(loadConfig(fakeFetch(() => new Response('nope', { status: 404 })).fn)).resolves.toEqual({ apiBase: '', chatBase: '' });
    await expect(loadConfig(fakeFetch(() => new Response('<html>', { status: 200 })).fn)).resolves.toEqual({ apiBase: '', chatBase: '' });
  });
});
