/**
 * Records must always fit DynamoDB's 400 KB item limit. Long texts are cut with a visible marker; binary parts
 * never reach a record at all (they are described, e.g. "[image/png, 34 KB]").
 */
const MAX_TEXT_BYTES = 64 * 1024;
const MAX_TOOL_CALLS_BYTES = 48 * 1024;

export function capText(text: string, maxBytes = MAX_TEXT_BYTES): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const buf = Buffer.from(text, 'utf8').subarray(0, maxBytes - 64);
  // Drop a possibly split trailing code point.
  const cut = buf.toString('utf8').replace(/\uFFFD$/, '');
  const dropped = Buffer.byteLength(text, 'utf8') - Buffer.byteLength(cut, 'utf8');
  return `${cut}\n…[truncated ${dropped} bytes]`;
}

export function capJson<T>(value: T[], maxBytes = MAX_TOOL_CALLS_BYTES): T[] | Array<{ truncated: true; bytes: number }> {
  const size = Buffer.byteLength(JSON.stringify(value), 'utf8');
  return size <= maxBytes ? value : [{ truncated: true, bytes: size }];
}

export function describeBytes(mediaType: string, bytes: number): string {
  const size = bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
  return `[${mediaType}, ${size}]`;
}
