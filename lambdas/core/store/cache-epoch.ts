/**
 * Model and permission lookups are cached briefly per Lambda instance (config().modelCacheTtlMs). A write made
 * by this same process (the local server runs admin and chat together) bumps the epoch so that its own cache
 * never serves a stale answer; other instances see the change within the TTL.
 */
let epoch = 0;

export function cacheEpoch(): number {
  return epoch;
}

export function bumpCacheEpoch(): void {
  epoch++;
}
