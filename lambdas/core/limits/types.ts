/**
 * Per-key rate limits: requests per minute, tokens per minute (admitted on the estimate, corrected by the real usage
 * at settlement) and calls in flight. null = no limit. A group's values are the default for its keys; a key's own
 * value (when set) wins.
 */
export interface Limits {
  rpm: number | null;
  tpm: number | null;
  maxParallel: number | null;
}

export const NO_LIMITS: Limits = { rpm: null, tpm: null, maxParallel: null };

export const hasLimits = (l: Limits) => l.rpm !== null || l.tpm !== null || l.maxParallel !== null;

/** The key's own values where set, else its group's. */
export function effectiveLimits(own: Limits, group: Limits | undefined): Limits {
  return {
    rpm: own.rpm ?? group?.rpm ?? null,
    tpm: own.tpm ?? group?.tpm ?? null,
    maxParallel: own.maxParallel ?? group?.maxParallel ?? null,
  };
}

/** The rate windows are whole minutes (fixed windows, epoch minutes). */
export const WINDOW_SECONDS = 60;
export const windowOf = (epochSeconds: number) => Math.floor(epochSeconds / WINDOW_SECONDS);

/** What a limited key's responses tell the client (the x-ratelimit-* headers). */
export interface RateSnapshot {
  requests?: { limit: number; remaining: number; resetSeconds: number };
  tokens?: { limit: number; remaining: number; resetSeconds: number };
}

/** OpenAI's header names, which every wire API of the gateway uses (CONTRACT "Limits and key lifecycle"). */
export function rateLimitHeaders(s: RateSnapshot | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [kind, v] of [
    ['requests', s?.requests],
    ['tokens', s?.tokens],
  ] as const) {
    if (!v) continue;
    out[`x-ratelimit-limit-${kind}`] = String(v.limit);
    out[`x-ratelimit-remaining-${kind}`] = String(Math.max(0, v.remaining));
    out[`x-ratelimit-reset-${kind}`] = `${Math.max(0, Math.ceil(v.resetSeconds))}s`;
  }
  return out;
}
