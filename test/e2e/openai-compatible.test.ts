/**
 * The `openai-compatible` provider: a model row may point at any server that speaks OpenAI chat completions (vLLM,
 * Ollama, another gateway). A fake upstream in this process records what the gateway sends and answers scripted
 * chunks; the official openai SDK calls the gateway. Checked: streaming and not, tool calls, usage billed, the
 * upstream key sent but never shown, upstream errors mapped by status.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useTestGateway } from '../support/gateway.js';

type Answer = { status: number; json?: unknown; text?: string; chunks?: unknown[]; headers?: Record<string, string> };

/** A minimal OpenAI-compatible server: answers the queued replies in order, records every request. */
class FakeUpstream {
  readonly requests: Array<{ path: string; headers: IncomingMessage['headers']; body: Record<string, unknown> }> = [];
  private queue: Answer[] = [];
  private server?: Server;
  url = '';

  async start() {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => {
        this.requests.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(raw) as Record<string, unknown> });
        const a = this.queue.shift() ?? { status: 500, json: { error: { message: 'nothing queued' } } };
        if (a.chunks) {
          res.writeHead(a.status, { 'content-type': 'text/event-stream', ...a.headers });
          for (const c of a.chunks) res.write(`data: ${JSON.stringify(c)}\n\n`);
          res.end('data: [DONE]\n\n');
        } else {
          res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
          res.end(a.text ?? JSON.stringify(a.json));
        }
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }
  enqueue(...a: Answer[]) {
    this.queue.push(...a);
  }
  reset() {
    this.queue = [];
    this.requests.length = 0;
  }
  stop() {
    return new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

const ctx = useTestGateway({ config: { upstream: { maxAttempts: 1 } } });
const upstream = new FakeUpstream();
let key = '';
let keyId = 0;
let modelId = 0;

const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: 'c1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'llama',
  choices: [{ index: 0, delta, finish_reason: finish }],
});
/** A streamed text answer: the role, one chunk per text, stop, then a chunk with only the usage. */
const streamedText = (texts: string[], usage: { prompt_tokens: number; completion_tokens: number }): Answer => ({
  status: 200,
  chunks: [
    chunk({ role: 'assistant', content: '' }),
    ...texts.map((content) => chunk({ content })),
    chunk({}, 'stop'),
    { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'llama', choices: [], usage },
  ],
});
/** A non-streamed answer that is one tool call. */
const toolCallAnswer = (
  call: { id: string; name: string; arguments: string },
  usage: { prompt_tokens: number; completion_tokens: number },
): Answer => ({
  status: 200,
  json: {
    id: 'x',
    object: 'chat.completion',
    created: 1,
    model: 'llama',
    choices: [
      {
        index: 0,
        finish_reason: 'tool_calls',
        message: {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }],
        },
      },
    ],
    usage,
  },
});

beforeAll(async () => {
  await upstream.start();
  const saved = await ctx.admin.post('/admin/model/save', {
    name: 'local-llama',
    provider: 'openai-compatible',
    config: { baseUrl: upstream.url, modelId: 'llama3.1:8b', apiKey: 'sk-upstream-secret-123456', headers: { 'X-Org': 'team-a' } },
    price_in: 1,
    price_out: 2,
  });
  expect(saved.status, JSON.stringify(saved.body)).toBe(200);
  modelId = saved.body.data.id;
  const k = (await ctx.admin.post('/admin/api-key/apply', { name: 'oa-compat', role: 'user', email: '', month_quota: 10 })).body.data;
  await ctx.admin.post('/admin/api-key/bind-model', { key_id: k.id, model_id: modelId });
  key = k.api_key;
  keyId = k.id;
});
afterAll(async () => {
  await upstream.stop();
});
beforeEach(() => upstream.reset());

/** A plain non-streamed "ok" from the upstream. */
const okAnswer = (): Answer => ({
  status: 200,
  json: {
    id: 'z',
    object: 'chat.completion',
    created: 1,
    model: 'l',
    choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'ok' } }],
  },
});

