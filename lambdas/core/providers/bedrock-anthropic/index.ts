export { claudeOnBedrock, createClaudeOnBedrock, countTokensModelId, type ClaudeOnBedrock, type ClaudeTransport } from './provider.js';
export { buildInvokeBody, BEDROCK_ANTHROPIC_VERSION, type ClaudeTarget } from './build-request.js';
export { isAnthropicModelId, claudeCapabilities } from './capabilities.js';
