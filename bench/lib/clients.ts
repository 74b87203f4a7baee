import http from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  BedrockRuntimeClient,
  ConverseStreamCommand,
  InvokeModelWithResponseStreamCommand,
  type BedrockRuntimeClientConfig,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttp2Handler } from '@smithy/node-http-handler';

/** What one call looked like from the client's side. Times are performance.now() based, in ms. */
export interface StreamResult {
  ok: boolean;
  status: number;
  /** performance.now() when the request was started. */
  start: number;
  /**
   * Time to the first byte that matters: the first SSE frame with a role or content (chat completions),
   * `message_start` (messages), `response.created` (responses), the first stream event (direct SDK), the first
   * body byte (non-streaming).
   */
  ttfb: number;
  /** Time to the first text token: the first content delta (every wire API, and the direct SDK). */
  ttft: number;
  /** Time until the response ended (the last byte). */
  total: number;
  /** Frames / events carrying text. */
  textChunks: number;
  /** performance.now() of the read that delivered each text chunk. */
  arrivals: number[];
  error?: string;
}

const MODEL_ID = 'anthropic.claude-3-haiku-20240307-v1:0';

/** The gateway's wire APIs the bench drives. */
export type Wire = 'chat' | 'messages' | 'responses';

const PATHS: Record<Wire, string> = { chat: '/v1/chat/completions', messages: '/v1/messages', responses: '/v1/responses' };

export function chatBody(prompt = 'ping', stream = true): Record<string, unknown> {
  return { model: 'bench', messages: [{ role: 'user', content: prompt }], stream };
}

export function messagesBody(prompt = 'ping'): Record<string, unknown> {
  return { model: 'bench', max_tokens: 256, messages: [{ role: 'user', content: prompt }], stream: true };
}

export function responsesBody(prompt = 'ping'): Record<string, unknown> {
  return { model: 'bench', input: prompt, stream: true };
}

/** What an SSE frame means to the timer. */
type FrameKind = 'first' | 'token' | 'done' | 'error' | 'other';

interface Frame {
  event?: string;
  data: string;
}

/** Chat completions: `data: <chunk>` frames, then `data: [DONE]`. */
function chatFrame(f: Frame): FrameKind {
  if (f.data === '[DONE]') return 'done';
  const parsed = JSON.parse(f.data) as { error?: unknown; choices?: Array<{ delta?: { role?: string; content?: string } }> };
  if (parsed.error) return 'error';
  const delta = parsed.choices?.[0]?.delta;
  if (delta?.content) return 'token';
  if (delta?.role) return 'first';
  return 'other';
}

/** Anthropic Messages: message_start, content_block_start, content_block_delta…, message_delta, message_stop. */
function messagesFrame(f: Frame): FrameKind {
  switch (f.event) {
    case 'message_start':
      return 'first';
    case 'content_block_delta': {
      const d = (JSON.parse(f.data) as { delta?: { type?: string; text?: string } }).delta;
      return d?.type === 'text_delta' && d.text ? 'token' : 'other';
    }
    case 'message_stop':
      return 'done';
    case 'error':
      return 'error';
    default:
      return 'other';
  }
}

/** OpenAI Responses: response.created, …, response.output_text.delta…, response.completed. */
function responsesFrame(f: Frame): FrameKind {
  switch (f.event) {
    case 'response.created':
      return 'first';
    case 'response.output_text.delta':
      return 'token';
    case 'response.completed':
      return 'done';
    case 'response.failed':
    case 'error':
      return 'error';
    default:
      return 'other';
  }
}

const CLASSIFY: Record<Wire, (f: Frame) => FrameKind> = { chat: chatFrame, messages: messagesFrame, responses: responsesFrame };

/**
 * One call through the gateway, read with plain node:http (keep-alive) so that client overhead is as small as it
 * gets. A streaming body is read as SSE, frames split and classified as they arrive; a non-streaming one is read
 * whole (first byte = first body byte).
 */
export function gatewayCall(
  baseUrl: string,
  wire: Wire,
  apiKey: string,
  agent: http.Agent,
  body: Record<string, unknown>,
  timeoutMs = 60_000,
): Promise<StreamResult> {
  const payload = JSON.stringify(body);
  const url = new URL(PATHS[wire], baseUrl);
  const streaming = body.stream === true;
  const classify = CLASSIFY[wire];
  return new Promise((resolve) => {
    const start = performance.now();
    const r: StreamResult = {
      ok: false,
      status: 0,
      start,
      ttfb: Number.NaN,
      ttft: Number.NaN,
      total: Number.NaN,
      textChunks: 0,
      arrivals: [],
    };
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      r.total = performance.now() - start;
      if (error) r.error = error;
      r.ok = !r.error && r.status === 200 && Number.isFinite(r.ttfb);
      resolve(r);
    };
    const timer = setTimeout(() => {
      req.destroy(new Error('timeout'));
    }, timeoutMs);
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          accept: streaming ? 'text/event-stream' : 'application/json',
          ...(wire === 'messages' ? { 'anthropic-version': '2023-06-01' } : {}),
        },
      },
      (res) => {
        r.status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        let buf = '';
        let done = false;
        res.on('data', (chunk: string) => {
          const now = performance.now();
          buf += chunk;
          if (r.status !== 200) return;
          if (!streaming) {
            if (!Number.isFinite(r.ttfb)) r.ttfb = r.ttft = now - start;
            return;
          }
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const raw = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const frame: Frame = { data: '' };
            for (const line of raw.split('\n')) {
              if (line.startsWith('event: ')) frame.event = line.slice(7);
              else if (line.startsWith('data: ')) frame.data += line.slice(6);
            }
            if (!frame.data) continue; // keep-alive comments
            let kind: FrameKind;
            try {
              kind = classify(frame);
            } catch {
              r.error ??= 'unparseable frame';
              continue;
            }
            if (kind === 'error') {
              r.error ??= `error frame: ${frame.data.slice(0, 160)}`;
              continue;
            }
            if (kind === 'done') done = true;
            if ((kind === 'first' || kind === 'token') && !Number.isFinite(r.ttfb)) r.ttfb = now - start;
            if (kind === 'token') {
              if (!Number.isFinite(r.ttft)) r.ttft = now - start;
              r.textChunks++;
              r.arrivals.push(now);
            }
          }
        });
        res.on('end', () => {
          if (r.status !== 200) finish(`HTTP ${r.status}: ${buf.slice(0, 160)}`);
          else if (!streaming) {
            try {
              JSON.parse(buf);
              finish();
            } catch {
              finish('unparseable JSON body');
            }
          } else finish(done ? undefined : 'stream ended without its last event');
        });
        res.on('error', (e) => finish(e.message));
      },
    );
    req.on('error', (e) => finish(e.message));
    req.end(payload);
  });
}

