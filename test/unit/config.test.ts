/**
 * Runtime configuration: read from the environment once and kept until reloadConfig() (config.ts is the one place
 * that reads it); tests set values with overrideConfig(). Only the env parsing itself is tested through the
 * environment, with vitest's stubEnv (restored after each test) and `fromEnv()` below.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { config, intFrom, overrideConfig, reloadConfig } from '../../lambdas/core/config.js';

/** The configuration as the environment says now. */
const fromEnv = () => {
  reloadConfig();
  return config();
};

afterEach(() => {
  vi.unstubAllEnvs();
  reloadConfig();
});

describe('config() is read once', () => {
  it('keeps what it read until reloadConfig(), and hands every caller the same frozen object', () => {
    const first = fromEnv();
    vi.stubEnv('SSE_KEEPALIVE_MS', String(first.sseKeepAliveMs + 1));
    expect(config()).toBe(first);
    expect(fromEnv().sseKeepAliveMs).toBe(first.sseKeepAliveMs + 1);
    const shared = config();
    expect(Object.isFrozen(shared) && Object.isFrozen(shared.store) && Object.isFrozen(shared.imageFetch.allowHosts)).toBe(true);
    expect(() => {
      (shared as { tableName: string }).tableName = 'changed';
    }).toThrow(TypeError);
  });

  it('an override applies at once, and its undo too, without a reload', () => {
    const before = config().modelCacheTtlMs;
    const undo = overrideConfig({ modelCacheTtlMs: before + 7, imageFetch: { allowHosts: ['x'], timeoutMs: 1, maxBytes: 2 } });
    expect(config().modelCacheTtlMs).toBe(before + 7);
    expect(config().imageFetch).toEqual({ allowHosts: ['x'], timeoutMs: 1, maxBytes: 2 });
    undo();
    expect(config().modelCacheTtlMs).toBe(before);
  });
});

describe('overrideConfig', () => {
  it('replaces values until undone, and nests: each undo restores what was there before it', () => {
    const before = config();
    const undoOuter = overrideConfig({ modelCacheTtlMs: 1, feishu: { memoryTurns: 3 } });
    expect(config()).toMatchObject({ modelCacheTtlMs: 1, feishu: { memoryTurns: 3, patchIntervalMs: before.feishu.patchIntervalMs } });
    const undoInner = overrideConfig({ feishu: { patchIntervalMs: 999 } });
    expect(config().feishu).toMatchObject({ memoryTurns: 3, patchIntervalMs: 999 });
    undoInner();
    expect(config().feishu).toMatchObject({ memoryTurns: 3, patchIntervalMs: before.feishu.patchIntervalMs });
    undoOuter();
    expect(config()).toEqual(before);
  });

  it('wins over the environment', () => {
    vi.stubEnv('LARK_DOMAIN', 'https://from-env.example.com');
    reloadConfig();
    const undo = overrideConfig({ larkDomain: 'https://override.example.com' });
    try {
      expect(config().larkDomain).toBe('https://override.example.com');
    } finally {
      undo();
    }
    expect(config().larkDomain).toBe('https://from-env.example.com');
  });
});

describe('config() from the environment', () => {
  it('defaults', () => {
    for (const name of [
      'LARK_DOMAIN',
      'IMAGE_FETCH_ALLOW_HOSTS',
      'IMAGE_FETCH_TIMEOUT_MS',
      'IMAGE_FETCH_MAX_BYTES',
      'SSE_KEEPALIVE_MS',
      'FEISHU_MEMORY_TURNS',
    ]) {
      vi.stubEnv(name, undefined);
    }
    expect(fromEnv()).toMatchObject({
      larkDomain: 'https://open.feishu.cn',
      sseKeepAliveMs: 10_000,
      imageFetch: { allowHosts: [], timeoutMs: undefined, maxBytes: undefined },
      feishu: { memoryTurns: 10 },
    });
  });

  it('image fetch: a comma-separated allowlist, positive integer caps', () => {
    vi.stubEnv('IMAGE_FETCH_ALLOW_HOSTS', 'a, b:1,,');
    vi.stubEnv('IMAGE_FETCH_TIMEOUT_MS', '500');
    vi.stubEnv('IMAGE_FETCH_MAX_BYTES', '-1');
    expect(fromEnv().imageFetch).toEqual({ allowHosts: ['a', 'b:1'], timeoutMs: 500, maxBytes: undefined });
    vi.stubEnv('IMAGE_FETCH_MAX_BYTES', '0');
    expect(fromEnv().imageFetch.maxBytes).toBeUndefined();
  });

  it('Feishu: memory window in minutes; a patch interval under the 200 ms floor falls back to the default', () => {
    vi.stubEnv('FEISHU_MEMORY_WINDOW_MINUTES', '60');
    vi.stubEnv('FEISHU_PATCH_INTERVAL_MS', '50');
    vi.stubEnv('LARK_DOMAIN', '  https://open.larksuite.com ');
    expect(fromEnv().feishu).toMatchObject({ memoryWindowMs: 3_600_000, patchIntervalMs: 400 });
    expect(config().larkDomain).toBe('https://open.larksuite.com');
  });
});

describe('intFrom', () => {
  it.each([
    ['42', 42],
    [' 7 ', 7],
    ['0', 0],
  ])('%j → %d', (v, n) => {
    expect(intFrom(v, -1)).toBe(n);
  });

  it.each([undefined, '', '  ', '-1', '1.5', '1e3', 'abc', '99999999999999999999'])('%j → the fallback', (v) => {
    expect(intFrom(v, -1)).toBe(-1);
    expect(intFrom(v, undefined)).toBeUndefined();
  });

  it('a value under the minimum is the fallback', () => {
    expect(intFrom('0', 5, 1)).toBe(5);
    expect(intFrom('199', 400, 200)).toBe(400);
    expect(intFrom('200', 400, 200)).toBe(200);
  });
});
