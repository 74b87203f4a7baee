import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { formatMoney, type Money } from './money.js';
import type { TokenUsage } from './usage.js';

const METRICS_NAMESPACE = 'BedrockGateway';

/**
 * CloudWatch metrics as EMF log lines (Powertools): one line per settled call, dimensioned by model and status.
 * A Metrics object per call, so concurrent calls in one process never mix their dimensions. Off when
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
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE });
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
  metrics.publishStoredMetrics();
}
