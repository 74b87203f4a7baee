/** Document formats and names as Bedrock accepts them, shared by every wire API's decoder. */
import { DOCUMENT_FORMATS, type DocumentFormat } from './media.js';

const FORMAT_BY_MEDIA_TYPE: Record<string, DocumentFormat> = {
  'application/pdf': 'pdf',
  'text/csv': 'csv',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'text/html': 'html',
  'text/plain': 'txt',
  'text/markdown': 'md',
  'text/x-markdown': 'md',
};

const FORMAT_ALIASES: Record<string, DocumentFormat> = { htm: 'html', markdown: 'md', text: 'txt' };

/** 'PDF', '.pdf', 'markdown', 'application/pdf' → a document format; undefined if none fits. */
export function normalizeDocumentFormat(value: string | undefined): DocumentFormat | undefined {
  const v = value?.trim().toLowerCase().replace(/^\./, '');
  if (!v) return undefined;
  if ((DOCUMENT_FORMATS as readonly string[]).includes(v)) return v as DocumentFormat;
  return FORMAT_ALIASES[v] ?? FORMAT_BY_MEDIA_TYPE[v.split(';')[0].trim()];
}

/** The extension after the last dot (trailing whitespace ignored), found without a regex over the whole name. */
export function formatFromFilename(name: string | undefined): DocumentFormat | undefined {
  if (typeof name !== 'string') return undefined;
  const trimmed = name.trimEnd();
  const ext = trimmed.slice(trimmed.lastIndexOf('.') + 1);
  return trimmed.includes('.') && ext.length <= 16 && /^[A-Za-z0-9]+$/.test(ext) ? normalizeDocumentFormat(ext) : undefined;
}

export const isPdf = (b: Uint8Array) => b[0] === 0x25 && b[1] === 0x50 && b[2] === 0x44 && b[3] === 0x46; // %PDF

const NAME_LIMIT = 64;

/**
 * Names are cut to this many characters before any regex runs (after trimming outer whitespace), so the cost of
 * sanitising is bounded whatever the client sends. Comfortably above NAME_LIMIT: dropped characters and the
 * extension still leave enough to fill a name.
 */
const NAME_SCAN_LIMIT = 200;

/**
 * Bedrock document names allow only ASCII letters and digits, single whitespace characters, hyphens, parentheses
 * and square brackets. Anything else becomes a hyphen; a name left with no letter or digit is ''.
 */
export function sanitizeDocumentName(raw: string): string {
  const bounded = String(raw ?? '')
    .trim()
    .slice(0, NAME_SCAN_LIMIT);
  const cleaned = trimSpacesAndHyphens(
    bounded
      .normalize('NFKC')
      .trimEnd()
      .replace(/\.(?:pdf|csv|docx?|xlsx?|html?|txt|md|markdown)$/i, '')
      .replace(/[^A-Za-z0-9\s\-()[\]]+/g, '-')
      .replace(/\s+/g, ' '),
  );
  const named = trimSpacesAndHyphens(cleaned.slice(0, NAME_LIMIT));
  return /[A-Za-z0-9]/.test(named) ? named : '';
}

/** Drops leading and trailing spaces and hyphens with two index scans (a `[\s-]+$` regex backtracks quadratically). */
function trimSpacesAndHyphens(s: string): string {
  const edge = (c: string | undefined) => c === ' ' || c === '-';
  let start = 0;
  let end = s.length;
  while (start < end && edge(s[start])) start += 1;
  while (end > start && edge(s[end - 1])) end -= 1;
  return s.slice(start, end);
}

/** Hands out document names unique within one request (Bedrock rejects duplicates). One instance per request. */
export class DocumentNames {
  private readonly used = new Set<string>();
  private count = 0;

  claim(requested: string | undefined): string {
    this.count += 1;
    const base = sanitizeDocumentName(requested ?? '') || `document-${this.count}`;
    let name = base;
    for (let n = 2; this.used.has(name.toLowerCase()); n += 1) name = `${base.slice(0, NAME_LIMIT - 6).trimEnd()} (${n})`;
    this.used.add(name.toLowerCase());
    return name;
  }
}
