import { describe, expect, it } from 'vitest';
import { isJsonObject, jsonDepthExceeds, MAX_JSON_DEPTH } from '../../lambdas/core/json.js';
import { promptTokensOf, zeroUsage } from '../../lambdas/core/usage.js';

describe('json helpers', () => {
  it('isJsonObject: objects only (not arrays, not null)', () => {
    expect(isJsonObject({ a: 1 })).toBe(true);
    expect(isJsonObject([])).toBe(false);
    expect(isJsonObject(null)).toBe(false);
    expect(isJsonObject('{}')).toBe(false);
  });

  it('jsonDepthExceeds counts nesting on the raw text, ignoring brackets inside strings', () => {
    expect(jsonDepthExceeds('{"a":[1,{"b":2}]}', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a":[1,{"b":2}]}', 2)).toBe(true);
    expect(jsonDepthExceeds(`{"s":"${'['.repeat(1000)}"}`)).toBe(false);
    expect(jsonDepthExceeds(`{"s":"\\"${'{'.repeat(1000)}"}`)).toBe(false);
    expect(jsonDepthExceeds('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonDepthExceeds('['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1))).toBe(true);
  });

  it('jsonDepthExceeds is linear on a hostile body', () => {
    const t = performance.now();
    expect(jsonDepthExceeds('['.repeat(5_000_000))).toBe(true);
    expect(jsonDepthExceeds(`"${'\\"'.repeat(1_000_000)}"`)).toBe(false);
    expect(performance.now() - t).toBeLessThan(500);
  });
});

describe('token usage', () => {
  it('prompt tokens count every input token, cached or not', () => {
    expect(promptTokensOf({ ...zeroUsage(), inputTokens: 10, cacheReadTokens: 2048, cacheWriteTokens: 512, outputTokens: 7 })).toBe(2570);
    expect(zeroUsage()).toEqual({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
    expect(zeroUsage()).not.toBe(zeroUsage());
  });
});
