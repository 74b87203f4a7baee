/**
 * Bedrock embeddings provider (I/O). Request/response mapping lives in map-request.ts / map-response.ts.
 *
 * Token usage, in order of preference:
 *   Titan:  body `inputTextTokenCount` → X-Amzn-Bedrock-Input-Token-Count header → estimate (≈ chars / 4).
 *   Cohere: X-Amzn-Bedrock-Input-Token-Count header → body `meta.billed_units.input_tokens` → estimate.
 */
import { InvokeModelCommand, type InvokeModelCommandOutput } from '@aws-sdk/client-bedrock-runtime';
import { GatewayError, isGatewayError } from '../../errors.js';
import { zeroUsage } from '../../usage.js';
import { mapBedrockError } from '../bedrock-errors.js';
import { bedrockClientFor } from '../bedrock-runtime-client.js';
import type { EmbeddingsProvider } from '../types.js';
import { type InvokeCall, planEmbeddings } from './map-request.js';
import { badUpstream, estimateTokens, parseCohereResponse, parseTitanResponse } from './map-response.js';

/** The one client method the provider uses (BedrockRuntimeClient satisfies it; tests pass a stub). */
export interface InvokeModelClient {
  send(command: InvokeModelCommand, options?: { abortSignal?: AbortSignal }): Promise<InvokeModelCommandOutput>;
}

export interface BedrockEmbeddingsDeps {
  /** Client for a region (undefined → the SDK's default region, AWS_REGION). Default: one cached client per region. */
  clientFor?: (region: string | undefined) => InvokeModelClient;
  /** Concurrent InvokeModel calls per request (Titan: one per input; Cohere: one per 96 texts). Default 8. */
  concurrency?: number;
}

/** The shared per-region client for embeddings (see ../bedrock-runtime-client.ts: it runs per-command middleware). */
const defaultClientFor = (region: string | undefined) => bedrockClientFor(region, 'embeddings');

const INPUT_TOKEN_HEADER = 'x-amzn-bedrock-input-token-count';

/**
 * Runs `fn` over `items` with at most `limit` in flight. After the first failure no new work starts, but the work
 * already in flight is waited for (Bedrock bills it), and the failure is thrown with the results that completed.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw new PartialFailure(failure.error, results);
  return results;
}

/** What mapLimit throws: the first failure, and the results of the items that completed (others are holes). */
class PartialFailure<R> extends Error {
  constructor(
    readonly error: unknown,
    readonly completed: R[],
  ) {
    super('a call of the batch failed', { cause: error });
  }
}

interface InvokeResult {
  json: unknown;
  headerInputTokens?: number;
}

async function invokeJson(
  client: InvokeModelClient,
  modelId: string,
  body: Record<string, unknown>,
  signal: AbortSignal | undefined,
): Promise<InvokeResult> {
  const command = new InvokeModelCommand({
    modelId,
    contentType: 'application/json',
    accept: 'application/json',
    body: new TextEncoder().encode(JSON.stringify(body)),
  });
  let headerInputTokens: number | undefined;
  // The token-count header is only visible on the raw HTTP response: capture it in the deserialize step.
  command.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const headers = (result.response as { headers?: Record<string, string | undefined> } | undefined)?.headers;
      const raw = headers?.[INPUT_TOKEN_HEADER];
      if (raw !== undefined && /^\d+$/.test(raw.trim())) headerInputTokens = Number(raw.trim());
      return result;
    },
    { step: 'deserialize', name: 'captureBedrockInputTokenCount' },
  );
  let out: InvokeModelCommandOutput;
  try {
    out = await client.send(command, signal ? { abortSignal: signal } : undefined);
  } catch (e) {
    throw mapBedrockError(e);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(out.body));
  } catch {
    throw badUpstream('the body is not JSON');
  }
  return { json, headerInputTokens };
}

export function createBedrockEmbeddingsProvider(deps: BedrockEmbeddingsDeps = {}): EmbeddingsProvider {
  const clientFor = deps.clientFor ?? defaultClientFor;
  const concurrency = deps.concurrency ?? 8;

  return {
    kind: 'embeddings',
    async embed(req, model, ctx) {
      const plan = planEmbeddings(req, model);
      const client = clientFor(plan.region);
      const vectors = new Array<number[]>(plan.inputCount);

      const run = mapLimit(plan.calls, concurrency, async (call: InvokeCall) => {
        const { json, headerInputTokens } = await invokeJson(client, plan.modelId, call.body, ctx.signal);
        const parsed = plan.family === 'cohere' ? parseCohereResponse(json, call.indexes.length) : parseTitanResponse(json);
        call.indexes.forEach((inputIndex, k) => {
          vectors[inputIndex] = parsed.vectors[k];
        });
        const reported = plan.family === 'cohere' ? (headerInputTokens ?? parsed.inputTokens) : (parsed.inputTokens ?? headerInputTokens);
        return reported ?? estimateTokens(call.texts);
      });
      let tokenCounts: number[];
      try {
        tokenCounts = await run;
      } catch (e) {
        if (!(e instanceof PartialFailure)) throw e;
        // The finished calls were billed by Bedrock: the failure carries their tokens, so the key pays for them.
        const spent = (e.completed as Array<number | undefined>).reduce<number>((a, b) => a + (b ?? 0), 0);
        const cause = isGatewayError(e.error) ? e.error : mapBedrockError(e.error);
        throw new GatewayError(cause.status, cause.message, {
          kind: cause.kind,
          code: cause.code,
          param: cause.param,
          retryable: cause.retryable,
          retryAfter: cause.retryAfter,
          spent: { ...zeroUsage(), inputTokens: spent },
          cause: e.error,
        });
      }

      return { vectors, usage: { ...zeroUsage(), inputTokens: tokenCounts.reduce((a, b) => a + b, 0) } };
    },
  };
}
