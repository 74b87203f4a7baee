export { createOpenAICompatibleProvider, openAICompatibleProvider } from './provider.js';
export { createOpenAICompatibleEmbeddings, openAICompatibleEmbeddings } from './embeddings.js';
