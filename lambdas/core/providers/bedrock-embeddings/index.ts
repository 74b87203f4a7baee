import { createBedrockEmbeddingsProvider } from './provider.js';

/** Production instance: real BedrockRuntimeClient per region (AWS_ENDPOINT_URL_BEDROCK_RUNTIME honoured by the SDK). */
export const bedrockEmbeddingsProvider = createBedrockEmbeddingsProvider();
