import { admit, type Reservation } from '../billing/admission.js';
import { pricesOf } from '../billing/cost.js';
import { settle, type UsageRecord } from '../billing/settle.js';
import { authenticate } from '../auth/authenticate.js';
import { resolveModelForKey } from '../auth/model-access.js';
import { parse } from '../http/validate.js';
import { logger } from '../log.js';
import { fetchImage } from '../net/safe-fetch.js';
import { errors, GatewayError, isGatewayError } from '../openai/errors.js';
import { chatCompletionSchema } from '../openai/schemas.js';
import type { ChatCompletionRequest } from '../openai/types.js';
import { chatProvider } from '../providers/registry.js';
import { type CallContext, type ChatOutcome, type ChatStream, type TokenUsage, zeroUsage } from '../providers/types.js';
import type { ApiKey } from '../store/keys.js';
import type { Model } from '../store/models.js';
import { estimateChatCost, estimatePromptTokens } from './estimate.js';
import { type V1Response, v1Error, v1Json } from './http.js';
import { lastUserPrompt } from './prompt.js';
import { SSE_HEADERS, SseStream } from './sse-stream.js';

export interface V1Request {
  requestId: string;
  headers: Record<string, string | undefined>;
  body: unknown;
}

/**
 * POST /v1/chat/completions. Everything that can refuse the call — auth, validation, model, permission, quota,
 * and the upstream's first answer — happens before a status is committed, so those failures are real HTTP
 * errors. After `200 text/event-stream`, a failure can only be an in-band error frame.
 */
export async function chatCompletions(input: V1Request): Promise<V1Response> {
  try {
    // The key lookup is I/O: validate the body while it is in flight. A bad key still wins over a bad body (401).
    const keyLookup = authenticate(input.headers);
    keyLookup.catch(() => undefined);
    let req: ChatCompletionRequest;
    try {
      req = parse(chatCompletionSchema, input.body);
    } catch (e) {
      await keyLookup;
      throw e;
    }
    const key = await keyLookup;
    const model = await resolveModelForKey(key, req.model);
    return await runChat({ key, model, req, requestId: input.requestId, sessionKey: sessionKeyOf(input.headers) });
  } catch (e) {
    return v1Error(asGatewayError(e, input.requestId), input.requestId);
  }
}

export interface ChatCall {
  key: ApiKey;
  model: Model;
  req: ChatCompletionRequest;
  requestId: string;
  sessionKey?: string;
}

/** The core path shared by /v1/chat/completions and the Feishu worker. */
export async function runChat(call: ChatCall): Promise<V1Response> {
  const { key, model, req, requestId } = call;
  const provider = await chatProvider(model.provider);
  const reservation = await admit(key, estimateChatCost(req, pricesOf(model), model.config));
  const abort = new AbortController();
  const ctx: CallContext = { requestId, fetchImage: (url) => fetchImage(url), signal: abort.signal };
  const started = Date.now();
  const record = recorder(call, reservation, started);

  if (!req.stream) {
    let result;
    try {
      result = await provider.complete(req, model, ctx);
    } catch (e) {
      await record.failed(e);
      throw e;
    }
    const elapsed = Date.now() - started;
    // The answer exists: a bookkeeping failure is logged (and its reservation released), not turned into a 500.
    await record
      .done(result.outcome, 'ok', null, elapsed)
      .catch((e) => logger.error('failed to settle a call', { requestId, error: e as Error }));
    return v1Json(200, { ...result.response, model: req.model }, { 'x-request-id': requestId });
  }

  let stream: ChatStream;
  try {
    stream = await provider.stream(req, model, ctx);
  } catch (e) {
    await record.failed(e);
    throw e;
  }
  const body = new SseStream(keepAliveMs());
  body.onAbort = () => abort.abort();
  body.settled = pump(stream, body, abort, record, started);
  return { statusCode: 200, headers: { ...SSE_HEADERS, 'x-request-id': requestId }, body };
}

