/**
 * API key material: how a key is made, stored (only its SHA-256) and shown (a hint). A leaf module, shared by the
 * store (which creates and resets keys) and auth (which looks them up).
 */
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
