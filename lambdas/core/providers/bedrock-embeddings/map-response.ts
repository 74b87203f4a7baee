/** Pure parsing of Bedrock embeddings responses (zod describes what Bedrock returns). */
import { z } from 'zod';
import { GatewayError } from '../../errors.js';

const vector = z.array(z.number());
const count = z.number().int().nonnegative();

const titanResponse = z.object({ embedding: vector, inputTextTokenCount: count.optional() });
const cohereResponse = z.object({
  embeddings: z.union([z.array(vector), z.object({ float: z.array(vector) })]),
  /** Cohere's native API reports billed units; Bedrock may or may not pass it through. */
  meta: z.object({ billed_units: z.object({ input_tokens: count.optional() }).optional() }).optional(),
});

export const badUpstream = (detail: string) =>
  new GatewayError(502, `Unexpected response from Bedrock: ${detail}.`, { kind: 'upstream', code: 'upstream_error' });

export interface ParsedVectors {
  vectors: number[][];
  /** Input tokens reported in the body, when present. */
  inputTokens?: number;
}

export function parseTitanResponse(json: unknown): ParsedVectors {
  const r = titanResponse.safeParse(json);
  if (!r.success) throw badUpstream('no embedding in the Titan response');
  return { vectors: [r.data.embedding], inputTokens: r.data.inputTextTokenCount };
}

export function parseCohereResponse(json: unknown, expected: number): ParsedVectors {
  const r = cohereResponse.safeParse(json);
  if (!r.success) throw badUpstream('no float embeddings in the Cohere response');
  const vectors = Array.isArray(r.data.embeddings) ? r.data.embeddings : r.data.embeddings.float;
  if (vectors.length !== expected) throw badUpstream(`expected ${expected} embeddings, got ${vectors.length}`);
  return { vectors, inputTokens: r.data.meta?.billed_units?.input_tokens };
}

/**
 * Rough token estimate (≈ 4 characters per token, at least 1 per text), used only when Bedrock reports no count
 * (neither the X-Amzn-Bedrock-Input-Token-Count header nor a body field).
 */
export function estimateTokens(texts: readonly string[]): number {
  return texts.reduce((sum, t) => sum + Math.max(1, Math.ceil(t.length / 4)), 0);
}
