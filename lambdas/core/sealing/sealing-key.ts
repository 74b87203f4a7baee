/**
 * The gateway's sealing key (see sealed-box.ts): derived with HKDF-SHA256 from key material that only the gateway
 * holds — deployed, a Secrets Manager secret the stack generates (read once per instance); locally, a value npm start
 * generated once under DATA_DIR. Without either (a bare test process) a random key serves this process only, so
 * tokens do not survive a restart.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { config } from '../config.js';
import { GatewayError } from '../errors.js';
import { logger } from '../log.js';

let cached: { source: string; key: Promise<Buffer> } | undefined;

export function sealingKey(): Promise<Buffer> {
  const { sealingKey: material, sealingKeySecretArn: arn } = config();
  const source = material ? `value:${material}` : arn ? `secret:${arn}` : 'ephemeral';
  if (cached?.source !== source) {
    const key = load(material, arn).catch((e: unknown) => {
      cached = undefined; // try again on the next request rather than failing forever
      throw e;
    });
    cached = { source, key };
  }
  return cached.key;
}

async function load(material: string | undefined, arn: string | undefined): Promise<Buffer> {
  if (material) return derive(material);
  if (arn) {
    let secret: string | undefined;
    try {
      const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: arn }));
      secret = out.SecretString?.trim();
    } catch (e) {
      logger.error('cannot read the sealing key secret', { error: e as Error });
      throw unavailable(e);
    }
    if (!secret) throw unavailable();
    return derive(secret);
  }
  logger.warn('no SEALING_KEY or SEALING_KEY_SECRET_ARN: sealed tokens (Responses reasoning) are valid in this process only');
  return randomBytes(32);
}

function derive(material: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(material, 'utf8'), Buffer.alloc(0), 'bedrock-gateway sealing key v1', 32));
}

const unavailable = (cause?: unknown) =>
  new GatewayError(503, 'The gateway cannot read its sealing key right now; nothing was done. Retry shortly.', {
    kind: 'unavailable',
    code: 'service_unavailable',
    retryable: true,
    retryAfter: 2,
    cause,
  });
