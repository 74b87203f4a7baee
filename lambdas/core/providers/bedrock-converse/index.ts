export { bedrockConverseProvider, createBedrockConverseProvider, type ConverseTransport } from './provider.js';
export { parseConverseConfig, converseConfigSchema, type ConverseConfig } from './config.js';
