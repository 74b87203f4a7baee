import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BedrockRuntimeClient, type InvokeModelCommand, type InvokeModelCommandOutput } from '@aws-sdk/client-bedrock-runtime';
import OpenAI from 'openai';
import { describe, expect, it, vi } from 'vitest';
import { GatewayError } from '../../../../lambdas/core/errors.js';
import { bedrockEmbeddingsProvider } from '../../../../lambdas/core/providers/bedrock-embeddings/index.js';
import {
  createBedrockEmbeddingsProvider,
  type InvokeModelClient,
  mapLimit,
} from '../../../../lambdas/core/providers/bedrock-embeddings/provider.js';
import type { EmbeddingsProvider, EmbeddingsResult, ProviderContext, ResolvedModel } from '../../../../lambdas/core/providers/types.js';
import { encodeFloat32Base64 } from '../../../../lambdas/core/wire/openai-embeddings/encode-base64.js';
import { normalizeInput } from '../../../../lambdas/core/wire/openai-embeddings/route.js';

const ctx = (signal: AbortSignal = new AbortController().signal): ProviderContext => ({ requestId: 'req-1', signal });
const model = (config: Record<string, unknown>, name = 'my-embed'): ResolvedModel => ({
  id: 1,
  name,
  provider: 'bedrock-embeddings',
  config,
});
const TITAN = model({ modelId: 'amazon.titan-embed-text-v2:0', region: 'eu-west-1' });
const COHERE = model({ modelId: 'cohere.embed-english-v3' });

/** The OpenAI body fields the route reads before calling the provider. */
interface OpenAIEmbeddingsBody {
  model: string;
  input: unknown;
  dimensions?: number;
  encoding_format?: 'float' | 'base64';
}

/** What /v1/embeddings does around the provider: input normalised, dimensions passed on (wire/openai-embeddings/route.ts). */
const embedOpenAI = async (p: EmbeddingsProvider, body: OpenAIEmbeddingsBody, m: ResolvedModel, c = ctx()): Promise<EmbeddingsResult> =>
  p.embed({ inputs: normalizeInput(body.input), ...(body.dimensions === undefined ? {} : { dimensions: body.dimensions }) }, m, c);

interface Sent {
  modelId: string;
  body: Record<string, unknown>;
  abortSignal?: AbortSignal;
}

/** A stub client: `respond` turns each request body into a response body (or throws). */
function stubClient(respond: (body: Record<string, unknown>, n: number) => unknown) {
  const sent: Sent[] = [];
  const client: InvokeModelClient = {
    async send(command: InvokeModelCommand, options?: { abortSignal?: AbortSignal }) {
      const input = command.input;
      const body = JSON.parse(new TextDecoder().decode(input.body as Uint8Array)) as Record<string, unknown>;
      sent.push({ modelId: input.modelId ?? '', body, abortSignal: options?.abortSignal });
      const out = await respond(body, sent.length);
      return {
        body: new TextEncoder().encode(JSON.stringify(out)),
        contentType: 'application/json',
        $metadata: {},
      } as unknown as InvokeModelCommandOutput;
    },
  };
  return { client, sent };
}

/** Deterministic fake vector for a text. */
const vec = (text: string, dims = 4) => Array.from({ length: dims }, (_, i) => (text.length + i) / 8);

