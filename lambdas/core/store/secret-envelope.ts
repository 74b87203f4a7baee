/**
 * Envelope encryption of the third-party secrets the table keeps (Feishu bots' appSecret, encryptKey and
 * verificationToken), so that a role that may read the table — or a table export, a backup — does not hold them.
 *
 * - Each secret is sealed on its own with a fresh 256-bit data key (AES-256-GCM); the data key is wrapped by the key
 *   provider and stored beside the ciphertext: `env1:<provider>:<wrapped key>:<iv>:<ciphertext ‖ tag>` (base64url).
 * - Deployed, the provider is a customer-managed KMS key (SECRETS_KMS_KEY_ID): sealing needs only
 *   kms:GenerateDataKey (the admin function, which writes secrets and never reads them back), opening needs
 *   kms:Decrypt (only the Feishu webhook and worker). Locally, a 256-bit key file under DATA_DIR (SECRETS_KEY, made
 *   by npm start) wraps the data keys the same way.
 * - The context (e.g. bot id and field) is bound to both layers: the KMS encryption context and the GCM additional
 *   data, so a sealed value copied to another bot or field does not open.
 * - Opened values are cached per instance by their sealed text (which changes whenever the secret does), so a warm
 *   webhook costs no KMS call.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { config } from '../config.js';
import { GatewayError } from '../errors.js';
import { logger } from '../log.js';

export type SecretContext = Record<string, string>;

/** Wraps and unwraps data keys: KMS deployed, a local key file under DATA_DIR for npm start. */
export interface KeyProvider {
  /** Recorded in each sealed value, so a value is never handed to the wrong provider. */
  readonly name: 'kms' | 'local';
  generateDataKey(context: SecretContext): Promise<{ plaintext: Buffer; wrapped: Buffer }>;
  unwrapDataKey(wrapped: Buffer, context: SecretContext): Promise<Buffer>;
}

const PREFIX = 'env1';

/** Canonical bytes of a context (sorted keys), the GCM additional data. */
function aad(context: SecretContext): Buffer {
  return Buffer.from(
    JSON.stringify(
      Object.keys(context)
        .sort()
        .map((k) => [k, context[k]]),
    ),
    'utf8',
  );
}

function gcmSeal(key: Buffer, plaintext: Buffer, additional: Buffer): { iv: Buffer; sealed: Buffer } {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(additional);
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { iv, sealed };
}

function gcmOpen(key: Buffer, iv: Buffer, sealed: Buffer, additional: Buffer): Buffer {
  if (sealed.length < 16) throw new Error('sealed value too short');
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(additional);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
}

export function kmsKeyProvider(keyId: string, client: KMSClient = new KMSClient({})): KeyProvider {
  return {
    name: 'kms',
    async generateDataKey(context) {
      const out = await client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }));
      if (!out.Plaintext || !out.CiphertextBlob) throw new Error('KMS returned no data key');
      return { plaintext: Buffer.from(out.Plaintext), wrapped: Buffer.from(out.CiphertextBlob) };
    },
    async unwrapDataKey(wrapped, context) {
      const out = await client.send(new DecryptCommand({ KeyId: keyId, CiphertextBlob: wrapped, EncryptionContext: context }));
      if (!out.Plaintext) throw new Error('KMS returned no plaintext');
      return Buffer.from(out.Plaintext);
    },
  };
}

/** A 256-bit master key held by this process (npm start's key file): wraps data keys with AES-256-GCM. */
export function localKeyProvider(masterKey: Buffer): KeyProvider {
  if (masterKey.length !== 32) throw new Error('the local secrets key must be 32 bytes');
  return {
    name: 'local',
    // Synchronous work behind the provider's async interface (a throw becomes a rejection).
    generateDataKey: (context) =>
      Promise.resolve().then(() => {
        const plaintext = randomBytes(32);
        const { iv, sealed } = gcmSeal(masterKey, plaintext, aad(context));
        return { plaintext, wrapped: Buffer.concat([iv, sealed]) };
      }),
    unwrapDataKey: (wrapped, context) =>
      Promise.resolve().then(() => gcmOpen(masterKey, wrapped.subarray(0, 12), wrapped.subarray(12), aad(context))),
  };
}

