import { feeFor, type Money } from '../money.js';
import type { TokenUsage } from '../usage.js';
import type { Model } from '../store/models.js';

/**
 * Prompt-cache prices when a model row does not set them: Bedrock bills Claude cache reads at 10% and cache
 * writes at 125% of the input price. A derived price can have more decimals than an entered one; fees at it are
 * rounded down to 1e-12 USD (every total is still the exact sum of the recorded fees).
 */
export const CACHE_READ_FRACTION = { num: 1n, den: 10n };
export const CACHE_WRITE_FRACTION = { num: 5n, den: 4n };

export interface Prices {
  in: Money;
  out: Money;
  cacheRead: Money;
  cacheWrite: Money;
}

export function pricesOf(model: Model): Prices {
  return {
    in: model.priceIn,
    out: model.priceOut,
    cacheRead: model.priceCacheRead ?? (model.priceIn * CACHE_READ_FRACTION.num) / CACHE_READ_FRACTION.den,
    cacheWrite: model.priceCacheWrite ?? (model.priceIn * CACHE_WRITE_FRACTION.num) / CACHE_WRITE_FRACTION.den,
  };
}

/** fee = in × price_in + out × price_out + cache-read × its price + cache-write × its price (per 1M tokens). */
export function costOf(usage: TokenUsage, prices: Prices): Money {
  return (
    feeFor(usage.inputTokens, prices.in) +
    feeFor(usage.outputTokens, prices.out) +
    feeFor(usage.cacheReadTokens, prices.cacheRead) +
    feeFor(usage.cacheWriteTokens, prices.cacheWrite)
  );
}
