import type { InferenceConfiguration } from '@aws-sdk/client-bedrock-runtime';
import type { ChatRequest } from '../../chat/request.js';
import type { ConverseConfig } from './config.js';
import type { ThinkingPlan } from './map-reasoning.js';

/** Room left for the answer when thinking raises maxTokens above the budget and nobody named a limit. */
const ANSWER_TOKENS_WITH_THINKING = 4096;

/** temperature / top_p / stop / max tokens → inferenceConfig (undefined when nothing is set). */
export function mapInferenceConfig(
  req: Pick<ChatRequest, 'maxTokens' | 'maxTokensIsCeiling' | 'temperature' | 'topP' | 'stopSequences'>,
  config: ConverseConfig,
  thinking: ThinkingPlan | null,
): InferenceConfiguration | undefined {
  const out: InferenceConfiguration = {};
  let maxTokens = req.maxTokens ?? config.maxTokens;
  // A ceiling the client had to send (Anthropic's max_tokens) yields to the model's configured maximum: Claude
  // Code asks 32000 of every model, and a model with a smaller limit would refuse the call.
  if (req.maxTokensIsCeiling && req.maxTokens !== undefined && config.maxTokens !== undefined) {
    maxTokens = Math.min(req.maxTokens, config.maxTokens);
  }
  // Claude counts thinking inside max_tokens and requires max_tokens > budget_tokens.
  if (thinking && (maxTokens === undefined || maxTokens <= thinking.budgetTokens)) {
    maxTokens = thinking.budgetTokens + (maxTokens ?? ANSWER_TOKENS_WITH_THINKING);
  }
  if (maxTokens !== undefined) out.maxTokens = maxTokens;

  const { temperature, topP } = req;
  if (thinking) {
    // Claude thinking accepts only the default sampling: temperature 1, no top_p.
    if (temperature !== undefined) out.temperature = 1;
  } else {
    // OpenAI allows 0..2, Converse 0..1: the top of OpenAI's range means "as random as the model goes".
    if (temperature !== undefined) out.temperature = Math.min(temperature, 1);
    // Newer Claude models reject temperature and top_p together; temperature is the one clients mean.
    if (topP !== undefined && !(temperature !== undefined && config.claudeLike)) out.topP = topP;
  }
  if (req.stopSequences?.length) out.stopSequences = req.stopSequences;
  return Object.keys(out).length > 0 ? out : undefined;
}
