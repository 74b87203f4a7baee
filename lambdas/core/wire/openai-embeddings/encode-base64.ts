/**
 * OpenAI's `encoding_format: "base64"`: the vector as little-endian IEEE-754 float32 bytes, base64-encoded.
 * openai-node decodes with `new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4)` and openai-python with
 * `np.frombuffer(base64.b64decode(s), dtype="float32")`: both little-endian on every platform they run on.
 * Values are rounded to float32 (Math.fround) — the same precision the models produce.
 */

/** Encodes numbers as base64 of little-endian float32 bytes (explicit endianness, independent of the host). */
export function encodeFloat32Base64(values: ArrayLike<number>): string {
  const buf = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) buf.writeFloatLE(values[i], i * 4);
  return buf.toString('base64');
}

/** Inverse of encodeFloat32Base64. Throws on a byte length that is not a multiple of 4. */
export function decodeFloat32Base64(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  if (buf.length % 4 !== 0) throw new Error('base64 embedding length is not a multiple of 4 bytes');
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}