const client = () => new OpenAI({ apiKey: key, baseURL: `${ctx.gw.url}/v1`, maxRetries: 0 });
const latestThread = async () =>
  (await ctx.gw.idle(), await ctx.admin.get(`/admin/thread/list?key_id=${keyId}&limit=1`)).body.data.items[0];

describe('openai-compatible provider', () => {
  it('streams the upstream answer and bills the usage it reports', async () => {
    upstream.enqueue(streamedText(['Hello', ', world'], { prompt_tokens: 1000, completion_tokens: 500 }));
    const stream = await client().chat.completions.create({
      model: 'local-llama',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe('Hello, world');
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ prompt_tokens: 1000, completion_tokens: 500 });

    const sent = upstream.requests[0];
    expect(sent.headers.authorization).toBe('Bearer sk-upstream-secret-123456');
    expect(sent.headers['x-org']).toBe('team-a');
    expect(sent.body).toMatchObject({
      model: 'llama3.1:8b',
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      ],
    });
    // 1000 in at 1/M-token units and 500 out at 2: the thread's fee is exact.
    const t = await latestThread();
    expect(t).toMatchObject({ tokens_in: 1000, tokens_out: 500 });
    expect(t.fee).toBeCloseTo(0.001 * 1 + 0.0005 * 2, 9);
  });

  it('answers non-streaming requests, tool calls included, and sends tool results back in OpenAI form', async () => {
    upstream.enqueue(
      toolCallAnswer({ id: 'call_1', name: 'weather', arguments: '{"city":"Oslo"}' }, { prompt_tokens: 20, completion_tokens: 8 }),
    );
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: 'function',
        function: { name: 'weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
      },
    ];
    const first = await client().chat.completions.create({
      model: 'local-llama',
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools,
    });
    const call = first.choices[0].message.tool_calls![0];
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    expect(call).toMatchObject({ type: 'function', function: { name: 'weather' } });
    expect(JSON.parse((call as OpenAI.ChatCompletionMessageFunctionToolCall).function.arguments)).toEqual({ city: 'Oslo' });
    expect(first.usage).toMatchObject({ prompt_tokens: 20, completion_tokens: 8 });
    expect(upstream.requests[0].body).toMatchObject({ stream: false, tools: [{ type: 'function', function: { name: 'weather' } }] });

    upstream.enqueue({
      status: 200,
      json: {
        id: 'y',
        object: 'chat.completion',
        created: 1,
        model: 'llama',
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Sunny.' } }],
      },
    });
    const second = await client().chat.completions.create({
      model: 'local-llama',
      tools,
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        first.choices[0].message,
        { role: 'tool', tool_call_id: call.id, content: '{"sky":"clear"}' },
      ],
    });
    expect(second.choices[0].message.content).toBe('Sunny.');
    const msgs = upstream.requests[1].body.messages as Array<Record<string, unknown>>;
    expect(msgs[1]).toMatchObject({ role: 'assistant', tool_calls: [{ id: call.id, function: { name: 'weather' } }] });
    expect(msgs[2]).toEqual({ role: 'tool', tool_call_id: call.id, content: '{"sky":"clear"}' });
  });

  it('streams tool calls whose arguments arrive in pieces', async () => {
    upstream.enqueue({
      status: 200,
      chunks: [
        chunk({
          role: 'assistant',
          tool_calls: [{ index: 0, id: 'call_9', type: 'function', function: { name: 'weather', arguments: '' } }],
        }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '"Bergen"}' } }] }),
        chunk({}, 'tool_calls'),
      ],
    });
    const stream = await client().chat.completions.create({
      model: 'local-llama',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }],
      stream: true,
    });
    let args = '';
    let name = '';
    let finish: string | null = null;
    for await (const c of stream) {
      for (const t of c.choices[0]?.delta.tool_calls ?? []) {
        args += t.function?.arguments ?? '';
        name ||= t.function?.name ?? '';
      }
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(name).toBe('weather');
    expect(JSON.parse(args)).toEqual({ city: 'Bergen' });
    expect(finish).toBe('tool_calls');
  });

  it.each([
    [429, 429, 'rate_limit_error'],
    [400, 400, 'invalid_request_error'],
    [401, 502, 'api_error'],
    [503, 503, 'api_error'],
    [500, 502, 'api_error'],
  ])('an upstream %i answers %i', async (upstreamStatus, status, type) => {
    upstream.enqueue({ status: upstreamStatus, json: { error: { message: 'upstream says no' } } });
    const err = await client()
      .chat.completions.create({ model: 'local-llama', messages: [{ role: 'user', content: 'Hi' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
    expect((err as { error?: { type?: string } }).error?.type).toBe(type);
    // The upstream's credentials never reach the client.
    expect(JSON.stringify((err as { error?: unknown }).error)).not.toContain('sk-upstream');
  });

  it('shows the upstream key and header values masked, and masked values saved back keep the real ones', async () => {
    const list = (await ctx.admin.get('/admin/model/list?limit=100')).body.data;
    const row = list.items.find((m) => m.id === modelId)!;
    expect(String(row.config.apiKey)).not.toContain('secret-123456');
    expect(JSON.stringify(row.config.headers)).not.toContain('team-a');
    const again = await ctx.admin.post('/admin/model/save', {
      id: modelId,
      name: 'local-llama',
      provider: 'openai-compatible',
      config: row.config,
      price_in: 1,
      price_out: 2,
    });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    upstream.enqueue(okAnswer());
    await client().chat.completions.create({ model: 'local-llama', messages: [{ role: 'user', content: 'Hi' }] });
    expect(upstream.requests[0].headers.authorization).toBe('Bearer sk-upstream-secret-123456');
    expect(upstream.requests[0].headers['x-org']).toBe('team-a');
  });

  it('a new baseUrl with the stored secrets sent back masked is a 400: they are not sent to another host', async () => {
    const row = (await ctx.admin.get('/admin/model/list?limit=100')).body.data.items.find((m) => m.id === modelId)!;
    const moved = (config: Record<string, unknown>) =>
      ctx.admin.post('/admin/model/save', {
        id: modelId,
        name: 'local-llama',
        provider: 'openai-compatible',
        config,
        price_in: 1,
        price_out: 2,
      });
    const elsewhere = 'http://127.0.0.1:9/v1';
    const maskedKey = await moved({ ...row.config, baseUrl: elsewhere, headers: { 'X-Org': 'team-a' } });
    expect(maskedKey.status).toBe(400);
    expect(JSON.stringify(maskedKey.body)).toContain('config.apiKey');
    const maskedHeader = await moved({ ...row.config, baseUrl: elsewhere, apiKey: 'sk-new-key' });
    expect(maskedHeader.status).toBe(400);
    expect(JSON.stringify(maskedHeader.body)).toContain('config.headers.X-Org');
    // nothing was written: the model still calls the old upstream with the old secrets
    upstream.enqueue(okAnswer());
    await client().chat.completions.create({ model: 'local-llama', messages: [{ role: 'user', content: 'Hi' }] });
    expect(upstream.requests[0].headers.authorization).toBe('Bearer sk-upstream-secret-123456');
  });

  it('an answer that is not a chat completion (not JSON, an array, no choices) is a 502, not a 500', async () => {
    for (const bad of [
      { status: 200, text: 'data: {"choices":[]}\n\n' },
      { status: 200, json: [] },
      { status: 200, json: { choices: 'x' } },
    ]) {
      upstream.enqueue(bad);
      const err = await client()
        .chat.completions.create({ model: 'local-llama', messages: [{ role: 'user', content: 'Hi' }] })
        .catch((e: unknown) => e);
      expect(err, JSON.stringify(bad)).toMatchObject({ status: 502, error: { type: 'api_error' } });
    }
  });

  it('does not follow an upstream redirect (it would carry the prompt and headers to an unchecked host)', async () => {
    upstream.enqueue({ status: 307, headers: { location: 'http://127.0.0.1:9/steal' }, json: {} });
    const err = await client()
      .chat.completions.create({ model: 'local-llama', messages: [{ role: 'user', content: 'secret prompt' }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502 });
    expect(String((err as Error).message)).toContain('redirect');
    expect(upstream.requests).toHaveLength(1);
  });

  it('refuses a link-local or metadata base URL; loopback and private upstreams are fine', async () => {
    const save = (baseUrl: string) =>
      ctx.admin.post('/admin/model/save', {
        name: 'ssrf-probe',
        provider: 'openai-compatible',
        config: { baseUrl, modelId: 'x' },
        price_in: 1,
        price_out: 1,
      });
    for (const url of [
      'http://169.254.169.254/latest',
      'http://0xA9FEA9FE/v1',
      'http://[fd00:ec2::254]/v1',
      'http://[fe80::1]/v1',
      'http://[::ffff:169.254.169.254]/v1',
      'http://metadata.google.internal/v1',
      'http://0.0.0.0:8000/v1',
    ]) {
      const res = await save(url);
      expect(res.status, url).toBe(400);
      expect(JSON.stringify(res.body), url).toContain('link-local');
    }
    for (const url of ['http://127.0.0.1:11434/v1', 'http://10.0.0.5:8000/v1', 'http://vllm.internal:8000/v1']) {
      const res = await save(url);
      expect(res.status, url).toBe(200);
      await ctx.admin.post('/admin/model/delete', { id: res.body.data.id });
    }
  });

  it('serves embeddings from the upstream /embeddings, billed on the tokens it reports', async () => {
    const saved = await ctx.admin.post('/admin/model/save', {
      name: 'local-embed',
      provider: 'openai-compatible-embeddings',
      config: { baseUrl: upstream.url, modelId: 'nomic-embed-text' },
      price_in: 3,
      price_out: 0,
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    await ctx.admin.post('/admin/api-key/bind-model', { key_id: keyId, model_id: saved.body.data.id });
    upstream.enqueue({
      status: 200,
      json: {
        object: 'list',
        model: 'nomic',
        // Out of order on purpose: the gateway places vectors by index.
        data: [
          { object: 'embedding', index: 1, embedding: [0.5, -0.5] },
          { object: 'embedding', index: 0, embedding: [0.25, 0.75] },
        ],
        usage: { prompt_tokens: 2000, total_tokens: 2000 },
      },
    });
    const res = await client().embeddings.create({ model: 'local-embed', input: ['first', 'second'], encoding_format: 'float' });
    expect(res.data.map((d) => d.embedding)).toEqual([
      [0.25, 0.75],
      [0.5, -0.5],
    ]);
    expect(res.usage.prompt_tokens).toBe(2000);
    expect(upstream.requests[0]).toMatchObject({ path: '/v1/embeddings', body: { model: 'nomic-embed-text', input: ['first', 'second'] } });
    const t = await latestThread();
    expect(t.tokens_in).toBe(2000);
    expect(t.fee).toBeCloseTo(0.002 * 3, 9);
    // A chat model is not an embeddings model, and the other way round.
    await expect(
      client().chat.completions.create({ model: 'local-embed', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('usage it cannot bill as reported is bounded: negative counts bill 0, fractions round up, huge ones are capped', async () => {
    const before = (await ctx.admin.get(`/admin/api-key/list?limit=100`)).body.data.items.find((k) => k.id === keyId)!.total_fee;
    upstream.enqueue({ ...okAnswer(), json: { ...(okAnswer().json as object), usage: { prompt_tokens: 10, completion_tokens: -100000 } } });
    await client().chat.completions.create({ model: 'local-llama', messages: [{ role: 'user', content: 'Hi' }] });
    const negative = await latestThread();
    expect([negative.tokens_in, negative.tokens_out]).toEqual([10, 0]);
    expect(negative.fee).toBeGreaterThan(0); // price_in 1: 10 tokens, never a credit
    upstream.enqueue({ ...okAnswer(), json: { ...(okAnswer().json as object), usage: { prompt_tokens: 10.5, completion_tokens: 3.25 } } });
    await client().chat.completions.create({ model: 'local-llama', messages: [{ role: 'user', content: 'Hi' }] });
    const fractional = await latestThread();
    expect([fractional.tokens_in, fractional.tokens_out, fractional.status]).toEqual([11, 4, 'ok']); // settled, not retried for ever
    const after = (await ctx.admin.get(`/admin/api-key/list?limit=100`)).body.data.items.find((k) => k.id === keyId)!.total_fee;
    expect(after).toBeGreaterThan(before);
  });

  it('an answer whose upstream reports no usage is billed by the estimate, not free', async () => {
    upstream.enqueue(okAnswer());
    await client().chat.completions.create({ model: 'local-llama', messages: [{ role: 'user', content: 'Hello there, how are you?' }] });
    const t = await latestThread();
    expect(t.status).toBe('ok');
    expect(t.tokens_in).toBeGreaterThan(0);
    expect(t.tokens_out).toBeGreaterThanOrEqual(2); // "ok": at least its bytes
    expect(t.fee).toBeGreaterThan(0);
  });

  const streamedHello = () => streamedText(['Hello', ' there'], { prompt_tokens: 70, completion_tokens: 30 });

  it('serves Anthropic Messages clients through the same core stream (stream and not)', async () => {
    const anthropic = new Anthropic({ apiKey: key, baseURL: ctx.gw.url, maxRetries: 0 });
    upstream.enqueue(streamedHello());
    const streamed = await anthropic.messages
      .stream({ model: 'local-llama', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] })
      .finalMessage();
    expect(streamed.content).toEqual([expect.objectContaining({ type: 'text', text: 'Hello there' })]);
    expect(streamed.stop_reason).toBe('end_turn');
    expect(streamed.usage).toMatchObject({ input_tokens: 70, output_tokens: 30 });
    expect(upstream.requests[0].body).toMatchObject({
      model: 'llama3.1:8b',
      max_tokens: 100,
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user' }],
    });
    expect(await latestThread()).toMatchObject({ tokens_in: 70, tokens_out: 30 });

    upstream.enqueue({
      status: 200,
      json: {
        id: 'n',
        object: 'chat.completion',
        created: 1,
        model: 'l',
        choices: [{ index: 0, finish_reason: 'length', message: { role: 'assistant', content: 'Cut' } }],
      },
    });
    const whole = await anthropic.messages.create({ model: 'local-llama', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] });
    expect(whole.stop_reason).toBe('max_tokens');
    expect(whole.content).toEqual([expect.objectContaining({ type: 'text', text: 'Cut' })]);
  });

  it('serves OpenAI Responses clients through the same core stream (stream and not)', async () => {
    upstream.enqueue(streamedHello());
    const stream = client().responses.stream({ model: 'local-llama', instructions: 'Be brief.', input: 'Hi', store: false });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('Hello there');
    expect(final.usage).toMatchObject({ input_tokens: 70, output_tokens: 30 });
    expect(upstream.requests[0].body).toMatchObject({
      stream: true,
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user' }],
    });

    upstream.enqueue(toolCallAnswer({ id: 'call_7', name: 'lookup', arguments: '{"q":"x"}' }, { prompt_tokens: 9, completion_tokens: 4 }));
    const res = await client().responses.create({
      model: 'local-llama',
      input: 'Look it up',
      store: false,
      tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } }, strict: false }],
    });
    const call = res.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'lookup', arguments: '{"q":"x"}' });
    expect(upstream.requests[1].body).toMatchObject({ tools: [{ type: 'function', function: { name: 'lookup' } }] });
  });

  it('rejects a config that is not a credential-free http(s) URL', async () => {
    for (const baseUrl of ['file:///etc/passwd', 'http://user:pw@example.com/v1', 'not a url']) {
      const res = await ctx.admin.post('/admin/model/save', {
        name: 'bad-upstream',
        provider: 'openai-compatible',
        config: { baseUrl, modelId: 'm' },
        price_in: 0,
        price_out: 0,
      });
      expect(res.status, baseUrl).toBe(400);
    }
  });
});
