/**
 * The provider with the real BedrockRuntimeClient against a local fake speaking Bedrock's wire protocol (h2c,
 * application/vnd.amazon.eventstream): pins what the stream mapping assumes about the SDK's decoded events,
 * exception frames and pre-stream errors, and that AWS_ENDPOINT_URL_BEDROCK_RUNTIME is honoured.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../../../lambdas/core/openai/types.js';
import type { CallContext, ResolvedModel } from '../../../lambdas/core/providers/types.js';
import { bedrockConverseProvider } from '../../../lambdas/core/providers/bedrock-converse/index.js';
import { loadEvents } from './fixtures.js';

const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes).toString('utf8'),
  (text) => new Uint8Array(Buffer.from(text, 'utf8')),
);
const str = (value: string) => ({ type: 'string' as const, value });
const eventFrame = (event: object) => {
  const [type, body] = Object.entries(event)[0]!;
  return codec.encode({
    headers: { ':event-type': str(type), ':content-type': str('application/json'), ':message-type': str('event') },
    body: Buffer.from(JSON.stringify(body)),
  });
};
const exceptionFrame = (type: string, message: string) =>
  codec.encode({
    headers: { ':exception-type': str(type), ':content-type': str('application/json'), ':message-type': str('exception') },
    body: Buffer.from(JSON.stringify({ message })),
  });

/** What the fake answers, chosen by the last user message. */
type Script = { status: 200; frames: Uint8Array[] } | { status: number; errorType: string; message: string };
const scripts: Record<string, Script> = {
  text: { status: 200, frames: loadEvents('plain-text').map(eventFrame) },
  tools: { status: 200, frames: loadEvents('text-then-parallel-tools').map(eventFrame) },
  'fail-midway': {
    status: 200,
    frames: [...loadEvents('missing-message-stop').map(eventFrame), exceptionFrame('throttlingException', 'Too many tokens')],
  },
  invalid: { status: 400, errorType: 'ValidationException', message: 'messages.0: blank text' },
};

let server: http2.Http2Server;
const seen: Array<{ path: string; body: Record<string, unknown> }> = [];
const savedEnv = { ...process.env };

beforeAll(async () => {
  server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8'));
      seen.push({ path: String(headers[':path']), body });
      const script = scripts[body.messages.at(-1).content[0].text as string]!;
      if (script.status !== 200 || !('frames' in script)) {
        const s = script as { status: number; errorType: string; message: string };
        stream.respond({ ':status': s.status, 'content-type': 'application/json', 'x-amzn-errortype': s.errorType });
        stream.end(JSON.stringify({ message: s.message }));
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/vnd.amazon.eventstream' });
      for (const frame of script.frames) stream.write(frame);
      stream.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
});

afterAll(async () => {
  process.env = savedEnv;
  await new Promise((resolve) => server.close(resolve));
});

// A region no other test uses, so this file gets its own cached client built after the env is set.
const model: ResolvedModel = {
  id: 1,
  name: 'claude',
  provider: 'bedrock-converse',
  config: { modelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-wire-1' },
};
const ctx: CallContext = { requestId: 'wire', fetchImage: () => Promise.reject(new Error('no')) };
const ask = (text: string): ChatCompletionRequest => ({ model: 'claude', messages: [{ role: 'user', content: text }], stream: true });

async function drain(chunks: AsyncIterable<ChatCompletionChunk>) {
  const out: ChatCompletionChunk[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

describe('bedrock-converse over the real SDK and event-stream framing', () => {
  it('streams text from the endpoint named by AWS_ENDPOINT_URL_BEDROCK_RUNTIME', async () => {
    const stream = await bedrockConverseProvider.stream(ask('text'), model, ctx);
    const chunks = await drain(stream.chunks);
    expect(chunks.map((c) => c.choices[0]!.delta.content ?? c.choices[0]!.finish_reason)).toEqual(['', 'Hello', ', world.', 'stop']);
    expect(stream.outcome().usage).toMatchObject({ inputTokens: 12, outputTokens: 5 });
    expect(seen.at(-1)!.path).toBe(`/model/${encodeURIComponent(model.config.modelId as string)}/converse-stream`);
  });

  it('decodes tool-use events into dense tool_calls indexes', async () => {
    const stream = await bedrockConverseProvider.stream(ask('tools'), model, ctx);
    await drain(stream.chunks);
    expect(stream.outcome().toolCalls.map((c) => c.function.arguments)).toEqual(['{"city":"Paris"}', '{"city":"Rome"}']);
    expect(stream.outcome().finishReason).toBe('tool_calls');
  });

  it('an exception frame mid-stream surfaces from the iterator as a mapped error', async () => {
    const stream = await bedrockConverseProvider.stream(ask('fail-midway'), model, ctx);
    await expect(drain(stream.chunks)).rejects.toMatchObject({ status: 429, code: 'throttled' });
    expect(stream.outcome().text).toBe('Cut off mid sentence');
  });

  it('a refusal before the stream starts rejects stream() itself with the mapped status', async () => {
    await expect(bedrockConverseProvider.stream(ask('invalid'), model, ctx)).rejects.toMatchObject({
      status: 400,
      message: 'messages.0: blank text',
    });
  });
});
