import type { ConverseStreamCommandInput } from '@aws-sdk/client-bedrock-runtime';
import type { ChatRequest } from '../../chat/request.js';
import { applyPromptCache } from './apply-prompt-cache.js';
import type { ConverseConfig } from './config.js';
import { mapInferenceConfig } from './map-inference-config.js';
import { mapMessages } from './map-messages.js';
import { resolveThinking, thinkingRequestFields } from './map-reasoning.js';
import { planStructuredOutput } from './map-response-format.js';
import { mapToolConfig } from './map-tools.js';

/** The Converse input (same shape for Converse and ConverseStream) plus what reading the answer needs to know. */
export interface ConverseRequestPlan {
  input: ConverseStreamCommandInput;
  /** Name of the response-format tool whose input is the JSON answer, if one is forced. */
  structuredToolName: string | undefined;
}

/** One core chat request → one Converse request. Pure. */
export function buildConverseRequest(req: ChatRequest, config: ConverseConfig): ConverseRequestPlan {
  const clientHasTools = req.tools.length > 0;
  const clientForcesTool = clientHasTools && (req.toolChoice?.type === 'any' || req.toolChoice?.type === 'tool');
  const structuredIfNoThinking = planStructuredOutput(req.responseFormat, { clientHasTools, thinking: false });
  const thinking = resolveThinking(req, config, { clientForcesTool, structuredForcesTool: structuredIfNoThinking?.mode === 'forced-tool' });
  const structured = thinking ? planStructuredOutput(req.responseFormat, { clientHasTools, thinking: true }) : structuredIfNoThinking;

  const conversation = mapMessages(req, { includeReasoning: !!thinking, cachePoints: config.clientCachePoints });
  const toolConfig = mapToolConfig({
    tools: req.tools,
    toolChoice: req.toolChoice,
    historyToolNames: conversation.historyToolNames,
    hasToolBlocks: conversation.hasToolBlocks,
    forcedTool: structured?.mode === 'forced-tool' ? structured.tool : undefined,
    cachePoints: config.clientCachePoints,
  });
  const system = structured?.mode === 'instruction' ? [...conversation.system, { text: structured.text }] : conversation.system;
  const cached = applyPromptCache({ system, toolConfig, messages: conversation.messages }, config.promptCache);
  const inferenceConfig = mapInferenceConfig(req, config, thinking);

  const input: ConverseStreamCommandInput = { modelId: config.modelId, messages: cached.messages };
  if (cached.system.length > 0) input.system = cached.system;
  if (inferenceConfig) input.inferenceConfig = inferenceConfig;
  if (cached.toolConfig) input.toolConfig = cached.toolConfig;
  if (thinking) input.additionalModelRequestFields = thinkingRequestFields(thinking);
  // top_k has no Converse field; the model families that take one read it from the model-specific fields (Claude
  // refuses it with thinking on). Other models have none to give it to.
  if (req.topK !== undefined && !thinking) {
    if (config.claudeLike) input.additionalModelRequestFields = { top_k: req.topK };
    else if (/amazon\.nova/i.test(config.modelId)) input.additionalModelRequestFields = { inferenceConfig: { topK: req.topK } };
  }
  if (config.guardrail) {
    const g = config.guardrail;
    input.guardrailConfig = { guardrailIdentifier: g.identifier, guardrailVersion: g.version, ...(g.trace ? { trace: g.trace } : {}) };
    // Only ConverseStream reads a processing mode; Converse would reject the field.
    if (req.stream && g.streamProcessingMode) input.guardrailConfig.streamProcessingMode = g.streamProcessingMode;
  }
  if (config.performance) input.performanceConfig = { latency: config.performance };
  if (config.serviceTier) input.serviceTier = { type: config.serviceTier };
  return { input, structuredToolName: structured?.mode === 'forced-tool' ? structured.tool.name : undefined };
}
