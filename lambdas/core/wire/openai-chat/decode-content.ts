/**
 * OpenAI content parts → core blocks: `text`, `image_url` (a base64 data: URL, bare base64, or an http(s) URL the
 * pipeline fetches through the SSRF guard), the seed API's `doc` part and OpenAI's `file` part. Bytes are decoded
 * and checked here (an image must be PNG/JPEG/GIF/WebP, a document what its format says), so nothing that is not
 * what it claims reaches an upstream.
 */
import type { DocumentBlock, ImageBlock, TextBlock } from '../../chat/request.js';
import { decodeBase64, isDataUrl, parseDataUrl } from '../../content/data-url.js';
import { type DocumentNames, formatFromFilename, isPdf, normalizeDocumentFormat } from '../../content/documents.js';
import { checkDocumentBytes, type DocumentFormat } from '../../content/media.js';
import { errors } from '../../errors.js';
import { decodeImageUrl, decodeInlineFile, FORMATS_TEXT, unsupportedFormat } from '../inline-content.js';

// Chat's image_url part decodes like every OpenAI-shaped inline image.
export { decodeImageUrl };
import type { ChatMessage, ContentPart, DocPart, FilePart } from './types.js';

/** Bedrock rejects text blocks that are empty or only whitespace. */
export const isBlank = (text: string) => text.trim() === '';

/** A user message's content → core blocks (text, image, document); blank text is dropped. */
export function decodeUserContent(
  content: ChatMessage['content'],
  path: string,
  names: DocumentNames,
): Array<TextBlock | ImageBlock | DocumentBlock> {
  if (content == null) return [];
  if (typeof content === 'string') return isBlank(content) ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw errors.badRequest(`${path}.content must be a string or an array of parts.`, path);
  const out: Array<TextBlock | ImageBlock | DocumentBlock> = [];
  content.forEach((part, j) => {
    const block = decodeUserPart(part, `${path}.content[${j}]`, names);
    if (block) out.push(block);
  });
  return out;
}

function decodeUserPart(part: ContentPart, path: string, names: DocumentNames): TextBlock | ImageBlock | DocumentBlock | undefined {
  switch (part?.type) {
    case 'text':
      if (typeof part.text !== 'string') throw errors.badRequest(`${path}.text must be a string.`, path);
      return isBlank(part.text) ? undefined : { type: 'text', text: part.text };
    case 'image_url':
      return decodeImageUrl(part.image_url?.url, path);
    case 'doc':
      return decodeDocPart(part, names, path);
    case 'file':
      return decodeFilePart(part, names, path);
    default:
      throw errors.badRequest(`${path}: unsupported content part type '${String((part as { type?: unknown } | null)?.type)}'.`, path);
  }
}

/** The text of a system, developer, assistant or tool message, one entry per text part (blank ones included). */
export function textsOf(content: ChatMessage['content'], path: string): string[] {
  if (content == null) return [];
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) throw errors.badRequest(`${path}.content must be a string or an array of parts.`, path);
  return content.map((part, j) => {
    const at = `${path}.content[${j}]`;
    if (part?.type === 'refusal') return part.refusal;
    if (part?.type !== 'text') throw errors.badRequest(`${at}: only text parts are allowed in this message role.`, at);
    if (typeof part.text !== 'string') throw errors.badRequest(`${at}.text must be a string.`, at);
    return part.text;
  });
}

/**
 * The seed API's `doc` part. `source.bytes` may be an index→byte map (a serialised Uint8Array, as the seed API
 * sends it), a byte array, or a base64 string (or a base64 data: URL).
 */
export function decodeDocPart(part: DocPart, names: DocumentNames, path: string): DocumentBlock {
  const doc = part.doc;
  if (!doc || typeof doc !== 'object') throw errors.badRequest(`${path}.doc is required.`, path);
  const bytes = docBytes(doc.source?.bytes, path);
  let format: DocumentFormat | undefined;
  if (doc.format !== undefined && doc.format !== '') {
    format = normalizeDocumentFormat(doc.format);
    if (!format) throw unsupportedFormat(path, doc.format);
  } else {
    format = formatFromFilename(doc.name) ?? (isPdf(bytes) ? 'pdf' : undefined);
    if (!format) throw errors.badRequest(`${path}.doc.format is required (one of ${FORMATS_TEXT}).`, path);
  }
  checkDocumentBytes(format, bytes, path);
  return { type: 'document', format, name: names.claim(doc.name), data: bytes };
}

/** OpenAI's `file` part: a data: URL or bare base64; format from the media type, else the filename, else PDF. */
export function decodeFilePart(part: FilePart, names: DocumentNames, path: string): DocumentBlock {
  return decodeInlineFile(part.file, names, path, 'file.');
}

function docBytes(source: DocPart['doc']['source']['bytes'] | undefined, path: string): Uint8Array {
  const where = `${path}.doc.source.bytes`;
  let bytes: Uint8Array | undefined;
  if (typeof source === 'string') {
    const inline = isDataUrl(source) ? parseDataUrl(source) : undefined;
    bytes = inline ? (inline.base64 ? inline.bytes : undefined) : decodeBase64(source);
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
