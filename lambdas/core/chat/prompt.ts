import { describeBytes } from '../records/limits.js';
import type { ChatRequest, ContentBlock } from './request.js';

/** Longest image URL (without its query) a record shows. */
const MAX_URL_SHOWN = 200;

/**
 * What a thread records as the prompt: the last user turn's text, with binary parts replaced by short
 * descriptors ("[image/png, 34 KB]") — bytes never reach a record. A turn of tool results is marked as such.
 */
export function lastUserPrompt(req: Pick<ChatRequest, 'messages'>): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const m = req.messages[i];
    if (m.role !== 'user') continue;
    const described = m.content.map(describeBlock).filter(Boolean).join('\n');
    return m.content.length > 0 && m.content.every((b) => b.type === 'tool_result') ? `[tool result] ${described}` : described;
  }
  return '';
}

export function describeBlock(b: ContentBlock): string {
  switch (b.type) {
    case 'text':
      return b.text;
    case 'image': {
      if (b.source.type === 'bytes') return describeBytes(b.source.mediaType, b.source.data.length);
      try {
        const u = new URL(b.source.url);
        const where = `${u.protocol}//${u.host}${u.pathname}`;
        return `[image ${where.length > MAX_URL_SHOWN ? `${where.slice(0, MAX_URL_SHOWN)}…` : where}]`;
      } catch {
        return '[image]';
      }
    }
    case 'document':
      return `[document ${b.name} ${describeBytes(b.format, b.data.length)}]`;
    case 'tool_result':
      return b.content.map((c) => (c.type === 'text' ? c.text : describeBytes(c.mediaType, c.data.length))).join('\n');
    case 'tool_use':
      return `[tool call ${b.name}]`;
    case 'reasoning':
    case 'redacted_reasoning':
      return '';
  }
}
