import { z } from 'zod';
import { authenticate } from '../../auth/authenticate.js';
import { resolveModelForKey } from '../../auth/model-access.js';
import { runEmbeddings } from '../../embeddings/pipeline.js';
import { asGatewayError, errors } from '../../errors.js';
import { rateLimitHeaders } from '../../limits/types.js';
import { parse, zModelName } from '../../validate.js';
import { jsonResponse, type V1Request, type V1Response } from '../http.js';
import { openAIErrorResponse } from '../openai/errors.js';
import { sessionKeyOf } from '../session.js';
import { encodeFloat32Base64 } from './encode-base64.js';

/** OpenAI's own limit on inputs per request. */
export const MAX_INPUTS = 2048;

export const embeddingsSchema = z.looseObject({
  model: zModelName,
  input: z.union([z.string(), z.array(z.string()), z.array(z.number()), z.array(z.array(z.number()))]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
});

/** POST /v1/embeddings: same auth, permission, quota, billing and records as chat; input tokens only. */
export async function embeddings(input: V1Request): Promise<V1Response> {
  try {
    const key = await authenticate(input.headers);
    const req = parse(embeddingsSchema, input.body);
    const model = await resolveModelForKey(key, req.model);
    const inputs = normalizeInput(req.input);
    const result = await runEmbeddings({
      key,
      model,
      request: { inputs, ...(req.dimensions === undefined ? {} : { dimensions: req.dimensions }) },
      requestId: input.requestId,
      sessionKey: sessionKeyOf(input.headers),
      invocation: input.invocation,
    });
    const base64 = req.encoding_format === 'base64';
    const promptTokens = result.usage.inputTokens;
    return jsonResponse(
      200,
      {
        object: 'list',
        // openai-node and openai-python ask for base64 by default and decode little-endian float32.
        data: result.vectors.map((v, index) => ({ object: 'embedding', index, embedding: base64 ? encodeFloat32Base64(v) : v })),
        model: req.model,
        usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
      },
      { 'x-request-id': input.requestId, ...rateLimitHeaders(result.rate) },
    );
  } catch (e) {
    return openAIErrorResponse(asGatewayError(e, input.requestId), input.requestId);
  }
}

/** input → non-empty list of non-empty strings, or a 400. */
export function normalizeInput(input: unknown): string[] {
  const bad = (m: string) => errors.badRequest(m, 'input');
  const isTokens = (v: unknown) => typeof v === 'number' || (Array.isArray(v) && v.every((x) => typeof x === 'number'));
  if (typeof input === 'string') {
    if (input === '') throw bad("'input' must not be an empty string.");
    return [input];
  }
  if (!Array.isArray(input)) throw bad("'input' must be a string or an array of strings.");
  if (input.length === 0) throw bad("'input' must not be an empty array.");
  if (input.every(isTokens)) throw bad('token arrays are not supported; send text input.');
  if (input.length > MAX_INPUTS) throw bad(`'input' may hold at most ${MAX_INPUTS} items.`);
  input.forEach((v, i) => {
    if (typeof v !== 'string') throw bad(`'input[${i}]' must be a string.`);
    if (v === '') throw bad(`'input[${i}]' must not be an empty string.`);
  });
  return input as string[];
}
