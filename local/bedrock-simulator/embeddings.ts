/**
 * InvokeModel for embedding models: Amazon Titan Text Embeddings (v1, v2) and Cohere Embed (v3, v4).
 *
 * Vectors are deterministic and mildly meaningful: each word contributes a hash-seeded random direction, plus a small
 * component seeded by the whole text, so texts sharing words have a higher cosine similarity than unrelated ones
 * (enough for an offline RAG demo) and identical texts always give identical vectors. Every value is rounded with
 * Math.fround so it survives a float32 round trip (base64 encoding in the gateway) unchanged.
 */
import { createHash } from 'node:crypto';
import { validationError } from './errors.js';
import type { JsonObject } from './scenario.js';

export interface InvokeResult {
  body: JsonObject;
  inputTokens: number;
}

type EmbeddingFamily = 'titan-v1' | 'titan-v2' | 'cohere-v3' | 'cohere-v4';

/**
 * Which embedding API a model id speaks. Foundation ids and foundation-model ARNs are recognised by name; an
 * application inference profile ARN is opaque, so there the body's shape decides.
 */
function embeddingFamily(modelId: string, body: JsonObject): EmbeddingFamily | undefined {
  const id = modelId.toLowerCase();
  if (id.includes('amazon.titan-embed-text-v2')) return 'titan-v2';
  if (id.includes('amazon.titan-embed-text-v1') || id.includes('amazon.titan-embed-g1-text')) return 'titan-v1';
  if (id.includes('cohere.embed-v4')) return 'cohere-v4';
  if (id.includes('cohere.embed-')) return 'cohere-v3';
  if (id.includes(':application-inference-profile/')) {
    if (typeof body.inputText === 'string') return 'titan-v2';
    if (Array.isArray(body.texts)) return 'cohere-v3';
  }
  return undefined;
}

export function invokeEmbedding(modelId: string, body: JsonObject): InvokeResult {
  const family = embeddingFamily(modelId, body);
  switch (family) {
    case 'titan-v1':
    case 'titan-v2':
      return titan(family, body);
    case 'cohere-v3':
    case 'cohere-v4':
      return cohere(family, body);
    default:
      throw validationError('The provided model identifier is invalid.');
  }
}

const tokenCount = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

function titan(family: 'titan-v1' | 'titan-v2', body: JsonObject): InvokeResult {
  const { inputText } = body;
  if (typeof inputText !== 'string' || inputText.length === 0) {
    throw validationError('Malformed input request: #: required key [inputText] not found, please reformat your input and try again.');
  }
  let dims = 1536;
  let normalize = true;
  if (family === 'titan-v2') {
    dims = body.dimensions ?? 1024;
    if (![256, 512, 1024].includes(dims)) {
      throw validationError(
        `Malformed input request: #/dimensions: ${dims} is not a valid enum value, please reformat your input and try again.`,
      );
    }
    if (body.normalize !== undefined && typeof body.normalize !== 'boolean') {
      throw validationError('Malformed input request: #/normalize: expected type: Boolean, please reformat your input and try again.');
    }
    normalize = body.normalize ?? true;
  }
  const embedding = embed(inputText, dims, normalize);
  const inputTextTokenCount = tokenCount(inputText);
  const out: JsonObject = { embedding, inputTextTokenCount };
  const types: unknown = body.embeddingTypes;
  if (family === 'titan-v2' && Array.isArray(types)) {
    const byType: JsonObject = {};
    if (types.includes('float')) byType.float = embedding;
    if (types.includes('binary')) byType.binary = embedding.map((v) => (v > 0 ? 1 : 0));
    out.embeddingsByType = byType;
  }
  return { body: out, inputTokens: inputTextTokenCount };
}

const COHERE_INPUT_TYPES = ['search_document', 'search_query', 'classification', 'clustering'];
const COHERE_EMBEDDING_TYPES = ['float', 'int8', 'uint8', 'binary', 'ubinary'];

