/**
 * What bytes really are. Clients mislabel images (a JPEG sent as image/png is common), so the bytes decide an
 * image's type; bytes that are no PNG, JPEG, GIF or WebP, or a document whose bytes do not match its declared
 * format, are refused before anything is sent upstream.
 */
import { errors } from '../errors.js';

export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type ImageMediaType = (typeof IMAGE_TYPES)[number];

export const DOCUMENT_FORMATS = ['pdf', 'csv', 'doc', 'docx', 'xls', 'xlsx', 'html', 'txt', 'md'] as const;
export type DocumentFormat = (typeof DOCUMENT_FORMATS)[number];

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0) => b.length >= at + sig.length && sig.every((x, i) => b[at + i] === x);

/** Media type from the magic bytes, or null. */
export function sniffImageType(b: Uint8Array): ImageMediaType | null {
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(b, [0x47, 0x49, 0x46, 0x38, 0x37, 0x61]) || startsWith(b, [0x47, 0x49, 0x46, 0x38, 0x39, 0x61])) return 'image/gif';
  if (startsWith(b, [0x52, 0x49, 0x46, 0x46]) && startsWith(b, [0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  return null;
}

/** The image's real type; a 400 naming the part when the bytes are empty or no supported image. */
export function checkImageBytes(bytes: Uint8Array, declared: string, path: string): ImageMediaType {
  if (bytes.length === 0) throw errors.badRequest(`${path}: the image is empty.`, path);
  const sniffed = sniffImageType(bytes);
  if (!sniffed) {
    const named = declared ? ` (declared ${declared.slice(0, 60)})` : '';
    throw errors.badRequest(`${path}: the bytes are not a PNG, JPEG, GIF or WebP image${named}.`, path);
  }
  return sniffed;
}

const ZIP = [0x50, 0x4b, 0x03, 0x04];
const OLE2 = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const TEXT_FORMATS: ReadonlySet<DocumentFormat> = new Set(['csv', 'txt', 'md', 'html']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

export const isTextDocumentFormat = (format: DocumentFormat) => TEXT_FORMATS.has(format);

/**
 * A document's bytes must be what its format says: PDF starts with `%PDF-`, docx/xlsx are ZIP containers,
 * doc/xls OLE2 compound files, and csv/txt/md/html valid UTF-8 text without NUL bytes.
 */
export function checkDocumentBytes(format: DocumentFormat, bytes: Uint8Array, path: string): void {
  if (bytes.length === 0) throw errors.badRequest(`${path}: the document is empty.`, path);
  const refuse = (what: string) => errors.badRequest(`${path}: the bytes are not ${what}, as format '${format}' says.`, path);
  switch (format) {
    case 'pdf':
      if (!startsWith(bytes, [0x25, 0x50, 0x44, 0x46, 0x2d])) throw refuse('a PDF (%PDF-)');
      return;
    case 'docx':
    case 'xlsx':
      if (!startsWith(bytes, ZIP)) throw refuse('an Office Open XML (ZIP) file');
      return;
    case 'doc':
    case 'xls':
      if (!startsWith(bytes, OLE2)) throw refuse('a legacy Office (OLE2) file');
      return;
    default:
      if (bytes.includes(0) || !isUtf8(bytes)) throw refuse('UTF-8 text');
  }
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}
