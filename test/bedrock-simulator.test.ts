import http2 from 'node:http2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  ModelStreamErrorException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import type { ConverseStreamOutput, Message } from '@aws-sdk/client-bedrock-runtime';
import { decodeEventStream, script, startBedrockSimulator } from '../local/bedrock-simulator/index.js';
import type { BedrockSimulator } from '../local/bedrock-simulator/index.js';

const MODEL = 'us.anthropic.claude-sonnet-4-20250514-v1:0';
const user = (text: string): Message => ({ role: 'user', content: [{ text }] });

const newClient = (sim: BedrockSimulator) =>
  new BedrockRuntimeClient({
    endpoint: sim.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });

/** Collects every event of a ConverseStream call (rethrowing a stream exception after recording what came before). */
async function collect(client: BedrockRuntimeClient, input: ConstructorParameters<typeof ConverseStreamCommand>[0]) {
  const res = await client.send(new ConverseStreamCommand(input));
  const events: ConverseStreamOutput[] = [];
  let error: unknown;
  try {
    for await (const e of res.stream!) events.push(e);
  } catch (err) {
    error = err;
  }
  return {
    events,
    error,
    kinds: events.map((e) => Object.keys(e).find((k) => (e as unknown as Record<string, unknown>)[k] !== undefined)),
  };
}