describe('Titan', () => {
  it('one InvokeModel per input, vectors in input order, usage summed, region honoured', async () => {
    const { client, sent } = stubClient(async (b) => {
      await new Promise((r) => setTimeout(r, Math.random() * 10)); // finish out of order
      return { embedding: vec(b.inputText as string), inputTextTokenCount: (b.inputText as string).length };
    });
    const clientFor = vi.fn(() => client);
    const p = createBedrockEmbeddingsProvider({ clientFor });
    const input = ['a', 'bbb', 'cc', 'dddd', 'eeeee'];
    const { vectors, usage } = await embedOpenAI(p, { model: 'my-embed', input, dimensions: 256 }, TITAN);
    expect(clientFor).toHaveBeenCalledWith('eu-west-1');
    expect(sent).toHaveLength(5);
    expect(sent.every((s) => s.modelId === 'amazon.titan-embed-text-v2:0')).toBe(true);
    expect(sent.map((s) => s.body).sort((x, y) => String(x.inputText).localeCompare(String(y.inputText)))[0]).toEqual({
      inputText: 'a',
      dimensions: 256,
      normalize: true,
    });
    expect(vectors).toHaveLength(5);
    expect(vectors).toEqual(input.map((t) => vec(t)));
    expect(usage).toEqual({ inputTokens: 15, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
  });

  it('bounds concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    const { client } = stubClient(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { embedding: [1], inputTextTokenCount: 1 };
    });
    const p = createBedrockEmbeddingsProvider({ clientFor: () => client });
    const input = Array.from({ length: 30 }, (_, i) => `t${i}`);
    const { vectors } = await embedOpenAI(p, { model: 'm', input }, TITAN);
    expect(vectors).toHaveLength(30);
    expect(peak).toBe(8);
  });

  it('base64 output (the route encodes the vectors) decodes, as openai-node does, to the float32 vectors', async () => {
    const floats = [0.1, -0.2, 0.30000001, 1e-7];
    const { client } = stubClient(() => ({ embedding: floats, inputTextTokenCount: 2 }));
    const p = createBedrockEmbeddingsProvider({ clientFor: () => client });
    const { vectors } = await embedOpenAI(p, { model: 'm', input: 'x', encoding_format: 'base64' }, TITAN);
    const b64 = encodeFloat32Base64(vectors[0]);
    const buf = Buffer.from(b64, 'base64');
    expect(Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4))).toEqual(floats.map(Math.fround));
  });

  it('passes the request abort signal to the SDK', async () => {
    const { client, sent } = stubClient(() => ({ embedding: [1], inputTextTokenCount: 1 }));
    const ac = new AbortController();
    await createBedrockEmbeddingsProvider({ clientFor: () => client }).embed({ inputs: ['x'] }, TITAN, ctx(ac.signal));
    expect(sent[0].abortSignal).toBe(ac.signal);
  });

  it('stops issuing calls after the first failure and maps the error', async () => {
    const { client, sent } = stubClient((_b, n) => {
      if (n === 3) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      return { embedding: [1], inputTextTokenCount: 1 };
    });
    const p = createBedrockEmbeddingsProvider({ clientFor: () => client, concurrency: 1 });
    const err: unknown = await p.embed({ inputs: Array.from({ length: 10 }, () => 'x') }, TITAN, ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(429);
    expect((err as GatewayError).retryable).toBe(true);
    expect(sent).toHaveLength(3);
  });

  it('malformed upstream body → 502', async () => {
    const { client } = stubClient(() => ({ unexpected: true }));
    const err: unknown = await createBedrockEmbeddingsProvider({ clientFor: () => client })
      .embed({ inputs: ['x'] }, TITAN, ctx())
      .catch((e: unknown) => e);
    expect((err as GatewayError).status).toBe(502);
  });

  it('validation failures happen before any upstream call', async () => {
    const { client, sent } = stubClient(() => ({ embedding: [1] }));
    const p = createBedrockEmbeddingsProvider({ clientFor: () => client });
    const cases: OpenAIEmbeddingsBody[] = [
      { model: 'm', input: '' },
      { model: 'm', input: [] },
      { model: 'm', input: [1, 2, 3] },
      { model: 'm', input: [[1, 2]] },
      { model: 'm', input: 'x', dimensions: 300 },
    ];
    for (const body of cases) {
      const err: unknown = await embedOpenAI(p, body, TITAN).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).status).toBe(400);
    }
    expect(sent).toHaveLength(0);
  });
});

describe('Cohere', () => {
  it('batches 200 inputs into 3 calls (96, 96, 8) and keeps order', async () => {
    const { client, sent } = stubClient((b) => ({
      id: 'x',
      texts: b.texts,
      embeddings: { float: (b.texts as string[]).map((t) => [Number(t.slice(1))]) },
      response_type: 'embeddings_by_type',
    }));
    const p = createBedrockEmbeddingsProvider({ clientFor: () => client });
    const input = Array.from({ length: 200 }, (_, i) => `t${i}`);
    const { vectors, usage } = await embedOpenAI(p, { model: 'cohere-embed', input }, COHERE);
    expect(sent).toHaveLength(3);
    expect(sent.map((s) => (s.body.texts as string[]).length)).toEqual([96, 96, 8]);
    expect(sent[0].body).toMatchObject({ input_type: 'search_document', embedding_types: ['float'] });
    expect(vectors).toHaveLength(200);
    expect(vectors.map((v) => v[0])).toEqual(input.map((_, i) => i));
    // No count reported: estimate ceil(chars/4) per text ('t0'..'t9' → 1, 't10'..'t199' → 1).
    expect(usage.inputTokens).toBe(200);
  });

  it('uses billed_units from the body when present', async () => {
    const { client } = stubClient((b) => ({
      embeddings: (b.texts as string[]).map(() => [0]),
      meta: { billed_units: { input_tokens: 11 } },
    }));
    const { usage } = await createBedrockEmbeddingsProvider({ clientFor: () => client }).embed({ inputs: ['a', 'b'] }, COHERE, ctx());
    expect(usage.inputTokens).toBe(11);
  });

  it('a short upstream answer → 502', async () => {
    const { client } = stubClient(() => ({ embeddings: [[0]] }));
    const err: unknown = await createBedrockEmbeddingsProvider({ clientFor: () => client })
      .embed({ inputs: ['a', 'b'] }, COHERE, ctx())
      .catch((e: unknown) => e);
    expect((err as GatewayError).status).toBe(502);
  });
});

