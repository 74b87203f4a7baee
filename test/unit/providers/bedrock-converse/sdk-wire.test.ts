/**
 * The provider with the real BedrockRuntimeClient against a local fake speaking Bedrock's wire protocol (h2c,
 * application/vnd.amazon.eventstream): pins what the stream mapping assumes about the SDK's decoded events,
 * exception frames and pre-stream errors, and that AWS_ENDPOINT_URL_BEDROCK_RUNTIME is honoured.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChatEvent } from '../../../../lambdas/core/chat/events.js';
import { bedrockConverseProvider } from '../../../../lambdas/core/providers/bedrock-converse/index.js';
import type { ProviderContext, ResolvedModel } from '../../../../lambdas/core/providers/types.js';
import { decodeChatCompletion } from '../../../../lambdas/core/wire/openai-chat/decode.js';
import { OpenAIChatChunkEncoder, toOpenAIFinishReason } from '../../../../lambdas/core/wire/openai-chat/encode.js';
import type { ChatRequest } from '../../../../lambdas/core/chat/request.js';
import { expectWellFormedEvents } from '../../../support/check-events.js';
import { fold, loadEvents, META } from './fixtures.js';

const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes).toString('utf8'),
  (text) => new Uint8Array(Buffer.from(text, 'utf8')),
);
const str = (value: string) => ({ type: 'string' as const, value });
const eventFrame = (event: object) => {
  const [type, body] = Object.entries(event)[0];
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

interface SeenBody {
  messages: Array<{ content: Array<{ text: string }> }>;
}
let server: http2.Http2Server;
const seen: Array<{ path: string; body: SeenBody }> = [];

const sessions = new Set<http2.ServerHttp2Session>();

beforeAll(async () => {
  server = http2.createServer();
  // The client keeps its sessions open for reuse (bedrock-runtime-client.ts): close() waits for them otherwise.
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as SeenBody;
      seen.push({ path: String(headers[':path']), body });
      const script = scripts[body.messages.at(-1)!.content[0].text];
      if (!('frames' in script)) {
        stream.respond({ ':status': script.status, 'content-type': 'application/json', 'x-amzn-errortype': script.errorType });
        stream.end(JSON.stringify({ message: script.message }));
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/vnd.amazon.eventstream' });
      for (const frame of script.frames) stream.write(frame);
      stream.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Read by the AWS SDK itself (not gateway config); credentials and region come from test/support/env.ts.
  vi.stubEnv('AWS_ENDPOINT_URL_BEDROCK_RUNTIME', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  for (const s of sessions) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

// A region no other test uses, so this file gets its own cached client built after the env is set.
const model: ResolvedModel = {
  id: 1,
  name: 'claude',
  provider: 'bedrock-converse',
  config: { modelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-wire-1' },
};
const ctx: ProviderContext = { requestId: 'wire', signal: new AbortController().signal };
const ask = (text: string): ChatRequest =>
  decodeChatCompletion({ model: 'claude', messages: [{ role: 'user', content: text }], stream: true });

async function drain(events: AsyncIterable<ChatEvent>, into: ChatEvent[] = []) {
  for await (const ev of events) into.push(ev);
  return into;
}

describe('bedrock-converse over the real SDK and event-stream framing', () => {
  it('streams text from the endpoint named by AWS_ENDPOINT_URL_BEDROCK_RUNTIME', async () => {
    const events = await drain(await bedrockConverseProvider.chat(ask('text'), model, ctx));
    const encoder = new OpenAIChatChunkEncoder(META, false);
    const chunks = [...events.flatMap((ev) => encoder.encode(ev)), ...encoder.end()];
    expect(chunks.map((c) => c.choices[0].delta.content ?? c.choices[0].finish_reason)).toEqual(['', 'Hello', ', world.', 'stop']);
    expect(fold(events).usage).toMatchObject({ inputTokens: 12, outputTokens: 5 });
    expect(seen.at(-1)!.path).toBe(`/model/${encodeURIComponent(model.config.modelId as string)}/converse-stream`);
    expectWellFormedEvents(events);
  });

  it('decodes tool-use events into dense tool indexes', async () => {
    const events = await drain(await bedrockConverseProvider.chat(ask('tools'), model, ctx));
    const result = fold(events);
    expect(result.toolCalls.map((c) => c.arguments)).toEqual(['{"city":"Paris"}', '{"city":"Rome"}']);
    expect(toOpenAIFinishReason(result.finishReason!)).toBe('tool_calls');
    expectWellFormedEvents(events);
  });

  it('an exception frame mid-stream surfaces from the iterator as a mapped error', async () => {
    const events: ChatEvent[] = [];
    await expect(drain(await bedrockConverseProvider.chat(ask('fail-midway'), model, ctx), events)).rejects.toMatchObject({
      status: 429,
      code: 'throttled',
    });
    expect(fold(events).text).toBe('Cut off mid sentence');
  });

  it('a refusal before the stream starts rejects chat() itself with the mapped status', async () => {
    await expect(bedrockConverseProvider.chat(ask('invalid'), model, ctx)).rejects.toMatchObject({
      status: 400,
      message: 'messages.0: blank text',
    });
  });
});
