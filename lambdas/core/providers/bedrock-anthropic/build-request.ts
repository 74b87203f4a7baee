import type { ChatRequest } from '../../chat/request.js';
import type { JsonObject } from '../../json.js';
import { filterBetas } from './betas.js';
import { applyBedrockRules, rejectedFields } from './bedrock-rules.js';
import { claudeCapabilities } from './capabilities.js';
import { toMessagesBody } from './map-request.js';

/** What Bedrock's Anthropic Messages API expects as `anthropic_version` in the body. */
const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

/** The Claude model a call goes to (from the bedrock-converse model row). */
export interface ClaudeTarget {
  modelId: string;
  region: string | undefined;
  /** The model config's output limit, used when the request names none. */
  maxTokens: number | undefined;
  /** The model's guardrail, latency and service tier (InvokeModel takes them as request headers). */
  options?: ClaudeInvokeOptions;
}

/** What the model row sets on every InvokeModel / InvokeModelWithResponseStream call. */
export interface ClaudeInvokeOptions {
  guardrailIdentifier?: string;
  guardrailVersion?: string;
  trace?: 'ENABLED' | 'DISABLED' | 'ENABLED_FULL';
  performanceConfigLatency?: 'standard' | 'optimized';
  serviceTier?: 'default' | 'priority' | 'flex' | 'reserved';
}

export interface InvokeBodyPlan {
  /** The InvokeModel / InvokeModelWithResponseStream body (no `model`, no `stream`: Bedrock refuses both). */
  body: JsonObject;
  /** Betas and top-level fields left out because Bedrock refuses them (for the log). */
  droppedBetas: string[];
  droppedFields: string[];
}

/** One core request → the body Claude on Bedrock accepts. Pure. */
export function buildInvokeBody(req: ChatRequest, target: ClaudeTarget): InvokeBodyPlan {
  const faithful = toMessagesBody(req, { maxTokens: target.maxTokens });
  const { betas, dropped } = filterBetas(req.extensions?.anthropic?.betas ?? []);
  const droppedFields = rejectedFields(faithful);
  const ruled = applyBedrockRules(faithful, { capabilities: claudeCapabilities(target.modelId), betas });
  const body: JsonObject = { anthropic_version: BEDROCK_ANTHROPIC_VERSION, ...ruled };
  if (betas.length > 0) body.anthropic_beta = betas;
  return { body, droppedBetas: dropped, droppedFields };
}