const decodeUtf8 = (b: Uint8Array | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');

let sim: BedrockSimulator;
let client: BedrockRuntimeClient;

beforeAll(async () => {
  // No instance-metadata probing: test/support/env.ts sets AWS_EC2_METADATA_DISABLED for every test file.
  sim = await startBedrockSimulator();
  client = newClient(sim);
});

afterEach(() => {
  sim.reset();
  sim.setDefault(null);
});

afterAll(async () => {
  client.destroy();
  await sim.close();
});

describe('Converse', () => {
  it('answers a scripted text reply with usage and metrics', async () => {
    sim.enqueue(script.text('Hello there!', { usage: { inputTokens: 11, outputTokens: 3, cacheReadInputTokens: 5 } }));
    const res = await client.send(new ConverseCommand({ modelId: MODEL, messages: [user('hi')] }));
    expect(res.output?.message?.role).toBe('assistant');
    expect(res.output?.message?.content).toEqual([{ text: 'Hello there!' }]);
    expect(res.stopReason).toBe('end_turn');
    expect(res.usage).toEqual({ inputTokens: 11, outputTokens: 3, totalTokens: 19, cacheReadInputTokens: 5 });
    expect(typeof res.metrics?.latencyMs).toBe('number');
    expect(res.$metadata.httpStatusCode).toBe(200);
    expect(res.$metadata.requestId).toBeTruthy();
  });

  it('echoes the last user message by default, marked as simulated', async () => {
    const res = await client.send(new ConverseCommand({ modelId: MODEL, messages: [user('What is 2+2?')] }));
    expect(res.output?.message?.content?.[0].text).toBe('[simulated Bedrock] You said: What is 2+2?');
    expect(res.usage?.inputTokens).toBeGreaterThan(0);
    expect(res.usage?.totalTokens).toBe(res.usage!.inputTokens! + res.usage!.outputTokens!);
  });

  it('calls a forced tool by default', async () => {
    const res = await client.send(
      new ConverseCommand({
        modelId: MODEL,
        messages: [user('weather?')],
        toolConfig: {
          tools: [{ toolSpec: { name: 'get_weather', description: 'Weather', inputSchema: { json: { type: 'object' } } } }],
          toolChoice: { tool: { name: 'get_weather' } },
        },
      }),
    );
    expect(res.stopReason).toBe('tool_use');
    const toolUse = res.output?.message?.content?.[0].toolUse;
    expect(toolUse?.name).toBe('get_weather');
    expect(toolUse?.input).toEqual({});
    expect(toolUse?.toolUseId).toMatch(/^tooluse_/);
  });

  it('rejects what Bedrock rejects (roles must alternate)', async () => {
    const err = await client.send(new ConverseCommand({ modelId: MODEL, messages: [user('a'), user('b')] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationException);
    expect((err as ValidationException).$metadata.httpStatusCode).toBe(400);
    expect((err as Error).message).toMatch(/alternate/);
  });

  it('rejects a toolResult that answers no toolUse', async () => {
    const err = await client
      .send(
        new ConverseCommand({
          modelId: MODEL,
          messages: [
            user('go'),
            { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_a', name: 'f', input: {} } }] },
            { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_b', content: [{ text: 'x' }] } }] },
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect((err as Error).name).toBe('ValidationException');
    expect((err as Error).message).toContain('tooluse_a');
  });
});

describe('ConverseStream', () => {
  it('streams text deltas in Bedrock order', async () => {
    sim.enqueue(script.text('The quick brown fox jumps.', { chunkSize: 5 }));
    const { events, kinds, error } = await collect(client, { modelId: MODEL, messages: [user('hi')] });
    expect(error).toBeUndefined();
    expect(kinds).toEqual(['messageStart', ...Array(6).fill('contentBlockDelta'), 'contentBlockStop', 'messageStop', 'metadata']);
    expect(events[0].messageStart?.role).toBe('assistant');
    const text = events.map((e) => e.contentBlockDelta?.delta?.text ?? '').join('');
    expect(text).toBe('The quick brown fox jumps.');
    expect(events.filter((e) => e.contentBlockDelta).every((e) => e.contentBlockDelta!.contentBlockIndex === 0)).toBe(true);
    expect(events.at(-2)?.messageStop?.stopReason).toBe('end_turn');
    const meta = events.at(-1)?.metadata;
    expect(meta?.usage?.outputTokens).toBeGreaterThan(0);
    expect(typeof meta?.metrics?.latencyMs).toBe('number');
  });

  it('streams a tool use with no preceding text (contentBlockStart at index 0, input in pieces)', async () => {
    const input = { city: 'Paris', units: 'celsius', days: 3 };
    sim.enqueue(script.toolCalls([{ name: 'get_weather', input, id: 'tooluse_1' }], { chunkSize: 8 }));
    const { events, kinds } = await collect(client, { modelId: MODEL, messages: [user('weather')] });
    expect(kinds[0]).toBe('messageStart');
    expect(kinds[1]).toBe('contentBlockStart');
    expect(events[1].contentBlockStart).toEqual({
      contentBlockIndex: 0,
      start: { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather' } },
    });
    const pieces = events.filter((e) => e.contentBlockDelta).map((e) => e.contentBlockDelta!.delta!.toolUse!.input!);
    expect(pieces.length).toBeGreaterThan(2);
    expect(JSON.parse(pieces.join(''))).toEqual(input);
    expect(events.find((e) => e.messageStop)?.messageStop?.stopReason).toBe('tool_use');
    expect(kinds.slice(-3)).toEqual(['contentBlockStop', 'messageStop', 'metadata']);
  });

  it('default stream: signed reasoning when thinking is enabled, forced tool with toolChoice any', async () => {
    const { events } = await collect(client, {
      modelId: MODEL,
      messages: [user('go')],
      additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } },
      toolConfig: {
        tools: [{ toolSpec: { name: 'lookup', inputSchema: { json: { type: 'object' } } } }],
        toolChoice: { any: {} },
      },
    });
    expect(events.some((e) => e.contentBlockDelta?.delta?.reasoningContent?.signature)).toBe(true);
    expect(events.find((e) => e.contentBlockStart)?.contentBlockStart).toMatchObject({
      contentBlockIndex: 1,
      start: { toolUse: { name: 'lookup' } },
    });
    expect(events.find((e) => e.contentBlockDelta?.delta?.toolUse)?.contentBlockDelta?.delta?.toolUse?.input).toBe('{}');
    expect(events.find((e) => e.messageStop)?.messageStop?.stopReason).toBe('tool_use');
  });

  it('streams parallel tool uses after text with increasing block indexes', async () => {
    sim.enqueue(
      script.toolCalls(
        [
          { name: 'get_weather', input: { city: 'Paris' } },
          { name: 'get_time', input: { tz: 'Europe/Paris' } },
        ],
        { precedingText: 'Let me check.' },
      ),
    );
    const { events } = await collect(client, { modelId: MODEL, messages: [user('weather and time')] });
    const starts = events.filter((e) => e.contentBlockStart).map((e) => e.contentBlockStart!);
    expect(starts.map((s) => [s.contentBlockIndex, s.start?.toolUse?.name])).toEqual([
      [1, 'get_weather'],
      [2, 'get_time'],
    ]);
    expect(starts[0].start?.toolUse?.toolUseId).not.toBe(starts[1].start?.toolUse?.toolUseId);
    const stops = events.filter((e) => e.contentBlockStop).map((e) => e.contentBlockStop!.contentBlockIndex);
    expect(stops).toEqual([0, 1, 2]);
    const inputOf = (idx: number) =>
      JSON.parse(
        events
          .filter((e) => e.contentBlockDelta?.contentBlockIndex === idx)
          .map((e) => e.contentBlockDelta!.delta!.toolUse!.input)
          .join(''),
      );
    expect(inputOf(1)).toEqual({ city: 'Paris' });
    expect(inputOf(2)).toEqual({ tz: 'Europe/Paris' });
  });

  it('streams reasoning text then its signature, then the answer', async () => {
    sim.enqueue(script.reasoning('Let me think about this carefully.', 'Answer: 4', { signature: 'sig-123' }));
    const { events } = await collect(client, { modelId: MODEL, messages: [user('2+2?')] });
    const r = events.filter((e) => e.contentBlockDelta?.contentBlockIndex === 0).map((e) => e.contentBlockDelta!.delta!.reasoningContent!);
    expect(
      r
        .slice(0, -1)
        .map((d) => d.text)
        .join(''),
    ).toBe('Let me think about this carefully.');
    expect(r.at(-1)).toEqual({ signature: 'sig-123' });
    const answer = events
      .filter((e) => e.contentBlockDelta?.contentBlockIndex === 1)
      .map((e) => e.contentBlockDelta!.delta!.text)
      .join('');
    expect(answer).toBe('Answer: 4');
  });

  it('reasoning also renders in Converse, redacted content as bytes', async () => {
    sim.enqueue(script.reasoning({ redactedContent: Buffer.from('secret') }, 'ok'));
    const res = await client.send(new ConverseCommand({ modelId: MODEL, messages: [user('x')] }));
    expect(Buffer.from(res.output!.message!.content![0].reasoningContent!.redactedContent!).toString()).toBe('secret');
    expect(res.output!.message!.content![1].text).toBe('ok');
  });

  it('failBefore Throttling → the SDK throws ThrottlingException with status 429', async () => {
    sim.enqueue(script.error('ThrottlingException', 'Too many tokens, please wait before trying again.'));
    const err = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages: [user('hi')] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottlingException);
    expect((err as ThrottlingException).name).toBe('ThrottlingException');
    expect((err as ThrottlingException).message).toBe('Too many tokens, please wait before trying again.');
    expect((err as ThrottlingException).$metadata.httpStatusCode).toBe(429);
  });

  it.each([
    ['ModelNotReadyException', 429],
    ['ServiceUnavailableException', 503],
    ['AccessDeniedException', 403],
    ['ResourceNotFoundException', 404],
    ['ModelTimeoutException', 408],
  ] as const)('failBefore %s → %i', async (type, status) => {
    sim.enqueue({ failBefore: { type } });
    const err = (await client
      .send(new ConverseCommand({ modelId: MODEL, messages: [user('hi')] }))
      .catch((e: unknown) => e)) as ThrottlingException;
    expect(err.name).toBe(type);
    expect(err.$metadata.httpStatusCode).toBe(status);
  });

  it('failAfterEvents → the iterator throws ModelStreamErrorException after the first events', async () => {
    sim.enqueue(
      script.text('abcdefghij', {
        chunkSize: 2,
        failAfterEvents: { count: 3, exception: 'modelStreamErrorException', message: 'boom', originalStatusCode: 500 },
      }),
    );
    const { kinds, error } = await collect(client, { modelId: MODEL, messages: [user('hi')] });
    expect(kinds).toEqual(['messageStart', 'contentBlockDelta', 'contentBlockDelta']);
    expect(error).toBeInstanceOf(ModelStreamErrorException);
    expect((error as ModelStreamErrorException).message).toBe('boom');
    expect((error as ModelStreamErrorException).originalStatusCode).toBe(500);
    expect(sim.requests[0].eventsSent).toBe(4);
  });

  it('endAfterEvents truncates the stream silently, like a dropped connection', async () => {
    sim.enqueue(script.text('abcdefghij', { chunkSize: 2, endAfterEvents: 2 }));
    const { kinds, error } = await collect(client, { modelId: MODEL, messages: [user('hi')] });
    expect(error).toBeUndefined();
    expect(kinds).toEqual(['messageStart', 'contentBlockDelta']);
  });

  it('sends raw events verbatim and honours delays', async () => {
    sim.enqueue(
      script.raw(
        [
          { messageStart: { role: 'assistant' } },
          { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'odd' } } },
          { messageStop: { stopReason: 'max_tokens' } },
        ],
        { delayMs: 20, firstEventDelayMs: 30 },
      ),
    );
    const t0 = Date.now();
    const { kinds, events } = await collect(client, { modelId: MODEL, messages: [user('hi')] });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(65);
    expect(kinds).toEqual(['messageStart', 'contentBlockDelta', 'messageStop']);
    expect(events[2].messageStop?.stopReason).toBe('max_tokens');
  });

  it('stops writing when the client aborts, and keeps serving', async () => {
    sim.enqueue(script.text('x'.repeat(200), { chunkSize: 1, delayMs: 10 }));
    const controller = new AbortController();
    const res = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages: [user('hi')] }), {
      abortSignal: controller.signal,
    });
    let seen = 0;
    // Whether the SDK's iterator then throws or just ends is the SDK's business (it ends): only the server side counts.
    await (async () => {
      for await (const _ of res.stream!) {
        if (++seen === 3) controller.abort();
      }
    })().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    const rec = sim.requests[0];
    expect(rec.aborted).toBe(true);
    expect(rec.eventsSent).toBeLessThan(50);
    const again = await client.send(new ConverseCommand({ modelId: MODEL, messages: [user('still there?')] }));
    expect(again.output?.message?.content?.[0].text).toContain('still there?');
  });
});

/** The InvokeModel answers of the simulated embedding models (the fields read here). */
interface TitanEmbedding {
  embedding: number[];
  inputTextTokenCount: number;
}
interface CohereEmbeddings {
  id: string;
  texts: string[];
  response_type: 'embeddings_floats';
  embeddings: number[][];
}
interface CohereEmbeddingsByType {
  response_type: 'embeddings_by_type';
  embeddings: { float: number[][] };
}

describe('InvokeModel embeddings', () => {
  const invoke = async <T = unknown>(modelId: string, body: unknown): Promise<T> => {
    const res = await client.send(
      new InvokeModelCommand({ modelId, body: JSON.stringify(body), contentType: 'application/json', accept: 'application/json' }),
    );
    return JSON.parse(decodeUtf8(res.body)) as T;
  };
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0) / (norm(a) * norm(b));

  it('titan v2: deterministic, normalised, float32-exact, with dimensions', async () => {
    const a = await invoke<TitanEmbedding>('amazon.titan-embed-text-v2:0', { inputText: 'hello world' });
    expect(a.embedding).toHaveLength(1024);
    expect(a.inputTextTokenCount).toBeGreaterThan(0);
    expect(norm(a.embedding)).toBeCloseTo(1, 5);
    expect(a.embedding.every((x) => Number.isFinite(x) && Math.fround(x) === x)).toBe(true);
    const b = await invoke<TitanEmbedding>('amazon.titan-embed-text-v2:0', { inputText: 'hello world' });
    expect(b.embedding).toEqual(a.embedding);
    const small = await invoke<TitanEmbedding>('amazon.titan-embed-text-v2:0', { inputText: 'hello world', dimensions: 256 });
    expect(small.embedding).toHaveLength(256);
    const near = await invoke<TitanEmbedding>('amazon.titan-embed-text-v2:0', { inputText: 'hello world again' });
    const far = await invoke<TitanEmbedding>('amazon.titan-embed-text-v2:0', { inputText: 'quantum chromodynamics' });
    expect(cos(a.embedding, near.embedding)).toBeGreaterThan(cos(a.embedding, far.embedding));
  });

  it('titan v2 rejects an invalid dimension', async () => {
    const err = await invoke('amazon.titan-embed-text-v2:0', { inputText: 'x', dimensions: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationException);
  });

  it('cohere: float matrix, or by type with embedding_types', async () => {
    const plain = await invoke<CohereEmbeddings>('cohere.embed-english-v3', { texts: ['a b', 'c d'], input_type: 'search_document' });
    expect(plain.texts).toEqual(['a b', 'c d']);
    expect(plain.embeddings).toHaveLength(2);
    expect(plain.embeddings[0]).toHaveLength(1024);
    expect(plain.response_type).toBe('embeddings_floats');
    expect(typeof plain.id).toBe('string');
    const typed = await invoke<CohereEmbeddingsByType>('cohere.embed-multilingual-v3', {
      texts: ['a b'],
      input_type: 'search_query',
      embedding_types: ['float'],
    });
    expect(typed.response_type).toBe('embeddings_by_type');
    expect(typed.embeddings.float[0]).toEqual(plain.embeddings[0]);
  });

  it('unknown model → ValidationException 400; scripts can force failures', async () => {
    const err = (await invoke('acme.unknown-model', { inputText: 'x' }).catch((e: unknown) => e)) as ValidationException;
    expect(err.name).toBe('ValidationException');
    expect(err.$metadata.httpStatusCode).toBe(400);
    sim.enqueue(script.error('ThrottlingException'));
    const t = (await invoke('amazon.titan-embed-text-v2:0', { inputText: 'x' }).catch((e: unknown) => e)) as ThrottlingException;
    expect(t).toBeInstanceOf(ThrottlingException);
  });
});

describe('recording and lifecycle', () => {
  it('records operation, URL-decoded model id (inference profile ARN), body and headers', async () => {
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123xyz';
    sim.enqueue(script.text('ok'));
    await client.send(new ConverseCommand({ modelId: arn, messages: [user('hi')], inferenceConfig: { maxTokens: 50 } }));
    await collect(client, { modelId: MODEL, messages: [user('yo')] });
    expect(sim.requests.map((r) => r.operation)).toEqual(['Converse', 'ConverseStream']);
    const [first, second] = sim.requests;
    expect(first.modelId).toBe(arn);
    expect(first.body.inferenceConfig).toEqual({ maxTokens: 50 });
    expect(first.body.messages).toEqual([{ role: 'user', content: [{ text: 'hi' }] }]);
    expect(first.headers.authorization).toMatch(/^AWS4-HMAC-SHA256/);
    expect(first.status).toBe(200);
    expect(typeof first.time).toBe('number');
    expect(second.modelId).toBe(MODEL);
  });

  it('FIFO queue, function scripts and setDefault', async () => {
    sim.setDefault((req) => script.text(`default for ${req.modelId}`));
    sim.enqueue(script.text('one'), (req) => script.text(`two:${req.operation}`));
    const texts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await client.send(new ConverseCommand({ modelId: 'm', messages: [user('hi')] }));
      texts.push(res.output!.message!.content![0].text!);
    }
    expect(texts).toEqual(['one', 'two:Converse', 'default for m']);
  });

  it('answers unknown routes with an error', async () => {
    const session = http2.connect(sim.url);
    const req = session.request({ ':method': 'POST', ':path': '/nope' });
    req.end('{}');
    const [status, body] = await new Promise<[number, string]>((resolve) => {
      let s = 0;
      let data = '';
      req.on('response', (h) => (s = Number(h[':status'])));
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => resolve([s, data]));
    });
    session.close();
    expect(status).toBe(404);
    expect(JSON.parse(body).message).toMatch(/No operation/);
  });

  it('raw HTTP/2 stream bodies decode as event-stream frames', async () => {
    sim.enqueue(script.text('hi'));
    const session = http2.connect(sim.url);
    const req = session.request({ ':method': 'POST', ':path': `/model/${encodeURIComponent(MODEL)}/converse-stream` });
    req.end(JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'x' }] }] }));
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve) => {
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve());
    });
    session.close();
    const frames = decodeEventStream(Buffer.concat(chunks));
    expect(frames.map((f) => f.headers[':event-type'])).toEqual([
      'messageStart',
      'contentBlockDelta',
      'contentBlockStop',
      'messageStop',
      'metadata',
    ]);
    expect(frames[1].headers[':message-type']).toBe('event');
    expect(frames[1].headers[':content-type']).toBe('application/json');
  });

  it('close() ends sessions mid-stream and leaves no open handles', async () => {
    const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length;
    const before = tcpHandles();
    const own = await startBedrockSimulator();
    const c = newClient(own);
    own.enqueue(script.text('slow '.repeat(100), { chunkSize: 1, delayMs: 50 }));
    const res = await c.send(new ConverseStreamCommand({ modelId: MODEL, messages: [user('hi')] }));
    const it = res.stream![Symbol.asyncIterator]();
    await it.next();
    const t0 = Date.now();
    await own.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect(
      (async () => {
        while (!(await it.next()).done);
      })(),
    ).rejects.toThrow();
    c.destroy();
    await new Promise((r) => setTimeout(r, 50));
    // Other sockets (the shared client's pool) may close meanwhile, so "no more than before" is the check.
    expect(tcpHandles()).toBeLessThanOrEqual(before);
    expect(own.requests[0].aborted).toBe(true);
    const refused = await new Promise<string>((resolve) => {
      const session = http2.connect(own.url);
      session.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      session.on('connect', () => {
        session.destroy();
        resolve('connected');
      });
    });
    expect(refused).toBe('ECONNREFUSED');
    await own.close(); // idempotent
  });
});
