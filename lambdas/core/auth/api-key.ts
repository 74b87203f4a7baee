import { createHash, randomInt } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KEY_BODY_LENGTH = 40;

/** `br-` + 40 base62 characters from the CSPRNG (≈238 bits); randomInt is unbiased. */
export function generateApiKey(): string {
  let body = '';
  for (let i = 0; i < KEY_BODY_LENGTH; i++) body += BASE62[randomInt(62)];
  return `br-${body}`;
}

/** The only form in which a key is stored. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** What admins see to tell keys apart: `br-abc…wxyz`. */
export function keyHint(key: string): string {
  if (key.length <= 12) return `${key.slice(0, 3)}…`;
  return `${key.slice(0, 6)}…${key.slice(-4)}`;
}

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
