import { z } from 'zod';
import { GatewayError } from '../../errors.js';
import type { EmbeddingsProvider } from '../types.js';
import { tokenCount, zeroUsage } from '../../usage.js';
import { parseOpenAICompatibleConfig } from './config.js';
import { type Fetch, post } from './http.js';

const answerSchema = z.object({
  data: z.array(z.object({ index: z.number().int().nonnegative().optional(), embedding: z.array(z.number()) })),
  usage: z.object({ prompt_tokens: z.number().optional(), total_tokens: z.number().optional() }).nullish(),
});

/** Embeddings on an OpenAI-compatible server's `/embeddings` (floats asked for; the gateway encodes base64 itself). */
export function createOpenAICompatibleEmbeddings(fetchFn: Fetch = (url, init) => fetch(url, init)): EmbeddingsProvider {
  return {
    kind: 'embeddings',
    async embed(req, model, ctx) {
      const config = parseOpenAICompatibleConfig(model.config);
      const body = {
        model: config.modelId,
        input: req.inputs,
        encoding_format: 'float',
        ...(req.dimensions ? { dimensions: req.dimensions } : {}),
      };
      const res = await post(fetchFn, config, '/embeddings', body, ctx);
      const parsed = answerSchema.safeParse(await res.json().catch(() => undefined));
      if (!parsed.success || parsed.data.data.length !== req.inputs.length)
        throw new GatewayError(502, 'The upstream answered embeddings the gateway cannot read.', {
          kind: 'upstream',
          code: 'upstream_error',
        });
      const vectors: number[][] = new Array<number[]>(req.inputs.length);
      parsed.data.data.forEach((d, i) => (vectors[d.index ?? i] = d.embedding));
      if (vectors.some((v) => !v))
        throw new GatewayError(502, 'The upstream skipped an input.', { kind: 'upstream', code: 'upstream_error' });
      // Without a reported count, the inputs' UTF-8 bytes: never below the true token count, so never free.
      const reported = parsed.data.usage?.prompt_tokens ?? parsed.data.usage?.total_tokens;
      const input = reported === undefined ? req.inputs.reduce((n, s) => n + Buffer.byteLength(s, 'utf8'), 0) : tokenCount(reported);
      return { vectors, usage: { ...zeroUsage(), inputTokens: input } };
    },
  };
}

export const openAICompatibleEmbeddings: EmbeddingsProvider = createOpenAICompatibleEmbeddings();
