import { afterEach, describe, expect, it, vi } from 'vitest';
import { emitCallMetrics } from '../../lambdas/core/metrics.js';
import { money } from '../../lambdas/core/money.js';

describe('call metrics (CloudWatch EMF via Powertools)', () => {
  // Powertools reads POWERTOOLS_METRICS_DISABLED itself (not gateway config); test/support/env.ts sets it to 'true'.
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('one EMF line per call with model/status/kind dimensions, tokens, cost and latencies', () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
    emitCallMetrics({
      kind: 'chat',
      model: 'claude',
      status: 'ok',
      usage: { inputTokens: 11, outputTokens: 7, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
      fee: money('0.000138'),
      firstByteLatency: 12,
      totalLatency: 40,
    });
    const emf = lines
      .map((l) => l.trim())
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    expect(emf).toHaveLength(1);
    const m = emf[0];
    expect(m._aws.CloudWatchMetrics[0].Namespace).toBe('BedrockGateway');
    expect(m._aws.CloudWatchMetrics[0].Dimensions[0]).toEqual(expect.arrayContaining(['model', 'status', 'kind']));
    expect(m).toMatchObject({
      model: 'claude',
      status: 'ok',
      kind: 'chat',
      Calls: 1,
      InputTokens: 11,
      OutputTokens: 7,
      CostUSD: 0.000138,
      FirstByteLatency: 12,
      TotalLatency: 40,
    });
  });

  it('calls one after another never mix: each line has only its own dimensions and metrics', () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
    const usage = { inputTokens: 1, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
    emitCallMetrics({ kind: 'chat', model: 'a', status: 'ok', usage, fee: 0n, firstByteLatency: 5, totalLatency: 9 });
    emitCallMetrics({ kind: 'embeddings', model: 'b', status: 'error', usage, fee: 0n, firstByteLatency: null, totalLatency: 3 });
    const emf = lines
      .map((l) => l.trim())
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(emf).toHaveLength(2);
    expect(emf[0]).toMatchObject({ model: 'a', status: 'ok', kind: 'chat', Calls: 1, FirstByteLatency: 5, TotalLatency: 9 });
    expect(emf[1]).toMatchObject({ model: 'b', status: 'error', kind: 'embeddings', Calls: 1, TotalLatency: 3 });
    expect(emf[1]).not.toHaveProperty('FirstByteLatency');
  });

  it('emits nothing when disabled', () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    emitCallMetrics({
      kind: 'embeddings',
      model: 'm',
      status: 'ok',
      usage: { inputTokens: 1, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
      fee: 0n,
      firstByteLatency: null,
      totalLatency: 1,
    });
    expect(spy.mock.calls.filter((c) => String(c[0]).includes('_aws'))).toHaveLength(0);
    expect(log.mock.calls.filter((c) => String(c[0]).includes('_aws'))).toHaveLength(0);
  });
});
