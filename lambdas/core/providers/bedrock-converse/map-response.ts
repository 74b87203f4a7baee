import type { ConverseResponse } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletion, ToolCall } from '../../openai/types.js';
import type { ChatOutcome } from '../types.js';
import type { CompletionMeta } from './completion-meta.js';
import { mapFinishReason } from './map-finish-reason.js';
import { toOpenAIUsage, toTokenUsage } from './map-usage.js';

/** A non-streaming Converse response → an OpenAI chat.completion (every text block, every tool call). */
export function mapConverseResponse(
  res: Pick<ConverseResponse, 'output' | 'stopReason' | 'usage'>,
  meta: CompletionMeta,
): { response: ChatCompletion; outcome: ChatOutcome } {
  let text = '';
  let reasoning = '';
  let signature: string | undefined;
  const toolCalls: ToolCall[] = [];
  for (const block of res.output?.message?.content ?? []) {
    if (block.text !== undefined) text += block.text;
    else if (block.reasoningContent?.reasoningText) {
      reasoning += block.reasoningContent.reasoningText.text ?? '';
      signature = block.reasoningContent.reasoningText.signature ?? signature;
    } else if (block.toolUse) {
      const args = JSON.stringify(block.toolUse.input ?? {});
      if (block.toolUse.name === meta.structuredToolName) text += args;
      else {
        toolCalls.push({
          id: block.toolUse.toolUseId ?? '',
          type: 'function',
          function: { name: block.toolUse.name ?? '', arguments: args },
        });
      }
    }
  }
  const finishReason = mapFinishReason(res.stopReason, toolCalls.length > 0);
  const usage = toTokenUsage(res.usage);
  const message: ChatCompletion['choices'][number]['message'] = {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (reasoning) message.reasoning_content = reasoning;
  if (signature) message.reasoning_signature = signature;
  return {
    response: {
      id: meta.id,
      object: 'chat.completion',
      created: meta.created,
      model: meta.model,
      choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
      usage: toOpenAIUsage(usage),
    },
    outcome: { text, reasoning, toolCalls, finishReason, usage },
  };
}
