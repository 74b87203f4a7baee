import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { servePresented } from '../../auth/authenticate.js';
import { resolveModelForKey } from '../../auth/model-access.js';
import { foldEvents } from '../../chat/fold.js';
import { type ChatRun, runChat } from '../../chat/pipeline.js';
import { config } from '../../config.js';
import { asGatewayError } from '../../errors.js';
import { rateLimitHeaders } from '../../limits/types.js';
import type { ApiKey } from '../../store/keys.js';
import { parse } from '../../validate.js';
import { jsonResponse, type V1Request, type V1Response } from '../http.js';
import { openAIErrorBody, openAIErrorResponse } from '../openai/errors.js';
import { sessionKeyOf } from '../session.js';
import { SSE_HEADERS, SseStream } from '../sse.js';
import { decodeChatCompletion } from './decode.js';
import { type CompletionMeta, encodeChatCompletion, OpenAIChatChunkEncoder } from './encode.js';
import { chatCompletionSchema } from './schemas.js';

/**
 * POST /v1/chat/completions. Everything that can refuse the call — auth, validation, model, permission, quota,
 * and the upstream's first answer — happens before a status is committed, so those failures are real HTTP
 * errors. After `200 text/event-stream`, a failure can only be an in-band error frame.
 */
export async function chatCompletions(input: V1Request): Promise<V1Response> {
  try {
    // The key is looked up while the body is validated (or recalled, and confirmed by the admission: servePresented);
    // a bad key still wins over a bad body (401).
    return await servePresented(
      input.headers,
      () => parse(chatCompletionSchema, input.body),
      (key, req) => serve(input, key, req),
    );
  } catch (e) {
    return openAIErrorResponse(asGatewayError(e, input.requestId), input.requestId);
  }
}

async function serve(input: V1Request, key: ApiKey, req: z.infer<typeof chatCompletionSchema>): Promise<V1Response> {
  const model = await resolveModelForKey(key, req.model);
  const request = decodeChatCompletion(req);
  const run = await runChat({
    key,
    model,
    request,
    requestId: input.requestId,
    invocation: input.invocation,
    sessionKey: sessionKeyOf(input.headers),
  });
  const meta: CompletionMeta = {
    id: `chatcmpl-${input.requestId || randomUUID()}`,
    created: Math.floor(Date.now() / 1000),
    model: req.model,
  };
  const headers = { 'x-request-id': input.requestId, ...rateLimitHeaders(run.rate) };
  if (!req.stream) {
    const result = await foldEvents(run.events);
    // A whole JSON answer follows the books: a client that checks its balance or thread next sees this call.
    await run.settled;
    return jsonResponse(200, encodeChatCompletion(result, meta), headers);
  }
  const body = new SseStream(config().sseKeepAliveMs);
  body.onAbort = () => run.abort();
  body.settled = pump(run, body, new OpenAIChatChunkEncoder(meta, req.stream_options?.include_usage === true)).finally(() => run.settled);
  return { statusCode: 200, headers: { ...SSE_HEADERS, ...headers }, body };
}

/**
 * Relays events as chunks as they come. The run settles the call before its events end, so the closing `[DONE]`
 * follows the books — unless SETTLE_AFTER_LAST_BYTE, when the settlement runs while it is written (the invocation
 * waits for it: invocation.ts).
 */
async function pump(run: ChatRun, body: SseStream, encoder: OpenAIChatChunkEncoder): Promise<void> {
  let failed = false;
  for await (const ev of run.events) {
    if (body.destroyed) break;
    if (ev.type === 'error') {
      body.data(openAIErrorBody(ev.error));
      failed = true;
      continue;
    }
    for (const chunk of encoder.encode(ev)) body.data(chunk);
  }
  if (!failed && !body.destroyed) {
    for (const chunk of encoder.end()) body.data(chunk);
    body.data('[DONE]');
  }
  body.close();
}
