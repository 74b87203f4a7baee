export { createOpenAICompatibleProvider, openAICompatibleProvider } from './provider.js';