describe('real SDK client with a canned HTTP handler', () => {
  /** A BedrockRuntimeClient whose transport returns the given responses (exercises SDK (de)serialisation). */
  function sdkClient(reply: (path: string, body: string) => { status: number; headers: Record<string, string>; body: unknown }) {
    const seen: Array<{ path: string; body: string }> = [];
    const client = new BedrockRuntimeClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
      maxAttempts: 1,
      requestHandler: {
        handle: (req: { path: string; body?: unknown }) => {
          const body = req.body instanceof Uint8Array ? new TextDecoder().decode(req.body) : typeof req.body === 'string' ? req.body : '';
          seen.push({ path: req.path, body });
          const r = reply(req.path, body);
          return Promise.resolve({
            response: {
              statusCode: r.status,
              headers: { 'content-type': 'application/json', ...r.headers },
              body: new TextEncoder().encode(JSON.stringify(r.body)),
            },
          });
        },
      } as never,
    });
    return { client, seen };
  }

  it('reads X-Amzn-Bedrock-Input-Token-Count for Cohere', async () => {
    const { client, seen } = sdkClient((_p, body) => ({
      status: 200,
      headers: { 'x-amzn-bedrock-input-token-count': '42' },
      body: { embeddings: (JSON.parse(body).texts as string[]).map(() => [0.25, 0.5]) },
    }));
    const p = createBedrockEmbeddingsProvider({ clientFor: () => client });
    const { vectors, usage } = await p.embed({ inputs: ['hello', 'world'] }, COHERE, ctx());
    expect(seen[0].path).toBe('/model/cohere.embed-english-v3/invoke');
    expect(vectors).toEqual([
      [0.25, 0.5],
      [0.25, 0.5],
    ]);
    expect(usage.inputTokens).toBe(42);
  });

  it.each([
    [429, 'ThrottlingException', 429],
    [400, 'ValidationException', 400],
    [403, 'AccessDeniedException', 502],
    [404, 'ResourceNotFoundException', 502],
    [424, 'ModelErrorException', 502],
    [503, 'ServiceUnavailableException', 503],
    [429, 'ModelNotReadyException', 503],
    [500, 'InternalServerException', 502],
  ])('HTTP %i %s → %i', async (status, type, expected) => {
    const { client } = sdkClient(() => ({
      status,
      headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` },
      body: { message: `boom from ${type}` },
    }));
    const err: unknown = await createBedrockEmbeddingsProvider({ clientFor: () => client })
      .embed({ inputs: ['x'] }, TITAN, ctx())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(expected);
  });
});

describe('openai-node end to end', () => {
  it('the official SDK (default base64) decodes our vectors exactly', async () => {
    const floats = [0.123456789, -1.5, 3.4e-5, 0, 42];
    const { client } = stubClient(() => ({ embedding: floats, inputTextTokenCount: 3 }));
    const p = createBedrockEmbeddingsProvider({ clientFor: () => client });
    const seenFormats: unknown[] = [];
    const server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        // The route's part: the body read, the provider called, the vectors encoded as the client asked.
        const body = JSON.parse(raw) as OpenAIEmbeddingsBody;
        seenFormats.push(body.encoding_format);
        const base64 = body.encoding_format === 'base64';
        void embedOpenAI(p, body, TITAN).then(({ vectors, usage }) => {
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({
              object: 'list',
              data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: base64 ? encodeFloat32Base64(v) : v })),
              model: body.model,
              usage: { prompt_tokens: usage.inputTokens, total_tokens: usage.inputTokens },
            }),
          );
        });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as AddressInfo).port;
      const openai = new OpenAI({ apiKey: 'sk-test', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
      const viaDefault = await openai.embeddings.create({ model: 'my-embed', input: ['a', 'b'] });
      const viaFloat = await openai.embeddings.create({ model: 'my-embed', input: 'a', encoding_format: 'float' });
      expect(seenFormats).toEqual(['base64', 'float']);
      expect(viaDefault.data.map((d) => d.embedding)).toEqual([floats.map(Math.fround), floats.map(Math.fround)]);
      expect(viaFloat.data[0].embedding).toEqual(floats);
      expect(viaDefault.usage).toEqual({ prompt_tokens: 6, total_tokens: 6 });
      expect(viaDefault.model).toBe('my-embed');
    } finally {
      server.close();
    }
  });
});

describe('misc', () => {
  it('BedrockRuntimeClient satisfies InvokeModelClient and the default provider is wired', () => {
    const c: InvokeModelClient = new BedrockRuntimeClient({ region: 'us-east-1' });
    expect(typeof c.send).toBe('function');
    expect(bedrockEmbeddingsProvider.kind).toBe('embeddings');
  });

  it('mapLimit keeps order', async () => {
    const out = await mapLimit([3, 1, 2], 2, async (x) => {
      await new Promise((r) => setTimeout(r, x * 3));
      return x * 10;
    });
    expect(out).toEqual([30, 10, 20]);
  });
});
