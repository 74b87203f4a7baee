import { errors } from '../errors.js';
import { type ApiKey, getKeyByHash } from '../store/keys.js';
import { hashApiKey } from '../key-material.js';
import { presentedKey } from './api-key.js';
import { ensureBootstrapAdmin } from './bootstrap.js';

/**
 * Who is calling: one strongly consistent GetItem by the key's hash, never cached, so a deleted or reset key
 * stops working on the very next request. Any string is looked up; keys are never rejected for their shape.
 */
export async function authenticate(headers: Record<string, string | undefined>): Promise<ApiKey> {
  await ensureBootstrapAdmin();
  const presented = presentedKey(headers);
  if (!presented) throw errors.invalidApiKey();
  const key = await getKeyByHash(hashApiKey(presented));
  if (!key) throw errors.invalidApiKey();
  return key;
}

export function requireAdmin(key: ApiKey): void {
  if (key.role !== 'admin') throw errors.forbidden('This route requires an admin key.');
}
