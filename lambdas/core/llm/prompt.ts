import type { ChatCompletionRequest, ContentPart } from '../openai/types.js';
import { describeBytes } from '../records/limits.js';

/** Longest image URL (without its query) a record shows. */
const MAX_URL_SHOWN = 200;

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
      if (url.slice(0, 5).toLowerCase() === 'data:') return describeDataUrl(url) ?? '[image]';
      try {
        const u = new URL(url);
        const where = `${u.protocol}//${u.host}${u.pathname}`;
        return `[image ${where.length > MAX_URL_SHOWN ? `${where.slice(0, MAX_URL_SHOWN)}…` : where}]`;
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
      const comma = data.indexOf(',');
      const type = comma >= 0 ? mediaTypeOf(data.slice(0, comma)) : undefined;
      const payload = comma >= 0 ? data.length - comma - 1 : data.length;
      return `[file ${p.file.filename ?? ''} ${describeBytes(type ?? 'application/octet-stream', Math.floor((payload * 3) / 4))}]`.replace(
        /\s+/g,
        ' ',
      );
    }
    default:
      return '';
  }
}

/**
 * `data:<type>[;params],<payload>` → "[type, size]"; undefined when `url` is not a data URL with a comma.
 * Split at the first comma with indexOf and match only the header: a regex over the whole URL backtracks
 * quadratically on a long comma-less input (seconds for 80 KB).
 */
function describeDataUrl(url: string): string | undefined {
  const comma = url.indexOf(',');
  const type = comma >= 0 ? mediaTypeOf(url.slice(0, comma)) : undefined;
  if (type === undefined) return undefined;
  return describeBytes(type || 'application/octet-stream', Math.floor(((url.length - comma - 1) * 3) / 4));
}

/** The media type named by a data URL header (the part before the comma); undefined when it is not one. */
function mediaTypeOf(header: string): string | undefined {
  const m = /^data:([^;,]*)/i.exec(header);
  return m ? m[1]!.trim().slice(0, 100) : undefined;
}
