import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { config } from '../config.js';
import { logger } from '../log.js';
import { ensureAdminKey } from '../store/keys.js';

let done: Promise<void> | undefined;

/**
 * Makes sure the bootstrap admin key exists as an ordinary admin key row, once per process: from ADMIN_API_KEY
 * (local server) or from the Secrets Manager secret the stack generates (deployed).
 */
export function ensureBootstrapAdmin(): Promise<void> {
  done ??= run().catch((e) => {
    done = undefined; // try again on the next request rather than failing forever
    throw e;
  });
  return done;
}

async function run(): Promise<void> {
  const { adminApiKey, adminKeySecretArn } = config();
  let plaintext = adminApiKey;
  if (!plaintext && adminKeySecretArn) {
    const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: adminKeySecretArn }));
    plaintext = out.SecretString?.trim();
  }
  if (!plaintext) return;
  const key = await ensureAdminKey(plaintext);
  if (key) logger.debug('bootstrap admin key present', { keyId: key.id });
  else logger.warn('the bootstrap admin key was revoked (reset or deleted); it is not recreated');
}

/** For tests that recreate tables within one process. */
export function resetBootstrapForTests(): void {
  done = undefined;
}
