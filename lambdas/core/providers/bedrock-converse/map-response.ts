import type { ConverseResponse } from '@aws-sdk/client-bedrock-runtime';
import type { ChatEvent } from '../../chat/events.js';
import { finishEvent } from './map-finish-reason.js';
import { toTokenUsage } from './map-usage.js';
import type { StreamOptions } from './stream-state.js';

/**
 * A non-streaming Converse response → the same core events a stream of it would have produced (every text block,
 * every reasoning block with its signature, every tool call — only the first with `singleToolCall`; the
 * response-format tool's input as text).
 */
export function converseResponseEvents(
  res: Pick<ConverseResponse, 'output' | 'stopReason' | 'usage'>,
  { structuredToolName, singleToolCall = false, stopSequences }: StreamOptions = {},
): ChatEvent[] {
  const events: ChatEvent[] = [{ type: 'message_start' }];
  let index = 0;
  let toolIndex = 0;
  for (const block of res.output?.message?.content ?? []) {
    if (block.text !== undefined) {
      events.push({ type: 'block_start', index, block: { type: 'text' } }, { type: 'text_delta', index, text: block.text });
    } else if (block.reasoningContent?.reasoningText) {
      const { text, signature } = block.reasoningContent.reasoningText;
      events.push({ type: 'block_start', index, block: { type: 'reasoning' } }, { type: 'reasoning_delta', index, text: text ?? '' });
      if (signature) events.push({ type: 'signature_delta', index, signature });
    } else if (block.reasoningContent?.redactedContent) {
      const data = Buffer.from(block.reasoningContent.redactedContent).toString('base64');
      events.push({ type: 'block_start', index, block: { type: 'redacted_reasoning', data } });
    } else if (block.toolUse) {
      const json = JSON.stringify(block.toolUse.input ?? {});
      if (block.toolUse.name !== undefined && block.toolUse.name === structuredToolName) {
        events.push({ type: 'block_start', index, block: { type: 'text' } }, { type: 'text_delta', index, text: json });
      } else if (singleToolCall && toolIndex > 0) {
        continue;
      } else {
        const t = toolIndex++;
        events.push(
          {
            type: 'block_start',
            index,
            block: { type: 'tool_use', id: block.toolUse.toolUseId ?? '', name: block.toolUse.name ?? '', toolIndex: t },
          },
          { type: 'tool_input_delta', index, toolIndex: t, json },
        );
      }
    } else {
      continue;
    }
    events.push({ type: 'block_stop', index });
    index++;
  }
  events.push(finishEvent(res.stopReason, toolIndex > 0, stopSequences), { type: 'usage', usage: toTokenUsage(res.usage) });
  return events;
}
