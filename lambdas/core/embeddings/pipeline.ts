/**
 * The core path of an embeddings call: admission against the key's money, the provider, and settlement (input
 * tokens only) — the same books as chat. A call that fails is still on record, charged for what the upstream had
 * already spent (the finished calls of a batch), nothing more.
 */
import { admit } from '../billing/admission.js';
import { costOf, pricesOf } from '../billing/cost.js';
import { settleReliably } from '../billing/deferred.js';
import type { UsageRecord } from '../billing/settle.js';
import { asGatewayError } from '../errors.js';
import type { Invocation } from '../invocation.js';
import { limitsFor } from '../limits/effective.js';
import type { RateSnapshot } from '../limits/types.js';
import { embeddingsProvider } from '../providers/registry.js';
import type { EmbeddingsRequest, EmbeddingsResult } from '../providers/types.js';
import type { ApiKey } from '../store/keys.js';
import type { Model } from '../store/models.js';
import { zeroUsage } from '../usage.js';

export interface EmbeddingsCall {
  key: ApiKey;
  model: Model;
  request: EmbeddingsRequest;
  requestId: string;
  sessionKey?: string;
  /** The invocation the call runs in: work a refusal leaves behind (billing/admission.ts) keeps it open. */
  invocation?: Invocation;
}

/** Text / 3 plus one per input: generous, held in reserve (at the input price) while the call runs. */
export function estimateEmbeddingsTokens(inputs: string[]): number {
  return Math.ceil(inputs.reduce((n, t) => n + t.length, 0) / 3) + inputs.length;
}

export async function runEmbeddings(call: EmbeddingsCall): Promise<EmbeddingsResult & { rate?: RateSnapshot }> {
  const started = Date.now();
  const provider = await embeddingsProvider(call.model.provider);
  const tokens = estimateEmbeddingsTokens(call.request.inputs);
  const reservation = await admit(call.key, costOf({ ...zeroUsage(), inputTokens: tokens }, pricesOf(call.model)), call.requestId, {
    limits: await limitsFor(call.key),
    tokens,
    hold: (work) => call.invocation?.hold(work),
  });
  const base: Omit<UsageRecord, 'usage' | 'status' | 'error' | 'firstByteLatency' | 'totalLatency'> = {
    requestId: call.requestId,
    kind: 'embeddings',
    keyId: call.key.id,
    key: call.key,
    model: call.model,
    sessionKey: call.sessionKey,
    prompt: call.request.inputs.join('\n'),
    completion: '',
    reasoning: '',
    toolCalls: [],
    finishReason: null,
    reservation,
  };
  const abort = new AbortController();
  let result: EmbeddingsResult;
  try {
    result = await provider.embed(call.request, call.model, { requestId: call.requestId, signal: abort.signal });
  } catch (e) {
    const err = asGatewayError(e, call.requestId);
    // What the upstream already spent (the finished calls of a batch) is billed even though the call failed.
    await settleReliably({
      ...base,
      usage: err.spent ? { ...err.spent, outputTokens: 0 } : zeroUsage(),
      status: 'error',
      error: err.message,
      firstByteLatency: null,
      totalLatency: Date.now() - started,
    });
    throw err;
  }
  const elapsed = Date.now() - started;
  await settleReliably({
    ...base,
    usage: { ...result.usage, outputTokens: 0 },
    status: 'ok',
    error: null,
    firstByteLatency: elapsed,
    totalLatency: elapsed,
  });
  return { ...result, rate: reservation.rate };
}