let provided: { source: string; provider: KeyProvider } | undefined;
let override: KeyProvider | undefined;

/** The configured provider: KMS (deployed), the local key (npm start), else a random key for this process only. */
function keyProvider(): KeyProvider {
  if (override) return override;
  const { secretsKmsKeyId: kmsKey, secretsKey: localKey } = config();
  const source = kmsKey ? `kms:${kmsKey}` : localKey ? `local:${localKey}` : 'ephemeral';
  if (provided?.source !== source) {
    let provider: KeyProvider;
    if (kmsKey) provider = kmsKeyProvider(kmsKey);
    else if (localKey) provider = localKeyProvider(Buffer.from(localKey, 'base64url'));
    else {
      // Kept in the environment so that every handler bundle loaded into this process (GATEWAY_BUNDLES) shares it.
      logger.warn('no SECRETS_KMS_KEY_ID or SECRETS_KEY: bot secrets saved now open in this process only');
      process.env.SECRETS_KEY ||= randomBytes(32).toString('base64url');
      provider = localKeyProvider(Buffer.from(process.env.SECRETS_KEY, 'base64url'));
    }
    provided = { source, provider };
  }
  return provided.provider;
}

/** Tests: seal and open with this provider (undefined: back to the configured one). */
export function overrideKeyProvider(p: KeyProvider | undefined): void {
  override = p;
  opened.clear();
}

export const isSealed = (v: string): boolean => v.startsWith(`${PREFIX}:`);

export async function sealSecret(plaintext: string, context: SecretContext): Promise<string> {
  const provider = keyProvider();
  let dataKey: { plaintext: Buffer; wrapped: Buffer };
  try {
    dataKey = await provider.generateDataKey(context);
  } catch (e) {
    logger.error('cannot generate a data key for a secret', { error: e as Error });
    throw unavailable(e);
  }
  try {
    const { iv, sealed } = gcmSeal(dataKey.plaintext, Buffer.from(plaintext, 'utf8'), aad(context));
    return [PREFIX, provider.name, dataKey.wrapped, iv, sealed].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join(':');
  } finally {
    dataKey.plaintext.fill(0);
  }
}

const opened = new Map<string, string>();
const MAX_OPENED = 256;

export async function openSecret(value: string, context: SecretContext): Promise<string> {
  const cacheKey = `${aad(context).toString('utf8')}\n${value}`;
  const hit = opened.get(cacheKey);
  if (hit !== undefined) return hit;
  const [prefix, name, wrapped, iv, sealed, ...rest] = value.split(':');
  const provider = keyProvider();
  if (prefix !== PREFIX || !wrapped || !iv || !sealed || rest.length) throw new Error('not a sealed secret');
  if (name !== provider.name) {
    throw new GatewayError(500, `This secret was sealed by the '${name}' key provider; this gateway uses '${provider.name}'.`);
  }
  let dataKey: Buffer;
  try {
    dataKey = await provider.unwrapDataKey(Buffer.from(wrapped, 'base64url'), context);
  } catch (e) {
    logger.error('cannot unwrap the data key of a secret', { error: e as Error });
    throw unavailable(e);
  }
  try {
    const plain = gcmOpen(dataKey, Buffer.from(iv, 'base64url'), Buffer.from(sealed, 'base64url'), aad(context)).toString('utf8');
    if (opened.size >= MAX_OPENED) opened.delete(opened.keys().next().value!);
    opened.set(cacheKey, plain);
    return plain;
  } finally {
    dataKey.fill(0);
  }
}

const unavailable = (cause?: unknown) =>
  new GatewayError(503, 'The gateway cannot use its secrets key right now; nothing was done. Retry shortly.', {
    kind: 'unavailable',
    code: 'service_unavailable',
    retryable: true,
    retryAfter: 2,
    cause,
  });