/** Chat completions, streaming (the bench's most common call). */
export const gatewayStream = (baseUrl: string, apiKey: string, agent: http.Agent, body = chatBody()) =>
  gatewayCall(baseUrl, 'chat', apiKey, agent, body);

/**
 * The SDK's HTTP/2 handler gives each event-stream call a session of its own (its event streams may be
 * bidirectional); this one leases pooled, shared sessions for every call, as the gateway's client does.
 */
class SharedSessionHttp2Handler extends NodeHttp2Handler {
  override handle(...[request, options]: Parameters<NodeHttp2Handler['handle']>): ReturnType<NodeHttp2Handler['handle']> {
    return super.handle(request, { ...options, isEventStream: false });
  }
}

/**
 * A direct Bedrock client, as a user would write it: `new BedrockRuntimeClient({ endpoint })` with everything else
 * default (region and credentials from the environment, default retries, the SDK's own HTTP/2 handler) —
 * `default`; or the same with sessions kept alive and shared across calls — `shared` (what a tuned direct client
 * could do: the floor for the gateway).
 */
export function directClient(endpoint: string, kind: 'default' | 'shared' = 'default'): BedrockRuntimeClient {
  const config: BedrockRuntimeClientConfig = { endpoint };
  if (kind === 'shared') config.requestHandler = new SharedSessionHttp2Handler({ sessionTimeout: 300_000 });
  return new BedrockRuntimeClient(config);
}

const fresh = (): StreamResult => ({
  ok: false,
  status: 0,
  start: performance.now(),
  ttfb: Number.NaN,
  ttft: Number.NaN,
  total: Number.NaN,
  textChunks: 0,
  arrivals: [],
});

/** ConverseStream straight at the simulator: first byte = first event (messageStart), first token = first text delta. */
export async function directStream(client: BedrockRuntimeClient, prompt = 'ping'): Promise<StreamResult> {
  const r = fresh();
  try {
    const res = await client.send(
      new ConverseStreamCommand({ modelId: MODEL_ID, messages: [{ role: 'user', content: [{ text: prompt }] }] }),
    );
    r.status = res.$metadata.httpStatusCode ?? 0;
    for await (const ev of res.stream ?? []) {
      const now = performance.now();
      if (!Number.isFinite(r.ttfb)) r.ttfb = now - r.start;
      if (ev.contentBlockDelta?.delta?.text) {
        if (!Number.isFinite(r.ttft)) r.ttft = now - r.start;
        r.textChunks++;
        r.arrivals.push(now);
      }
    }
    r.ok = Number.isFinite(r.ttfb);
  } catch (e) {
    r.error = (e as Error).message;
  }
  r.total = performance.now() - r.start;
  return r;
}

const decoder = new TextDecoder();

/**
 * InvokeModelWithResponseStream with a Claude Messages body (what the gateway sends for /v1/messages): first byte
 * = first chunk (message_start), first token = the first content_block_delta with text.
 */
export async function directInvokeStream(client: BedrockRuntimeClient, prompt = 'ping'): Promise<StreamResult> {
  const r = fresh();
  try {
    const res = await client.send(
      new InvokeModelWithResponseStreamCommand({
        modelId: MODEL_ID,
        contentType: 'application/json',
        accept: 'application/json',
        body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 256, messages: [{ role: 'user', content: prompt }] }),
      }),
    );
    r.status = res.$metadata.httpStatusCode ?? 0;
    for await (const ev of res.body ?? []) {
      const now = performance.now();
      if (!ev.chunk?.bytes) continue;
      if (!Number.isFinite(r.ttfb)) r.ttfb = now - r.start;
      const e = JSON.parse(decoder.decode(ev.chunk.bytes)) as { type?: string; delta?: { type?: string; text?: string } };
      if (e.type === 'content_block_delta' && e.delta?.type === 'text_delta' && e.delta.text) {
        if (!Number.isFinite(r.ttft)) r.ttft = now - r.start;
        r.textChunks++;
        r.arrivals.push(now);
      }
    }
    r.ok = Number.isFinite(r.ttft);
  } catch (e) {
    r.error = (e as Error).message;
  }
  r.total = performance.now() - r.start;
  return r;
}
