import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../../lambdas/core/errors.js';
import {
  badUpstream,
  estimateTokens,
  parseCohereResponse,
  parseTitanResponse,
} from '../../../../lambdas/core/providers/bedrock-embeddings/map-response.js';

describe('parse responses', () => {
  it('Titan', () => {
    expect(parseTitanResponse({ embedding: [0.1, 0.2], inputTextTokenCount: 7 })).toEqual({
      vectors: [[0.1, 0.2]],
      inputTokens: 7,
    });
    expect(parseTitanResponse({ embedding: [1], embeddingsByType: {} }).inputTokens).toBeUndefined();
    expect(() => parseTitanResponse({ nope: 1 })).toThrow(GatewayError);
  });

  it('Cohere: embeddings_by_type and embeddings_floats shapes', () => {
    expect(parseCohereResponse({ embeddings: { float: [[1], [2]] }, response_type: 'embeddings_by_type' }, 2).vectors).toEqual([[1], [2]]);
    expect(parseCohereResponse({ embeddings: [[1], [2]], response_type: 'embeddings_floats' }, 2).vectors).toEqual([[1], [2]]);
    expect(parseCohereResponse({ embeddings: [[1]], meta: { billed_units: { input_tokens: 5 } } }, 1).inputTokens).toBe(5);
  });

  it('Cohere: count mismatch or missing float → 502', () => {
    const e = (() => {
      try {
        parseCohereResponse({ embeddings: [[1]] }, 2);
      } catch (err) {
        return err as GatewayError;
      }
      return null;
    })();
    expect(e?.status).toBe(502);
    expect(() => parseCohereResponse({ embeddings: { int8: [[1]] } }, 1)).toThrow(GatewayError);
  });

  it('an unexpected body is an upstream failure (502, kind upstream), not the client’s fault', () => {
    expect(badUpstream('x')).toMatchObject({ status: 502, kind: 'upstream', code: 'upstream_error' });
  });

  it('estimateTokens ≈ ceil(chars / 4), at least 1 per text', () => {
    expect(estimateTokens(['abcd', 'abcde', 'a'])).toBe(1 + 2 + 1);
  });
});
