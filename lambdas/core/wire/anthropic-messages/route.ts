import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { authenticateWhile, servePresented } from '../../auth/authenticate.js';
import { resolveModelForKey } from '../../auth/model-access.js';
import { countInputTokens } from '../../chat/count-tokens.js';
import { foldEvents } from '../../chat/fold.js';
import { type ChatRun, runChat } from '../../chat/pipeline.js';
import { config } from '../../config.js';
import { asGatewayError } from '../../errors.js';
import { countRequest } from '../../billing/admission.js';
import { limitsFor } from '../../limits/effective.js';
import { rateLimitHeaders } from '../../limits/types.js';
import type { ApiKey } from '../../store/keys.js';
import { parse } from '../../validate.js';
import { jsonResponse, type V1Request, type V1Response } from '../http.js';
import { sessionKeyOf } from '../session.js';
import { SSE_HEADERS, SseStream } from '../sse.js';
import { betasOf, decodeCountTokensRequest, decodeMessagesRequest } from './decode.js';
import { AnthropicStreamEncoder, encodeAnthropicMessage, type MessageMeta } from './encode.js';
import { anthropicErrorBody, anthropicErrorResponse } from './errors.js';
import { countTokensRequestSchema, messagesRequestSchema } from './schemas.js';

/** Session headers, in order: the gateway's own, then Claude Code's. */
const SESSION_HEADERS = ['session-id', 'x-claude-code-session-id'] as const;

/**
 * POST /v1/messages (a `?beta=true` query is ignored). Everything that can refuse the call — auth, validation,
 * model, permission, quota, and the upstream's first answer — happens before a status is committed, so those
 * failures are real HTTP errors in Anthropic's shape. After `200 text/event-stream`, a failure is an
 * `event: error` frame. `stream` absent or false: one JSON message.
 */
export async function messages(input: V1Request): Promise<V1Response> {
  try {
    // The key is looked up while the body is validated (or recalled, and confirmed by the admission: servePresented).
    return await servePresented(
      input.headers,
      () => parse(messagesRequestSchema, input.body),
      (key, body) => serve(input, key, body),
    );
  } catch (e) {
    return anthropicErrorResponse(asGatewayError(e, input.requestId), input.requestId);
  }
}

async function serve(input: V1Request, key: ApiKey, body: z.infer<typeof messagesRequestSchema>): Promise<V1Response> {
  const model = await resolveModelForKey(key, body.model);
  const request = decodeMessagesRequest(body, betasOf(input.headers));
  const sessionKey = sessionKeyOf(input.headers, SESSION_HEADERS);
  const run = await runChat({ key, model, request, requestId: input.requestId, invocation: input.invocation, sessionKey });
  const meta: MessageMeta = { id: `msg_${(input.requestId || randomUUID()).replace(/-/g, '')}`, model: body.model };
  const headers = { 'request-id': input.requestId, 'x-request-id': input.requestId, ...rateLimitHeaders(run.rate) };
  if (!request.stream) {
    const result = await foldEvents(run.events);
    await run.settled; // a whole JSON answer follows the books
    return jsonResponse(200, encodeAnthropicMessage(result, meta), headers);
  }
  const encoder = new AnthropicStreamEncoder(meta);
  // Anthropic's keep-alive is a ping event; a message_start still held goes out first.
  const stream = new SseStream(config().sseKeepAliveMs, (s) => {
    for (const out of encoder.flush()) s.event(out.type, out);
    s.event('ping', { type: 'ping' });
  });
  stream.onAbort = () => run.abort();
  stream.settled = pump(run, stream, encoder, input.requestId).finally(() => run.settled);
  return { statusCode: 200, headers: { ...SSE_HEADERS, ...headers }, body: stream };
}

/**
 * POST /v1/messages/count_tokens: `{input_tokens}` for the request as it would be sent — Bedrock's CountTokens for
 * Claude, the gateway's estimate for other models (chat/count-tokens.ts). Needs a valid key and a permitted model;
 * not billed, not recorded.
 */
export async function countTokens(input: V1Request): Promise<V1Response> {
  try {
    const { key, body } = await authenticated(input, countTokensRequestSchema);
    const model = await resolveModelForKey(key, body.model);
    const request = decodeCountTokensRequest(body, betasOf(input.headers));
    // Not billed, but counted against the key's rpm_limit: an unmetered route would be a way around it (and each
    // count may call Bedrock's CountTokens and fetch image URLs).
    const rate = await countRequest(key, await limitsFor(key));
    const counted = await countInputTokens({ model, request, requestId: input.requestId });
    return jsonResponse(
      200,
      { input_tokens: counted.inputTokens },
      { 'request-id': input.requestId, 'x-request-id': input.requestId, ...rateLimitHeaders(rate) },
    );
  } catch (e) {
    return anthropicErrorResponse(asGatewayError(e, input.requestId), input.requestId);
  }
}

/** The key is looked up while the body is validated; a bad key still wins over a bad body (401). */
async function authenticated<T>(input: V1Request, schema: z.ZodType<T>): Promise<{ key: ApiKey; body: T }> {
  const { key, value } = await authenticateWhile(input.headers, () => parse(schema, input.body));
  return { key, body: value };
}

/**
 * Relays events as Anthropic SSE as they come. The run settles the call before its events end, so message_delta
 * and message_stop follow the books — unless SETTLE_AFTER_LAST_BYTE (see config.ts).
 */
async function pump(run: ChatRun, stream: SseStream, encoder: AnthropicStreamEncoder, requestId: string): Promise<void> {
  let failed = false;
  for await (const ev of run.events) {
    if (stream.destroyed) break;
    if (ev.type === 'error') {
      // A message_start still held goes out first: Anthropic's clients expect it before any error frame.
      for (const out of encoder.flush()) stream.event(out.type, out);
      stream.event('error', anthropicErrorBody(ev.error, requestId));
      failed = true;
      continue;
    }
    for (const out of encoder.encode(ev)) stream.event(out.type, out);
  }
  if (!failed && !stream.destroyed) for (const out of encoder.end()) stream.event(out.type, out);
  stream.close();
}
