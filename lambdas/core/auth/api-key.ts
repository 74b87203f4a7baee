/** Reads the presented key from `Authorization: Bearer …` or `x-api-key`. Headers are lower-cased. */
export function presentedKey(headers: Record<string, string | undefined>): string | undefined {
  const auth = headers['authorization'];
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1].trim();
  }
  const x = headers['x-api-key'];
  return x ? x.trim() : undefined;
}
