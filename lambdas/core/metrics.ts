import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { formatMoney, type Money } from './money.js';
import type { TokenUsage } from './usage.js';

const METRICS_NAMESPACE = 'BedrockGateway';

/**
 * One Metrics object per process: building one reads a dozen environment variables, which cost more than the EMF
 * line itself. It is made again only when POWERTOOLS_METRICS_DISABLED changes (Powertools reads it at construction).
 */
let shared: { metrics: Metrics; disabled: string | undefined } | undefined;

function processMetrics(): Metrics {
  const disabled = process.env.POWERTOOLS_METRICS_DISABLED;
  if (!shared || shared.disabled !== disabled) shared = { metrics: new Metrics({ namespace: METRICS_NAMESPACE }), disabled };
  return shared.metrics;
}

/**
 * CloudWatch metrics as EMF log lines (Powertools): one line per settled call, dimensioned by model and status.
 * The calls of one process share a Metrics object, and never mix their dimensions: a call adds its dimensions and
 * metrics and publishes them (which clears them) in one synchronous step, with no await in between. Off when
 * POWERTOOLS_METRICS_DISABLED=true (the local server and tests set it).
 */
export function emitCallMetrics(call: {
  kind: 'chat' | 'embeddings';
  model: string;
  status: string;
  usage: TokenUsage;
  fee: Money;
  firstByteLatency: number | null;
  totalLatency: number;
}): void {
  const metrics = processMetrics();
  try {
    metrics.addDimensions({ model: call.model, status: call.status, kind: call.kind });
    metrics.addMetric('Calls', MetricUnit.Count, 1);
    metrics.addMetric('InputTokens', MetricUnit.Count, call.usage.inputTokens);
    metrics.addMetric('OutputTokens', MetricUnit.Count, call.usage.outputTokens);
    metrics.addMetric('CacheReadTokens', MetricUnit.Count, call.usage.cacheReadTokens);
    metrics.addMetric('CacheWriteTokens', MetricUnit.Count, call.usage.cacheWriteTokens);
    // Display only: the exact figure is the thread's fee.
    metrics.addMetric('CostUSD', MetricUnit.NoUnit, Number(formatMoney(call.fee)));
    if (call.firstByteLatency !== null) metrics.addMetric('FirstByteLatency', MetricUnit.Milliseconds, call.firstByteLatency);
    metrics.addMetric('TotalLatency', MetricUnit.Milliseconds, call.totalLatency);
  } catch (e) {
    // Nothing half-added is left for the next call's line.
    metrics.clearMetrics();
    metrics.clearDimensions();
    throw e;
  }
  metrics.publishStoredMetrics();
}
