import { admit } from '../billing/admission.js';
import { pricesOf } from '../billing/cost.js';
import { settle } from '../billing/settle.js';
import { authenticate } from '../auth/authenticate.js';
import { resolveModelForKey } from '../auth/model-access.js';
import { parse } from '../http/validate.js';
import { logger } from '../log.js';
import { fetchImage } from '../net/safe-fetch.js';
import { embeddingsSchema } from '../openai/schemas.js';
import { embeddingsProvider } from '../providers/registry.js';
import { zeroUsage } from '../providers/types.js';
import { asGatewayError, sessionKeyOf, type V1Request } from './chat-completions.js';
import { estimateEmbeddingsCost } from './estimate.js';
import { type V1Response, v1Error, v1Json } from './http.js';

/** POST /v1/embeddings: same auth, permission, quota, billing and records as chat; input tokens only. */
export async function embeddings(input: V1Request): Promise<V1Response> {
  const started = Date.now();
  try {
    const key = await authenticate(input.headers);
    const req = parse(embeddingsSchema, input.body);
    const model = await resolveModelForKey(key, req.model);
    const provider = await embeddingsProvider(model.provider);
    const reservation = await admit(key, estimateEmbeddingsCost(req.input, pricesOf(model)));
    const prompt = Array.isArray(req.input) ? (req.input as unknown[]).map(String).join('\n') : String(req.input);
    const base = {
      requestId: input.requestId,
      kind: 'embeddings' as const,
      key,
      model,
      sessionKey: sessionKeyOf(input.headers),
      prompt,
      completion: '',
      reasoning: '',
      toolCalls: [],
      finishReason: null,
      reservation,
    };
    try {
      const { response, usage } = await provider.embed(req, model, { requestId: input.requestId, fetchImage: (u) => fetchImage(u) });
      const elapsed = Date.now() - started;
      await settle({
        ...base,
        usage: { ...usage, outputTokens: 0 },
        status: 'ok',
        error: null,
        firstByteLatency: elapsed,
        totalLatency: elapsed,
      });
      return v1Json(200, { ...response, model: req.model }, { 'x-request-id': input.requestId });
    } catch (e) {
      const err = asGatewayError(e, input.requestId);
      await settle({
        ...base,
        usage: zeroUsage(),
        status: 'error',
        error: err.message,
        firstByteLatency: null,
        totalLatency: Date.now() - started,
      }).catch((settleError) => logger.error('failed to record a failed embeddings call', { error: settleError as Error }));
      throw err;
    }
  } catch (e) {
    return v1Error(asGatewayError(e, input.requestId), input.requestId);
  }
}
