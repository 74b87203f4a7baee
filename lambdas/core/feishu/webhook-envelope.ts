/**
 * Pure parsing and verification of a Feishu / Lark event-subscription webhook request.
 *
 * Rules (see parseWebhook):
 * - A bot with neither `verificationToken` nor `encryptKey` accepts NOTHING (401), not even the url_verification
 *   challenge: an unverifiable endpoint would let anyone on the internet spend the bot's model budget, and failing
 *   the challenge surfaces the misconfiguration in the Feishu console at once.
 * - With an `encryptKey`, the signature is checked FIRST, over the raw bytes, before the body is even parsed: a
 *   request whose `x-lark-signature` does not match is a 401 whatever its body. A correctly signed body may be
 *   encrypted (`{ "encrypt": "..." }`, decrypted with the key) or plain (card callbacks arrive that way; the Lark
 *   SDK's own dispatcher accepts it). An unsigned request is accepted only as the encrypted url_verification
 *   challenge (which Feishu does not sign); every event REQUIRES a signature. A payload that does not decrypt with
 *   the key is refused with 401. A `verificationToken`, when also configured, is checked too.
 * - Without an `encryptKey`, a request carries no signature and no timestamp: whoever knows the verification token can
 *   forge events. Such a bot accepts anything only when it was saved with `allowUnsigned: true` (an explicit admin
 *   choice, see core/feishu/bots.ts); then the plaintext token (v2 `header.token`, v1 / challenge `token`) must equal
 *   `verificationToken`, compared in constant time. Without the flag every request is a 401.
 * - Schema 2.0 events and the legacy v1 `{uuid, token, type: "event_callback", event}` shape are supported.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import {
  checkTimestamp,
  decryptEvent,
  DEFAULT_TIMESTAMP_WINDOW,
  FeishuCryptoError,
  verifySignature,
  type TimestampWindow,
} from './crypto.js';

const EncryptedBodySchema = z.object({ encrypt: z.string().min(1) });

const ChallengeSchema = z.object({
  type: z.literal('url_verification'),
  challenge: z.string(),
  token: z.string().optional(),
});

const V2EventSchema = z.object({
  schema: z.literal('2.0'),
  header: z.object({
    event_id: z.string().min(1).max(256),
    event_type: z.string().min(1),
    token: z.string().optional(),
    create_time: z.string().optional(),
    app_id: z.string().optional(),
    tenant_key: z.string().optional(),
  }),
  event: z.unknown(),
});

const V1EventSchema = z.object({
  uuid: z.string().min(1).max(256),
  token: z.string().optional(),
  ts: z.string().optional(),
  type: z.literal('event_callback'),
  event: z.looseObject({
    type: z.string().min(1),
    app_id: z.string().optional(),
    tenant_key: z.string().optional(),
  }),
});

export type WebhookHeaders = Record<string, string | string[] | undefined>;

interface WebhookBotSecrets {
  verificationToken?: string | null;
  encryptKey?: string | null;
  /** Token-only verification (no encryptKey, so no signature) is accepted only with this set. */
  allowUnsigned?: boolean;
}

export interface ParseWebhookInput {
  /** The body exactly as received (a Lambda base64 body must be decoded to bytes first). */
  rawBody: string | Buffer;
  headers: WebhookHeaders;
  bot: WebhookBotSecrets;
  /** Milliseconds since epoch (defaults to Date.now()); used for the signature timestamp window. */
  now?: number;
  timestampWindow?: TimestampWindow;
}

export type WebhookResult =
  | { kind: 'challenge'; challenge: string }
  | {
      kind: 'event';
      schema: '2.0' | '1.0';
      eventId: string;
      eventType: string;
      event: unknown;
      tenantKey?: string;
      appId?: string;
      /** Milliseconds since epoch as a string (v2 header.create_time), when present. */
      createTime?: string;
    }
  | { kind: 'rejected'; status: 400 | 401; reason: string };

const LARK_HEADERS = {
  signature: 'x-lark-signature',
  timestamp: 'x-lark-request-timestamp',
  nonce: 'x-lark-request-nonce',
} as const;

