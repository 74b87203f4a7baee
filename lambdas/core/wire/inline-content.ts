/**
 * Inline content every OpenAI-shaped wire API accepts the same way: an image given as a URL (a base64 data: URL or
 * bare base64, decoded and checked now; or an http(s) URL the pipeline fetches through the SSRF guard), and a file
 * given as `file_data` (a data: URL or bare base64). Bytes are checked here, so nothing that is not what it claims
 * reaches an upstream. `field` names the member in error messages (`image_url.url` in chat, `image_url` in
 * responses), so each API's 400s point at its own shape.
 */
import type { DocumentBlock, ImageBlock } from '../chat/request.js';
import { decodeBase64, isDataUrl, parseDataUrl } from '../content/data-url.js';
import { type DocumentNames, formatFromFilename, normalizeDocumentFormat } from '../content/documents.js';
import { checkDocumentBytes, checkImageBytes, DOCUMENT_FORMATS, type DocumentFormat, isTextDocumentFormat } from '../content/media.js';
import { errors } from '../errors.js';

export function decodeImageUrl(url: string | null | undefined, path: string, field = 'image_url.url'): ImageBlock {
  if (typeof url !== 'string' || url.trim() === '') throw errors.badRequest(`${path}.${field} is required.`, path);
  const u = url.trim();
  if (/^https?:\/\//i.test(u)) return { type: 'image', source: { type: 'url', url: u }, path };
  if (isDataUrl(u)) {
    const inline = parseDataUrl(u);
    if (!inline) throw errors.badRequest(`${path}: the image data URL is malformed or empty.`, path);
    if (!inline.base64) {
      throw errors.badRequest(`${path}: image data URLs must be base64 (data:image/png;base64,...).`, path);
    }
    return {
      type: 'image',
      source: { type: 'bytes', mediaType: checkImageBytes(inline.bytes, inline.mediaType, path), data: inline.bytes },
    };
  }
  const bytes = decodeBase64(u);
  if (!bytes || bytes.length === 0) {
    throw errors.badRequest(`${path}.${field} must be a data: URL, an http(s) URL or base64 image bytes.`, path);
  }
  return { type: 'image', source: { type: 'bytes', mediaType: checkImageBytes(bytes, '', path), data: bytes } };
}

export const FORMATS_TEXT = DOCUMENT_FORMATS.join(', ');

export interface InlineFile {
  file_data?: string;
  filename?: string;
  file_id?: string | null;
}

/**
 * A file given inline (`file_data`: a data: URL or bare base64); its format from the media type, else the filename,
 * else PDF. `field` prefixes the member names in messages (`file.` for chat's `file` part, '' for `input_file`).
 */
export function decodeInlineFile(file: InlineFile | undefined, names: DocumentNames, path: string, field = ''): DocumentBlock {
  const data = file?.file_data?.trim();
  if (!data) {
    const why = file?.file_id ? 'file_id references are not supported; send file_data' : `${field}file_data is required`;
    throw errors.badRequest(`${path}: ${why}.`, path);
  }
  const inline = isDataUrl(data) ? parseDataUrl(data) : bytesOnly(decodeBase64(data));
  if (!inline) throw errors.badRequest(`${path}.${field}file_data is not a valid data URL or base64.`, path);
  const declared = inline.mediaType && inline.mediaType !== 'application/octet-stream' ? inline.mediaType : undefined;
  let format: DocumentFormat | undefined;
  if (declared) {
    format = normalizeDocumentFormat(declared);
    if (!format) throw unsupportedFormat(path, declared);
  } else {
    format = formatFromFilename(file?.filename) ?? 'pdf';
  }
  if (!inline.base64 && !isTextDocumentFormat(format)) {
    throw errors.badRequest(`${path}.${field}file_data: a ${format} document must be base64 (data:<type>;base64,...).`, path);
  }
  checkDocumentBytes(format, inline.bytes, path);
  return { type: 'document', format, name: names.claim(file?.filename), data: inline.bytes };
}

function bytesOnly(bytes: Uint8Array | undefined) {
  return bytes && bytes.length > 0 ? { mediaType: '', bytes, base64: true } : undefined;
}

export function unsupportedFormat(path: string, format: string) {
  return errors.badRequest(`${path}: unsupported document format '${format.slice(0, 100)}' (use ${FORMATS_TEXT}).`, path);
}
