import type { ChatCompletionRequest, ContentPart } from '../openai/types.js';
import { describeBytes } from '../records/limits.js';

/**
 * What a thread records as the prompt: the last user turn's text, with binary parts replaced by short
 * descriptors ("[image/png, 34 KB]") — bytes never reach a record.
 */
export function lastUserPrompt(req: ChatCompletionRequest): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const m = req.messages[i];
    if (m.role !== 'user' && m.role !== 'tool') continue;
    if (m.role === 'tool') return `[tool result] ${contentText(m.content)}`;
    return contentText(m.content);
  }
  return '';
}

export function contentText(content: string | ContentPart[] | null | undefined): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map(describePart).filter(Boolean).join('\n');
}

function describePart(p: ContentPart): string {
  switch (p.type) {
    case 'text':
      return p.text;
    case 'image_url': {
      const url = p.image_url.url;
      const m = /^data:([^;,]+)[^,]*,(.*)$/s.exec(url);
      if (m) return describeBytes(m[1], Math.floor((m[2].length * 3) / 4));
      try {
        const u = new URL(url);
        return `[image ${u.protocol}//${u.host}${u.pathname}]`;
      } catch {
        return '[image]';
      }
    }
    case 'doc': {
      const b = p.doc.source.bytes;
      const n = typeof b === 'string' ? Math.floor((b.length * 3) / 4) : Array.isArray(b) ? b.length : Object.keys(b).length;
      return `[document ${p.doc.name ?? ''} ${describeBytes(p.doc.format ?? 'document', n)}]`.replace(/\s+/g, ' ');
    }
    case 'file': {
      const data = p.file.file_data ?? '';
      const m = /^data:([^;,]+)/.exec(data);
      const b64 = data.includes(',') ? data.slice(data.indexOf(',') + 1) : data;
      return `[file ${p.file.filename ?? ''} ${describeBytes(m?.[1] ?? 'application/octet-stream', Math.floor((b64.length * 3) / 4))}]`.replace(/\s+/g, ' ');
    }
    default:
      return '';
  }
}