/**
 * Relays chunks as they come. The call is settled (charged and recorded) BEFORE the closing `[DONE]`, so a client
 * that checks its balance or thread right after the stream sees this call; an interrupted stream is settled when
 * it ends.
 */
async function pump(stream: ChatStream, body: SseStream, abort: AbortController, record: Recorder, started: number): Promise<void> {
  let firstByte: number | null = null;
  let status: UsageRecord['status'] = 'ok';
  let error: GatewayError | null = null;
  try {
    for await (const chunk of stream.chunks) {
      if (body.destroyed) break;
      firstByte ??= Date.now() - started;
      body.data(chunk);
    }
    if (body.destroyed || abort.signal.aborted) status = 'interrupted';
  } catch (e) {
    if (body.destroyed || abort.signal.aborted) {
      status = 'interrupted';
    } else {
      status = 'error';
      error = asGatewayError(e, 'stream');
    }
  }
  try {
    await record.done(stream.outcome(), status, error?.message ?? null, firstByte);
  } catch (e) {
    logger.error('failed to settle a streamed call', { error: e as Error });
  }
  if (error) body.data(error.toOpenAI());
  else if (status === 'ok') body.data('[DONE]');
  body.close();
}

interface Recorder {
  done(outcome: ChatOutcome, status: UsageRecord['status'], error: string | null, firstByte: number | null): Promise<void>;
  failed(e: unknown): Promise<void>;
}

function recorder(call: ChatCall, reservation: Reservation, started: number): Recorder {
  const base = {
    requestId: call.requestId,
    kind: 'chat' as const,
    key: call.key,
    model: call.model,
    sessionKey: call.sessionKey,
    prompt: lastUserPrompt(call.req),
    reservation,
  };
  return {
    async done(outcome, status, error, firstByte) {
      const usage = status === 'ok' ? outcome.usage : billableUsage(outcome, call.req);
      await settle({
        ...base,
        completion: outcome.text,
        reasoning: outcome.reasoning,
        toolCalls: outcome.toolCalls,
        finishReason: outcome.finishReason,
        usage,
        status,
        error,
        firstByteLatency: firstByte,
        totalLatency: Date.now() - started,
      });
    },
    async failed(e) {
      // Refused before any token was produced: nothing is charged, the call is still on record.
      const err = asGatewayError(e, call.requestId);
      try {
        await settle({
          ...base,
          completion: '',
          reasoning: '',
          toolCalls: [],
          finishReason: null,
          usage: zeroUsage(),
          status: 'error',
          error: err.message,
          firstByteLatency: null,
          totalLatency: Date.now() - started,
        });
      } catch (settleError) {
        logger.error('failed to record a failed call', { error: settleError as Error });
      }
    },
  };
}

/**
 * An interrupted or failed stream has no usage from Bedrock, which still bills the prompt once it accepted the
 * request, and whatever it generated: charge the prompt as admission estimated it (text / 3, a flat amount per
 * image, documents by size) plus what was streamed (≈ 4 characters a token).
 */
function billableUsage(outcome: ChatOutcome, req: ChatCompletionRequest): TokenUsage {
  if (outcome.usage.inputTokens > 0 || outcome.usage.outputTokens > 0) return outcome.usage;
  const produced = outcome.text.length + outcome.reasoning.length + outcome.toolCalls.reduce((n, t) => n + t.function.arguments.length, 0);
  return { ...zeroUsage(), inputTokens: estimatePromptTokens(req), outputTokens: Math.ceil(produced / 4) };
}

function keepAliveMs(): number {
  const v = Number(process.env.SSE_KEEPALIVE_MS ?? 10_000);
  return Number.isFinite(v) && v >= 0 ? v : 10_000;
}

export function sessionKeyOf(headers: Record<string, string | undefined>): string | undefined {
  const v = headers['session-id']?.trim();
  return v ? v.slice(0, 200) : undefined;
}

export function asGatewayError(e: unknown, requestId: string): GatewayError {
  if (isGatewayError(e)) return e;
  logger.error('unexpected error', { requestId, error: e as Error });
  return errors.internal();
}
