/**
 * Pure mapping of an embeddings request onto Bedrock InvokeModel bodies.
 *
 * Families (explicit `family` in the model config wins, else detected from the modelId):
 * - titan-text-v2  (`amazon.titan-embed-text-v2…`, and any other `titan-embed` id not listed below):
 *     one call per input, body {inputText, dimensions?, normalize: true}; dimensions 256 | 512 | 1024.
 * - titan-text-v1  (`amazon.titan-embed-text-v1`, `amazon.titan-embed-g1-text-02`): body {inputText} only
 *     (v1 has neither `dimensions` nor `normalize`; its vectors are 1536-d).
 * - titan-multimodal (`amazon.titan-embed-image-v1`): body {inputText, embeddingConfig?:{outputEmbeddingLength}};
 *     dimensions 256 | 384 | 1024.
 * - cohere (`cohere.embed-…`): texts batched 96 per call, body {texts, input_type, embedding_types:['float']};
 *     `dimensions` refused.
 */
import { z } from 'zod';
import { errors, GatewayError } from '../../errors.js';
import type { EmbeddingsRequest, ResolvedModel } from '../types.js';

const EMBEDDINGS_FAMILIES = ['titan-text-v2', 'titan-text-v1', 'titan-multimodal', 'cohere'] as const;
export type EmbeddingsFamily = (typeof EMBEDDINGS_FAMILIES)[number];

export const COHERE_BATCH_SIZE = 96;

export const embeddingsModelConfigSchema = z.object({
  modelId: z.string().min(1),
  region: z.string().min(1).optional(),
  /** Default output dimensions when the request has none (Titan v2 / multimodal only). */
  dimensions: z.number().int().positive().optional(),
  /** Needed when modelId is an ARN / inference profile the family cannot be read from. */
  family: z.enum(EMBEDDINGS_FAMILIES).optional(),
  /** Cohere input_type (the wire APIs have no such field). Default 'search_document'. */
  inputType: z.enum(['search_document', 'search_query', 'classification', 'clustering']).optional(),
});
type EmbeddingsModelConfig = z.infer<typeof embeddingsModelConfigSchema>;

export interface InvokeCall {
  /** JSON body for InvokeModel. */
  body: Record<string, unknown>;
  /** Positions (in the request's input list) this call produces vectors for, in order. */
  indexes: number[];
  /** The texts of this call (for token estimates). */
  texts: string[];
}

export interface EmbeddingsPlan {
  family: EmbeddingsFamily;
  modelId: string;
  region: string | undefined;
  inputCount: number;
  calls: InvokeCall[];
}

const misconfigured = (model: ResolvedModel, detail: string) =>
  new GatewayError(500, `Model '${model.name}' is misconfigured: ${detail}`, {
    kind: 'internal',
    code: 'model_misconfigured',
  });

