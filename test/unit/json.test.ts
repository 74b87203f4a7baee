import { describe, expect, it } from 'vitest';
import { isJsonObject, jsonDepthExceeds, MAX_JSON_DEPTH, plainNumber, stringifyPlain } from '../../lambdas/core/json.js';
import { promptTokensOf, zeroUsage } from '../../lambdas/core/usage.js';

describe('json helpers', () => {
  it('isJsonObject: objects only (not arrays, not null)', () => {
    expect(isJsonObject({ a: 1 })).toBe(true);
    expect(isJsonObject([])).toBe(false);
    expect(isJsonObject(null)).toBe(false);
    expect(isJsonObject('{}')).toBe(false);
  });

  it('plainNumber: the shortest digits, never exponent notation, the same value', () => {
    const cases: Array<[number, string]> = [
      [2e-8, '0.00000002'],
      [1.2e-7, '0.00000012'],
      [-3.4e-9, '-0.0000000034'],
      [1e-12, '0.000000000001'],
      [0.000138, '0.000138'],
      [13.8, '13.8'],
      [0, '0'],
      [1e21, '1000000000000000000000'],
      [1.5e22, '15000000000000000000000'],
    ];
    for (const [n, text] of cases) {
      expect(plainNumber(n)).toBe(text);
      expect(Number(text)).toBe(n);
    }
  });

  it('stringifyPlain: JSON.stringify with plain numbers; strings that look like numbers stay strings', () => {
    const value = { fee: 2e-8, list: [1.2e-7, '2e-8', '\u0000x'], nested: { n: null, u: undefined, ok: 5 }, text: 'a"b' };
    const text = stringifyPlain(value);
    expect(text).toBe('{"fee":0.00000002,"list":[0.00000012,"2e-8","\\u0000x"],"nested":{"n":null,"ok":5},"text":"a\\"b"}');
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
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
