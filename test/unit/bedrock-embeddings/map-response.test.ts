import { describe, expect, it } from 'vitest';
import { decodeFloat32Base64, encodeFloat32Base64 } from '../../../lambdas/core/providers/bedrock-embeddings/encode-base64.js';
import {
  buildEmbeddingsResponse,
  estimateTokens,
  parseCohereResponse,
  parseTitanResponse,
} from '../../../lambdas/core/providers/bedrock-embeddings/map-response.js';
import { GatewayError } from '../../../lambdas/core/openai/errors.js';

/** Exactly what openai-node does (src/internal/utils/base64.ts, toFloat32Array). */
function openaiNodeDecode(b64: string): number[] {
  const buf = Buffer.from(b64, 'base64');
  return Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.length / Float32Array.BYTES_PER_ELEMENT));
}

describe('base64 float32', () => {
  it('round-trips bit-exactly through the openai-node decoder', () => {
    const values: number[] = [0, -0, 1, -1, 0.5, 1e-38, -3.4028234663852886e38, 1.401298464324817e-45, Math.PI];
    for (let i = 0; i < 1000; i++) values.push((Math.random() - 0.5) * 2 ** ((i % 40) - 20));
    const b64 = encodeFloat32Base64(values);
    const decoded = openaiNodeDecode(b64);
    expect(decoded.length).toBe(values.length);
    decoded.forEach((d, i) => expect(Object.is(d, Math.fround(values[i]))).toBe(true));
    // And bit-for-bit against a native little-endian Float32Array.
    const native = Buffer.from(Float32Array.from(values).buffer);
    expect(Buffer.from(b64, 'base64').equals(native)).toBe(true);
    expect(Array.from(decodeFloat32Base64(b64))).toEqual(decoded);
  });

  it('is little-endian on the wire', () => {
    expect(Buffer.from(encodeFloat32Base64([1]), 'base64')).toEqual(Buffer.from([0x00, 0x00, 0x80, 0x3f]));
  });

  it('decodes correctly from a Buffer that sits at a non-zero byteOffset (pooled Buffers)', () => {
    const bytes = Buffer.from(encodeFloat32Base64([1.5, -2.25, 3]), 'base64');
    const backing = Buffer.alloc(64);
    const slice = backing.subarray(8, 8 + bytes.length);
    bytes.copy(slice);
    expect(slice.byteOffset).toBe(8);
    // openai-node's view honours byteOffset; a naive `new Float32Array(buf.buffer)` would read the pool's zeros.
    expect(Array.from(new Float32Array(slice.buffer, slice.byteOffset, slice.length / 4))).toEqual([1.5, -2.25, 3]);
    expect(Array.from(new Float32Array(slice.buffer)).slice(0, 3)).not.toEqual([1.5, -2.25, 3]);
  });

  it('encodes the empty vector as an empty string', () => {
    expect(encodeFloat32Base64([])).toBe('');
    expect(decodeFloat32Base64('')).toEqual(new Float32Array());
  });
});

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
});

describe('buildEmbeddingsResponse', () => {
  it('float', () => {
    expect(
      buildEmbeddingsResponse(
        [
          [0.5, 1],
          [2, 3],
        ],
        'my-embed',
        'float',
        9,
      ),
    ).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [0.5, 1] },
        { object: 'embedding', index: 1, embedding: [2, 3] },
      ],
      model: 'my-embed',
      usage: { prompt_tokens: 9, total_tokens: 9 },
    });
  });

  it('base64', () => {
    const r = buildEmbeddingsResponse([[0.5, 1]], 'm', 'base64', 1);
    expect(typeof r.data[0].embedding).toBe('string');
    expect(openaiNodeDecode(r.data[0].embedding as string)).toEqual([0.5, 1]);
  });

  it('estimateTokens ≈ ceil(chars / 4), at least 1 per text', () => {
    expect(estimateTokens(['abcd', 'abcde', 'a'])).toBe(1 + 2 + 1);
  });
});
