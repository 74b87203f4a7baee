import { config } from '../config.js';
import { cacheEpoch } from '../store/cache-epoch.js';
import { getGroup } from '../store/groups.js';
import type { ApiKey } from '../store/keys.js';
import { effectiveLimits, type Limits } from './types.js';

/**
 * The limits that apply to a key: its own where set, else its group's. The group is read at most once per
 * MODEL_CACHE_TTL_MS per instance (like models and grants; this process's own admin writes invalidate at once), so
 * a key without limits of its own costs no read on most calls and none at all when it has no group.
 */
const groups = new Map<number, { limits: Limits | undefined; expires: number; epoch: number }>();

export async function limitsFor(key: ApiKey): Promise<Limits> {
  const own = key.limits;
  if (key.groupId === null || (own.rpm !== null && own.tpm !== null && own.maxParallel !== null)) return own;
  const hit = groups.get(key.groupId);
  if (hit && hit.expires > Date.now() && hit.epoch === cacheEpoch()) return effectiveLimits(own, hit.limits);
  const epoch = cacheEpoch();
  const limits = (await getGroup(key.groupId))?.limits;
  const ttl = config().modelCacheTtlMs;
  if (ttl > 0) {
    if (groups.size > 5000) groups.clear();
    groups.set(key.groupId, { limits, expires: Date.now() + ttl, epoch });
  }
  return effectiveLimits(own, limits);
}