function parseEmbeddingsModelConfig(model: ResolvedModel): EmbeddingsModelConfig {
  const parsed = embeddingsModelConfigSchema.safeParse(model.config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw misconfigured(model, `${issue?.path.join('.') || 'config'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** Family from the model id (substring match; ARNs and unknown ids yield null). */
export function detectFamily(modelId: string): EmbeddingsFamily | null {
  const id = modelId.toLowerCase();
  if (id.includes('cohere.embed')) return 'cohere';
  if (id.includes('titan-embed-image')) return 'titan-multimodal';
  if (id.includes('titan-embed-text-v1') || id.includes('titan-embed-g1-text')) return 'titan-text-v1';
  if (id.includes('titan-embed')) return 'titan-text-v2';
  return null;
}

const ALLOWED_DIMENSIONS: Record<EmbeddingsFamily, readonly number[]> = {
  'titan-text-v2': [256, 512, 1024],
  'titan-multimodal': [256, 384, 1024],
  'titan-text-v1': [],
  cohere: [],
};

/** The output dimensions to request, or undefined for the model default. */
function resolveDimensions(
  family: EmbeddingsFamily,
  requested: unknown,
  cfg: EmbeddingsModelConfig,
  model: ResolvedModel,
): number | undefined {
  const allowed = ALLOWED_DIMENSIONS[family];
  if (requested !== undefined && requested !== null) {
    if (allowed.length === 0) {
      throw errors.badRequest(`Model '${model.name}' does not support 'dimensions'.`, 'dimensions');
    }
    if (typeof requested !== 'number' || !allowed.includes(requested)) {
      throw errors.badRequest(`'dimensions' must be one of ${allowed.join(', ')} for model '${model.name}'.`, 'dimensions');
    }
    return requested;
  }
  if (cfg.dimensions !== undefined) {
    if (!allowed.includes(cfg.dimensions)) throw misconfigured(model, `dimensions ${cfg.dimensions} not supported`);
    return cfg.dimensions;
  }
  return undefined;
}

function titanBody(family: EmbeddingsFamily, text: string, dimensions: number | undefined): Record<string, unknown> {
  switch (family) {
    case 'titan-text-v1':
      return { inputText: text };
    case 'titan-multimodal':
      return dimensions === undefined ? { inputText: text } : { inputText: text, embeddingConfig: { outputEmbeddingLength: dimensions } };
    default:
      return dimensions === undefined ? { inputText: text, normalize: true } : { inputText: text, dimensions, normalize: true };
  }
}

function cohereBody(texts: string[], inputType: string): Record<string, unknown> {
  return { texts, input_type: inputType, embedding_types: ['float'] };
}

/**
 * The longest text each family accepts, in characters (Bedrock's documented limits): Titan text 50,000; Cohere Embed
 * v3 2,048 per text (v4 reads far longer texts and is left to Bedrock). Checked before the first call, so an
 * oversized input is a 400 that costs nothing instead of a failure after the other inputs were paid for.
 */
function maxInputChars(family: EmbeddingsFamily, modelId: string): number | undefined {
  if (family === 'titan-text-v2' || family === 'titan-text-v1') return 50_000;
  if (family === 'cohere' && !/embed-v4/i.test(modelId)) return 2048;
  return undefined;
}

function checkInputLengths(family: EmbeddingsFamily, modelId: string, texts: string[], model: ResolvedModel): void {
  const max = maxInputChars(family, modelId);
  if (max === undefined) return;
  const i = texts.findIndex((t) => t.length > max);
  if (i >= 0) {
    throw errors.badRequest(
      `Input ${i} is ${texts[i].length} characters long; model '${model.name}' accepts at most ${max} characters per input.`,
      'input',
      'input_too_long',
    );
  }
}

/** Checks the request against the model and returns the InvokeModel calls to make. Throws 400/500 GatewayErrors. */
export function planEmbeddings(req: EmbeddingsRequest, model: ResolvedModel): EmbeddingsPlan {
  const cfg = parseEmbeddingsModelConfig(model);
  const family = cfg.family ?? detectFamily(cfg.modelId);
  if (family === null) {
    throw errors.badRequest(
      `Model '${model.name}' is not a supported embeddings model (supported: Amazon Titan Embeddings, Cohere Embed).`,
      'model',
    );
  }
  const texts = req.inputs;
  const dimensions = resolveDimensions(family, req.dimensions, cfg, model);
  checkInputLengths(family, cfg.modelId, texts, model);

  const calls: InvokeCall[] = [];
  if (family === 'cohere') {
    const inputType = cfg.inputType ?? 'search_document';
    for (let start = 0; start < texts.length; start += COHERE_BATCH_SIZE) {
      const batch = texts.slice(start, start + COHERE_BATCH_SIZE);
      calls.push({ body: cohereBody(batch, inputType), indexes: batch.map((_, i) => start + i), texts: batch });
    }
  } else {
    texts.forEach((t, i) => calls.push({ body: titanBody(family, t, dimensions), indexes: [i], texts: [t] }));
  }
  return { family, modelId: cfg.modelId, region: cfg.region, inputCount: texts.length, calls };
}