function cohere(family: 'cohere-v3' | 'cohere-v4', body: JsonObject): InvokeResult {
  const { texts, input_type: inputType } = body;
  if (!Array.isArray(texts) || texts.length === 0 || texts.some((t) => typeof t !== 'string')) {
    throw validationError(
      'Malformed input request: #/texts: expected a non-empty array of strings, please reformat your input and try again.',
    );
  }
  if (texts.length > 96) {
    throw validationError(
      `Malformed input request: #/texts: expected maximum item count: 96, found: ${texts.length}, please reformat your input and try again.`,
    );
  }
  if (!COHERE_INPUT_TYPES.includes(inputType)) {
    throw validationError(
      'Malformed input request: #/input_type: required key [input_type] not found or invalid, please reformat your input and try again.',
    );
  }
  let dims = 1024;
  if (family === 'cohere-v4') {
    dims = body.output_dimension ?? 1536;
    if (![256, 512, 1024, 1536].includes(dims)) {
      throw validationError(
        `Malformed input request: #/output_dimension: ${dims} is not a valid enum value, please reformat your input and try again.`,
      );
    }
  }
  const types: unknown = body.embedding_types;
  if (types !== undefined && (!Array.isArray(types) || types.some((t) => !COHERE_EMBEDDING_TYPES.includes(t)))) {
    throw validationError('Malformed input request: #/embedding_types: invalid embedding type, please reformat your input and try again.');
  }
  const floats = (texts as string[]).map((t) => embed(t, dims, true));
  const id = createHash('sha256').update(JSON.stringify(texts)).digest('hex').slice(0, 32);
  const inputTokens = (texts as string[]).reduce((n, t) => n + tokenCount(t), 0);
  const base = { id: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`, texts };
  // v3 answers a bare float matrix unless types are asked for; v4 always answers by type (float by default).
  let byType = Array.isArray(types) && types.length > 0 ? (types as string[]) : undefined;
  if (family === 'cohere-v4') byType ??= ['float'];
  if (!byType) return { body: { ...base, embeddings: floats, response_type: 'embeddings_floats' }, inputTokens };
  const embeddings: JsonObject = {};
  for (const t of byType) embeddings[t] = floats.map((v) => quantize(v, t));
  return { body: { ...base, embeddings, response_type: 'embeddings_by_type' }, inputTokens };
}

/** Cohere's integer encodings: int8/uint8 scale each value; binary/ubinary pack sign bits 8 to a byte. */
function quantize(v: number[], type: string): number[] {
  const max = Math.max(1e-9, ...v.map(Math.abs));
  switch (type) {
    case 'int8':
      return v.map((x) => Math.round((x / max) * 127));
    case 'uint8':
      return v.map((x) => Math.round((x / max) * 127.5 + 127.5));
    case 'binary':
    case 'ubinary': {
      const out: number[] = [];
      for (let i = 0; i < v.length; i += 8) {
        let byte = 0;
        for (let j = 0; j < 8; j++) byte = (byte << 1) | (v[i + j] > 0 ? 1 : 0);
        out.push(type === 'binary' ? byte - 128 : byte);
      }
      return out;
    }
    default:
      return v;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic vectors
// ---------------------------------------------------------------------------------------------------------------

/** mulberry32: a tiny, fast, well-distributed 32-bit PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const seedOf = (text: string): number => createHash('sha256').update(text).digest().readUInt32LE(0);

/** Adds `weight` × a hash-seeded vector with entries uniform in [-1, 1). */
function addSeeded(acc: Float64Array, text: string, weight: number): void {
  const next = prng(seedOf(text));
  for (let i = 0; i < acc.length; i++) acc[i] += weight * (next() * 2 - 1);
}

const MAX_WORDS = 2048;

/** A deterministic embedding of `text` with `dims` float32-representable values, unit length when `normalize`. */
export function embed(text: string, dims: number, normalize: boolean): number[] {
  const acc = new Float64Array(dims);
  const words =
    text
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu)
      ?.slice(0, MAX_WORDS) ?? [];
  for (const w of words) addSeeded(acc, `w:${w}`, 1);
  // The whole-text part keeps different texts with the same words (or no words) apart.
  addSeeded(acc, `t:${text}`, Math.max(1, Math.sqrt(words.length)) * 0.5);
  let norm = 0;
  for (const x of acc) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  // Titan with normalize:false returns unnormalised magnitudes; any plausible scale will do.
  const scale = normalize ? 1 / norm : 1 / Math.sqrt(dims);
  return Array.from(acc, (x) => Math.fround(x * scale));
}
