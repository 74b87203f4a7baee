import { describe, expect, it } from 'vitest';
import { decodeFloat32Base64, encodeFloat32Base64 } from '../../../../lambdas/core/wire/openai-embeddings/encode-base64.js';

/** Exactly what openai-node does (src/internal/utils/base64.ts, toFloat32Array). */
function openaiNodeDecode(b64: string): number[] {
  const buf = Buffer.from(b64, 'base64');
  return Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.length / Float32Array.BYTES_PER_ELEMENT));
}

describe('base64 float32 (encoding_format: "base64")', () => {
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

  it('a provider vector encodes to what openai-node reads back', () => {
    expect(openaiNodeDecode(encodeFloat32Base64([0.5, 1]))).toEqual([0.5, 1]);
  });

  it('encodes the empty vector as an empty string', () => {
    expect(encodeFloat32Base64([])).toBe('');
    expect(decodeFloat32Base64('')).toEqual(new Float32Array());
  });

  it('refuses a byte length that is not a multiple of 4', () => {
    expect(() => decodeFloat32Base64(Buffer.from([1, 2, 3]).toString('base64'))).toThrow(/multiple of 4/);
  });
});
