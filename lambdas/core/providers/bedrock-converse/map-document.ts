import type { ContentBlock, DocumentFormat } from '@aws-sdk/client-bedrock-runtime';
import { errors } from '../../openai/errors.js';
import type { DocPart, FilePart } from '../../openai/types.js';
import { decodeBase64, isDataUrl, parseDataUrl } from './data-url.js';

const FORMATS: readonly DocumentFormat[] = ['pdf', 'csv', 'doc', 'docx', 'xls', 'xlsx', 'html', 'txt', 'md'];

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

/** 'PDF', '.pdf', 'markdown', 'application/pdf' → a Converse document format; undefined if none fits. */
export function normalizeDocumentFormat(value: string | undefined): DocumentFormat | undefined {
  const v = value?.trim().toLowerCase().replace(/^\./, '');
  if (!v) return undefined;
  if ((FORMATS as readonly string[]).includes(v)) return v as DocumentFormat;
  return FORMAT_ALIASES[v] ?? FORMAT_BY_MEDIA_TYPE[v.split(';')[0]!.trim()];
}

/** The extension after the last dot (trailing whitespace ignored), found without a regex over the whole name. */
function formatFromFilename(name: string | undefined): DocumentFormat | undefined {
  if (typeof name !== 'string') return undefined;
  const trimmed = name.trimEnd();
  const ext = trimmed.slice(trimmed.lastIndexOf('.') + 1);
  return trimmed.includes('.') && ext.length <= 16 && /^[A-Za-z0-9]+$/.test(ext) ? normalizeDocumentFormat(ext) : undefined;
}

const isPdf = (b: Uint8Array) => b[0] === 0x25 && b[1] === 0x50 && b[2] === 0x44 && b[3] === 0x46; // %PDF

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

/** The seed API's `doc` part; bytes come as an index→byte map, a byte array or base64. */
export function mapDocPart(part: DocPart, names: DocumentNames, path: string): ContentBlock {
  const doc = part.doc;
  if (!doc || typeof doc !== 'object') throw errors.badRequest(`${path}.doc is required.`, path);
  const bytes = docBytes(doc.source?.bytes, path);
  let format: DocumentFormat | undefined;
  if (doc.format !== undefined && doc.format !== '') {
    format = normalizeDocumentFormat(doc.format);
    if (!format) throw unsupportedFormat(path, doc.format);
  } else {
    format = formatFromFilename(doc.name) ?? (isPdf(bytes) ? 'pdf' : undefined);
    if (!format) throw errors.badRequest(`${path}.doc.format is required (one of ${FORMATS.join(', ')}).`, path);
  }
  return { document: { format, name: names.claim(doc.name), source: { bytes } } };
}

/** OpenAI's `file` part: a data: URL or bare base64; format from the media type, else the filename, else PDF. */
export function mapFilePart(part: FilePart, names: DocumentNames, path: string): ContentBlock {
  const file = part.file;
  const data = file?.file_data?.trim();
  if (!data) {
    const why = file?.file_id ? 'file_id references are not supported; send file_data' : 'file.file_data is required';
    throw errors.badRequest(`${path}: ${why}.`, path);
  }
  const inline = isDataUrl(data) ? parseDataUrl(data) : bytesOnly(decodeBase64(data));
  if (!inline) throw errors.badRequest(`${path}.file.file_data is not a valid data URL or base64.`, path);
  const declared = inline.mediaType && inline.mediaType !== 'application/octet-stream' ? inline.mediaType : undefined;
  let format: DocumentFormat | undefined;
  if (declared) {
    format = normalizeDocumentFormat(declared);
    if (!format) throw unsupportedFormat(path, declared);
  } else {
    format = formatFromFilename(file.filename) ?? 'pdf';
  }
  return { document: { format, name: names.claim(file.filename), source: { bytes: inline.bytes } } };
}

function bytesOnly(bytes: Uint8Array | undefined) {
  return bytes && bytes.length > 0 ? { mediaType: '', bytes } : undefined;
}

function unsupportedFormat(path: string, format: string) {
  return errors.badRequest(`${path}: unsupported document format '${format}' (use ${FORMATS.join(', ')}).`, path);
}

function docBytes(source: DocPart['doc']['source']['bytes'] | undefined, path: string): Uint8Array {
  const where = `${path}.doc.source.bytes`;
  let bytes: Uint8Array | undefined;
  if (typeof source === 'string') {
    bytes = isDataUrl(source) ? parseDataUrl(source)?.bytes : decodeBase64(source);
  } else if (Array.isArray(source)) {
    bytes = source.every(isByte) ? Uint8Array.from(source) : undefined;
  } else if (source && typeof source === 'object') {
    bytes = bytesFromIndexMap(source);
  }
  if (!bytes || bytes.length === 0) {
    throw errors.badRequest(`${where} must be a non-empty index→byte map, byte array or base64 string.`, where);
  }
  return bytes;
}

/** `{"0":37,"1":80,...}` (a serialised Uint8Array): keys must be exactly 0..n-1. */
function bytesFromIndexMap(map: Record<string, number>): Uint8Array | undefined {
  const n = Object.keys(map).length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 1) {
    const v = map[i];
    if (!isByte(v)) return undefined;
    out[i] = v;
  }
  return out;
}

function isByte(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255;
}
