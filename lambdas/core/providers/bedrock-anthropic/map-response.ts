import type { ChatEvent } from '../../chat/events.js';
import { mapStopReason } from './map-stop-reason.js';
import { UsageTracker } from './map-usage.js';
import type { AnthropicContentBlock, AnthropicMessage } from './wire-types.js';

/**
 * A non-streaming Claude answer (InvokeModel) → the same core events its stream would have produced: every text,
 * thinking (with its signature), redacted thinking and tool-use block in order. Server-side blocks (web search
 * results, …) have no core form and are left out.
 */
export function claudeMessageEvents(message: AnthropicMessage, metrics?: Parameters<UsageTracker['fromMetrics']>[0]): ChatEvent[] {
  const events: ChatEvent[] = [{ type: 'message_start', ...(message.id ? { upstreamId: message.id } : {}) }];
  let index = 0;
  let toolIndex = 0;
  for (const block of message.content) {
    const opened = blockEvents(block, index, toolIndex);
    if (!opened) continue;
    events.push(...opened.events, { type: 'block_stop', index });
    if (opened.tool) toolIndex++;
    index++;
  }
  const usage = new UsageTracker();
  usage.fromAnthropic(message.usage);
  usage.fromMetrics(metrics);
  events.push(
    {
      type: 'finish',
      reason: mapStopReason(message.stop_reason),
      ...(message.stop_sequence ? { stopSequence: message.stop_sequence } : {}),
    },
    { type: 'usage', usage: usage.current() },
  );
  return events;
}

function blockEvents(b: AnthropicContentBlock, index: number, toolIndex: number): { events: ChatEvent[]; tool: boolean } | undefined {
  switch (b.type) {
    case 'text':
      return {
        tool: false,
        events: [
          { type: 'block_start', index, block: Array.isArray(b.citations) ? { type: 'text', cited: true } : { type: 'text' } },
          ...(b.citations ?? []).map((citation): ChatEvent => ({ type: 'citation_delta', index, citation })),
          { type: 'text_delta', index, text: b.text ?? '' },
        ],
      };
    case 'thinking': {
      const events: ChatEvent[] = [
        { type: 'block_start', index, block: { type: 'reasoning', signed: !!b.signature } },
        { type: 'reasoning_delta', index, text: b.thinking ?? '' },
      ];
      if (b.signature) events.push({ type: 'signature_delta', index, signature: b.signature });
      return { tool: false, events };
    }
    case 'redacted_thinking':
      return { tool: false, events: [{ type: 'block_start', index, block: { type: 'redacted_reasoning', data: b.data ?? '' } }] };
    case 'tool_use':
      return {
        tool: true,
        events: [
          { type: 'block_start', index, block: { type: 'tool_use', id: b.id ?? '', name: b.name ?? '', toolIndex } },
          { type: 'tool_input_delta', index, toolIndex, json: JSON.stringify(b.input ?? {}) },
        ],
      };
    default:
      return undefined;
  }
}
