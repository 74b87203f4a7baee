import type { ChatContentPart, ChatMessage, ChatResult } from '../api/client';

/** One message of the playground's conversation, as shown. */
export interface Turn {
  role: 'user' | 'assistant';
  text: string;
  images: string[];
  reasoning?: string;
  result?: ChatResult;
  /** The fee the gateway recorded for this answer (its thread), once read back. */
  recordedFee?: number;
  estimatedFee?: number;
  error?: string;
  streaming?: boolean;
}

/** The turns to send again as history: a question whose answer failed or was stopped is left out with it. */
export function answeredTurns(turns: Turn[]): Turn[] {
  const out: Turn[] = [];
  for (let i = 0; i < turns.length; i++) {
    const next = turns[i + 1];
    if (turns[i].role === 'user' && next?.role === 'assistant' && (next.error || next.streaming)) {
      i++;
      continue;
    }
    if (!turns[i].error) out.push(turns[i]);
  }
  return out;
}

/** The request's messages: the system prompt, then the turns; a user turn with images becomes content parts. */
export function toChatMessages(system: string, turns: Turn[]): ChatMessage[] {
  return [
    ...(system.trim() ? [{ role: 'system' as const, content: system.trim() }] : []),
    ...turns.map((x): ChatMessage => {
      if (x.role === 'assistant' || x.images.length === 0) return { role: x.role, content: x.text };
      const parts: ChatContentPart[] = x.images.map((url) => ({ type: 'image_url', image_url: { url } }));
      if (x.text) parts.unshift({ type: 'text', text: x.text });
      return { role: 'user', content: parts };
    }),
  ];
}
