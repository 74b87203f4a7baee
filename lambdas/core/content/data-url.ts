/** Decoding of `data:` URLs and bare base64, the two ways clients inline bytes in a chat request. */

export interface InlineBytes {
  /** Lower-cased media type from the data URL header ('' when the header names none). */
  mediaType: string;
  bytes: Uint8Array;
  /** Whether the payload was base64 (else percent-encoded text, which only text documents may use). */
  base64: boolean;
}

export function isDataUrl(value: string): boolean {
  return value.slice(0, 5).toLowerCase() === 'data:';
}

/** Parses `data:[<type>][;param]*[;base64],<payload>`; undefined when malformed or empty. */
export function parseDataUrl(url: string): InlineBytes | undefined {
  const comma = url.indexOf(',');
  if (!isDataUrl(url) || comma < 0) return undefined;
  const [type = '', ...params] = url.slice(5, comma).split(';');
  const payload = url.slice(comma + 1);
  const isBase64 = params.some((p) => p.trim().toLowerCase() === 'base64');
  const bytes = isBase64 ? decodeBase64(payload) : decodePercentEncoded(payload);
  if (!bytes || bytes.length === 0) return undefined;
  return { mediaType: type.trim().toLowerCase(), bytes, base64: isBase64 };
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Standard or URL-safe base64, whitespace tolerated; undefined when the text is not base64. */
export function decodeBase64(text: string): Uint8Array | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!BASE64.test(compact)) return undefined;
  const buf = Buffer.from(compact, 'base64');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function decodePercentEncoded(payload: string): Uint8Array | undefined {
  try {
    return new TextEncoder().encode(decodeURIComponent(payload));
  } catch {
    return undefined;
  }
}
