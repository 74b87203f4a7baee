import { type TokenUsage, zeroUsage } from '../../usage.js';
import type { AnthropicUsage, InvocationMetrics } from './wire-types.js';

type Field = 'inputTokens' | 'outputTokens' | 'cacheReadTokens' | 'cacheWriteTokens';

/**
 * Claude's usage as it arrives: the input and cache counts on message_start (sometimes again on message_delta), the
 * output count on message_delta, and Bedrock's invocation metrics on the last chunk. Counts are cumulative, so a
 * later value replaces an earlier one, never adds to it; the metrics only fill what Claude itself did not report
 * (cache counts that arrive only there), so nothing is counted — or billed — twice.
 */
export class UsageTracker {
  private usage: TokenUsage = zeroUsage();
  private readonly reported = new Set<Field>();

  fromAnthropic(u: AnthropicUsage | undefined): void {
    if (!u) return;
    this.set('inputTokens', u.input_tokens);
    this.set('outputTokens', u.output_tokens);
    this.set('cacheReadTokens', u.cache_read_input_tokens);
    this.set('cacheWriteTokens', u.cache_creation_input_tokens);
  }

  fromMetrics(m: InvocationMetrics | undefined): void {
    if (!m) return;
    this.fill('inputTokens', m.inputTokenCount);
    this.fill('outputTokens', m.outputTokenCount);
    this.fill('cacheReadTokens', m.cacheReadInputTokenCount);
    this.fill('cacheWriteTokens', m.cacheWriteInputTokenCount);
  }

  get hasAny(): boolean {
    return this.reported.size > 0;
  }

  current(): TokenUsage {
    return { ...this.usage };
  }

  private set(field: Field, value: number | null | undefined): void {
    if (typeof value !== 'number') return;
    this.usage[field] = value;
    this.reported.add(field);
  }

  private fill(field: Field, value: number | null | undefined): void {
    if (!this.reported.has(field)) this.set(field, value);
  }
}