/** Case-insensitive header lookup; the first value of a repeated header. */
function getHeader(headers: WebhookHeaders, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== lower || value === undefined) continue;
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/** Constant-time string equality (hashing first so lengths never leak through timingSafeEqual's length check). */
function safeEqual(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string') return false;
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

const reject = (status: 400 | 401, reason: string): WebhookResult => ({ kind: 'rejected', status, reason });

export function parseWebhook(input: ParseWebhookInput): WebhookResult {
  const encryptKey = input.bot.encryptKey || undefined;
  const verificationToken = input.bot.verificationToken || undefined;
  if (!encryptKey && !verificationToken) {
    return reject(401, 'bot has neither verificationToken nor encryptKey configured; refusing unverifiable events');
  }
  if (!encryptKey && !input.bot.allowUnsigned) {
    return reject(401, 'bot has no encryptKey and does not allow unsigned events; refusing unsigned requests');
  }

  // The signature covers the raw bytes: it is checked before anything is read from them.
  let signed = false;
  if (encryptKey) {
    const signature = getHeader(input.headers, LARK_HEADERS.signature);
    if (signature !== undefined) {
      const timestamp = getHeader(input.headers, LARK_HEADERS.timestamp) ?? '';
      const nonce = getHeader(input.headers, LARK_HEADERS.nonce) ?? '';
      if (!verifySignature({ timestamp, nonce, encryptKey, rawBody: input.rawBody, signature })) {
        return reject(401, 'invalid x-lark-signature');
      }
      if (!checkTimestamp(timestamp, input.now ?? Date.now(), input.timestampWindow ?? DEFAULT_TIMESTAMP_WINDOW)) {
        return reject(401, 'x-lark-request-timestamp outside the accepted window');
      }
      signed = true;
    }
  }

  const rawText = typeof input.rawBody === 'string' ? input.rawBody : input.rawBody.toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(rawText);
  } catch {
    return reject(400, 'body is not JSON');
  }

  let payload: unknown = body;
  if (encryptKey) {
    const enc = EncryptedBodySchema.safeParse(body);
    if (enc.success) {
      try {
        payload = decryptEvent(enc.data.encrypt, encryptKey);
      } catch (err) {
        if (err instanceof FeishuCryptoError) return reject(401, `cannot decrypt body: ${err.message}`);
        throw err;
      }
    } else if (!signed) {
      // A plain body is only believable when signed with the key; without a signature it is a forgery.
      return reject(401, 'missing x-lark-signature');
    }
  } else if (EncryptedBodySchema.safeParse(body).success) {
    return reject(400, 'body is encrypted but the bot has no encryptKey configured');
  }

  const challenge = ChallengeSchema.safeParse(payload);
  if (challenge.success) {
    if (verificationToken && !safeEqual(challenge.data.token, verificationToken)) {
      return reject(401, 'verification token mismatch');
    }
    return { kind: 'challenge', challenge: challenge.data.challenge };
  }

  if (encryptKey && !signed) return reject(401, 'missing x-lark-signature');

  const v2 = V2EventSchema.safeParse(payload);
  if (v2.success) {
    const h = v2.data.header;
    if (verificationToken && !safeEqual(h.token, verificationToken)) return reject(401, 'verification token mismatch');
    return {
      kind: 'event',
      schema: '2.0',
      eventId: h.event_id,
      eventType: h.event_type,
      event: v2.data.event,
      ...(h.tenant_key ? { tenantKey: h.tenant_key } : {}),
      ...(h.app_id ? { appId: h.app_id } : {}),
      ...(h.create_time ? { createTime: h.create_time } : {}),
    };
  }

  const v1 = V1EventSchema.safeParse(payload);
  if (v1.success) {
    if (verificationToken && !safeEqual(v1.data.token, verificationToken)) {
      return reject(401, 'verification token mismatch');
    }
    const ev = v1.data.event;
    return {
      kind: 'event',
      schema: '1.0',
      eventId: v1.data.uuid,
      eventType: ev.type,
      event: ev,
      ...(ev.tenant_key ? { tenantKey: ev.tenant_key } : {}),
      ...(ev.app_id ? { appId: ev.app_id } : {}),
    };
  }

  return reject(400, 'unrecognised callback payload');
}
