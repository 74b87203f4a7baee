import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionChunk } from '../../lambdas/core/wire/openai-chat/types.js';
import type { OpenAIErrorBody } from '../../lambdas/core/wire/openai/errors.js';

/** What one streamed call looked like from the client's side. Times are performance.now() based, in ms. */
export interface StreamResult {
  ok: boolean;
  status: number;
  /** performance.now() when the request was started. */
  start: number;
  /** Time to the first data frame carrying a role or content (gateway) / the first stream event (direct). */
  ttfb: number;
  /** Time until the response ended. */
  total: number;
  /** Frames / events carrying text. */
  textChunks: number;
  /** performance.now() of the read that delivered each text chunk. */
  arrivals: number[];
  error?: string;
}

/** An SSE data frame: a chunk, or the in-band error that ends a failed stream. */
type Frame = Partial<ChatCompletionChunk> & Partial<OpenAIErrorBody>;

export const MODEL_ID = 'anthropic.claude-3-haiku-20240307-v1:0';

/**
 * POST /v1/chat/completions with stream:true through the gateway, read with plain node:http (keep-alive) so
 * that client overhead is as small as it gets; SSE frames are split and parsed as they arrive.
 */
export function gatewayStream(
  baseUrl: string,
  apiKey: string,
  agent: http.Agent,
  body: unknown,
  timeoutMs = 30_000,
): Promise<StreamResult> {
  const payload = JSON.stringify(body);
  const url = new URL('/v1/chat/completions', baseUrl);
  return new Promise((resolve) => {
    const start = performance.now();
    const r: StreamResult = { ok: false, status: 0, start, ttfb: Number.NaN, total: Number.NaN, textChunks: 0, arrivals: [] };
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
          accept: 'text/event-stream',
        },
      },
      (res) => {
        r.status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        let buf = '';
        let done = false;
        res.on('data', (chunk: string) => {
          const now = performance.now();
          if (r.status !== 200) {
            buf += chunk;
            return;
          }
          buf += chunk;
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const frame = buf.slice(0, i);
            buf = buf.slice(i + 2);
            if (!frame.startsWith('data: ')) continue; // keep-alive comments
            const data = frame.slice(6);
            if (data === '[DONE]') {
              done = true;
              continue;
            }
            let parsed: Frame;
            try {
              parsed = JSON.parse(data) as Frame;
            } catch {
              r.error ??= 'unparseable frame';
              continue;
            }
            if (parsed.error) {
              r.error ??= `error frame: ${String(parsed.error.message ?? '').slice(0, 120)}`;
              continue;
            }
            const delta = parsed.choices?.[0]?.delta;
            if (!Number.isFinite(r.ttfb) && (delta?.role || delta?.content)) r.ttfb = now - start;
            if (delta?.content) {
              r.textChunks++;
              r.arrivals.push(now);
            }
          }
        });
        res.on('end', () => {
          if (r.status !== 200) finish(`HTTP ${r.status}: ${buf.slice(0, 160)}`);
          else finish(done ? undefined : 'stream ended without [DONE]');
        });
        res.on('error', (e) => finish(e.message));
      },
    );
    req.on('error', (e) => finish(e.message));
    req.end(payload);
  });
}

export function chatBody(prompt = 'ping'): Record<string, unknown> {
  return { model: 'bench', messages: [{ role: 'user', content: prompt }], stream: true };
}

export function directClient(simUrl: string): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    endpoint: simUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

/** ConverseStream straight at the simulator with the real SDK client: time to the first event (messageStart). */
export async function directStream(client: BedrockRuntimeClient, prompt = 'ping'): Promise<StreamResult> {
  const start = performance.now();
  const r: StreamResult = { ok: false, status: 0, start, ttfb: Number.NaN, total: Number.NaN, textChunks: 0, arrivals: [] };
  try {
    const res = await client.send(
      new ConverseStreamCommand({ modelId: MODEL_ID, messages: [{ role: 'user', content: [{ text: prompt }] }] }),
    );
    r.status = res.$metadata.httpStatusCode ?? 0;
    for await (const ev of res.stream ?? []) {
      const now = performance.now();
      if (!Number.isFinite(r.ttfb)) r.ttfb = now - start;
      if (ev.contentBlockDelta?.delta?.text) {
        r.textChunks++;
        r.arrivals.push(now);
      }
    }
    r.ok = Number.isFinite(r.ttfb);
  } catch (e) {
    r.error = (e as Error).message;
  }
  r.total = performance.now() - start;
  return r;
}
