/**
 * Feishu / Lark event-subscription cryptography.
 *
 * - Encrypted events: `{ "encrypt": base64(iv ‖ AES-256-CBC(key = sha256(encryptKey), iv, PKCS7(json))) }`,
 *   the IV being the first 16 bytes of the decoded payload.
 * - Signed events: `x-lark-signature = hex(sha256(timestamp + nonce + encryptKey + rawBody))`, where timestamp is
 *   the `x-lark-request-timestamp` header (UNIX time in SECONDS) and nonce the `x-lark-request-nonce` header. The
 *   signature covers the RAW request body bytes exactly as received (never a re-serialisation).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export class FeishuCryptoError extends Error {
  readonly code: 'bad_payload' | 'decrypt_failed' | 'bad_json';
  constructor(code: FeishuCryptoError['code'], message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'FeishuCryptoError';
    this.code = code;
  }
}

function aesKey(encryptKey: string): Buffer {
  return createHash('sha256').update(encryptKey, 'utf8').digest();
}

/** AES-256-CBC decryption of a Feishu `encrypt` string to text. Throws FeishuCryptoError. */
export function decryptToString(encrypt: string, encryptKey: string): string {
  if (typeof encrypt !== 'string' || !/^[A-Za-z0-9+/=_-]+$/.test(encrypt.trim())) {
    throw new FeishuCryptoError('bad_payload', 'encrypt is not base64');
  }
  const buf = Buffer.from(encrypt, 'base64');
  // IV (16) + at least one AES block (16), and whole blocks only.
  if (buf.length < 32 || buf.length % 16 !== 0) {
    throw new FeishuCryptoError('bad_payload', 'encrypt payload has an invalid length');
  }
  try {
    const decipher = createDecipheriv('aes-256-cbc', aesKey(encryptKey), buf.subarray(0, 16));
    return Buffer.concat([decipher.update(buf.subarray(16)), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new FeishuCryptoError('decrypt_failed', 'cannot decrypt payload (wrong encrypt key?)', err);
  }
}

/** Decrypts the `encrypt` field of a Feishu callback and parses the JSON inside. Throws FeishuCryptoError. */
export function decryptEvent(encrypt: string, encryptKey: string): unknown {
  const plain = decryptToString(encrypt, encryptKey);
  try {
    return JSON.parse(plain) as unknown;
  } catch (err) {
    throw new FeishuCryptoError('bad_json', 'decrypted payload is not JSON (wrong encrypt key?)', err);
  }
}

/**
 * The exact inverse of decryptEvent, as Feishu does it (random IV prepended). For tests and fakes.
 * `iv` may be fixed to get a deterministic output.
 */
export function encryptEvent(obj: unknown, encryptKey: string, iv: Buffer = randomBytes(16)): string {
  if (iv.length !== 16) throw new RangeError('iv must be 16 bytes');
  const cipher = createCipheriv('aes-256-cbc', aesKey(encryptKey), iv);
  const plain = typeof obj === 'string' ? obj : JSON.stringify(obj);
  return Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
}

export interface SignatureInput {
  timestamp: string;
  nonce: string;
  encryptKey: string;
  rawBody: string | Buffer;
}

/** hex sha256(timestamp + nonce + encryptKey + rawBody) — what Feishu sends as `x-lark-signature`. */
export function signBody({ timestamp, nonce, encryptKey, rawBody }: SignatureInput): string {
  return createHash('sha256')
    .update(timestamp + nonce + encryptKey, 'utf8')
    .update(typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody)
    .digest('hex');
}

/** Constant-time check of `x-lark-signature`. Pure signature check: freshness is checkTimestamp's job. */
export function verifySignature(input: SignatureInput & { signature: string | undefined | null }): boolean {
  const { signature } = input;
  if (typeof signature !== 'string' || !/^[0-9a-fA-F]{64}$/.test(signature)) return false;
  if (typeof input.timestamp !== 'string' || typeof input.nonce !== 'string' || !input.encryptKey) return false;
  const expected = Buffer.from(signBody(input), 'hex');
  const given = Buffer.from(signature, 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export interface TimestampWindow {
  /** Oldest accepted request age, seconds. */
  maxAgeSeconds: number;
  /** Largest accepted clock skew into the future, seconds. */
  maxFutureSeconds: number;
}

/**
 * Default replay window. Feishu retries an unacknowledged event after 15 s, 5 min, 1 h and 6 h (≈7.1 h in all) and
 * does not document whether a retry is re-signed with a fresh timestamp, so a 5-minute window could refuse genuine
 * late retries. Replays inside the window are neutralised by the event_id de-duplication (keep its TTL ≥ 8 h);
 * the window only stops ancient captured requests. Tighten it via parseWebhook's `timestampWindow`.
 */
export const DEFAULT_TIMESTAMP_WINDOW: TimestampWindow = { maxAgeSeconds: 8 * 3600, maxFutureSeconds: 300 };

/** `timestamp` is Feishu's `x-lark-request-timestamp` (seconds since epoch); `nowMs` in milliseconds. */
export function checkTimestamp(timestamp: string | undefined, nowMs: number, window: TimestampWindow = DEFAULT_TIMESTAMP_WINDOW): boolean {
  if (typeof timestamp !== 'string' || !/^\d{1,12}$/.test(timestamp)) return false;
  const ageSeconds = nowMs / 1000 - Number(timestamp);
  return ageSeconds <= window.maxAgeSeconds && -ageSeconds <= window.maxFutureSeconds;
}
