import { createBedrockEmbeddingsProvider } from './provider.js';

/** Production instance: real BedrockRuntimeClient per region (AWS_ENDPOINT_URL_BEDROCK_RUNTIME honoured by the SDK). */
export const bedrockEmbeddingsProvider = createBedrockEmbeddingsProvider();

export { createBedrockEmbeddingsProvider, defaultClientFor, mapLimit, INPUT_TOKEN_HEADER } from './provider.js';
export type { BedrockEmbeddingsDeps, InvokeModelClient } from './provider.js';
export { mapBedrockError } from './map-error.js';
export { encodeFloat32Base64, decodeFloat32Base64 } from './encode-base64.js';
export {
  planEmbeddings,
  detectFamily,
  normalizeInput,
  embeddingsModelConfigSchema,
  COHERE_BATCH_SIZE,
  type EmbeddingsFamily,
  type EmbeddingsModelConfig,
  type EmbeddingsPlan,
} from './map-request.js';
export { buildEmbeddingsResponse, estimateTokens } from './map-response.js';
