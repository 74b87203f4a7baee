import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { fromJob, type SettlementJob } from '../core/billing/deferred.js';
import { settle } from '../core/billing/settle.js';
import { correlation } from '../core/http/correlation.js';
import { logger } from '../core/log.js';

/**
 * Applies settlements that failed in-line (see core/billing/deferred.ts), from the settle queue. Each message is one
 * call's settlement; settle() is idempotent by request id, so a redelivered message never charges twice. A message
 * that fails is reported back (partial batch response) and redelivered; after the queue's maxReceiveCount it lands
 * in the dead-letter queue.
 */
async function settleAll(event: SQSEvent): Promise<SQSBatchResponse> {
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const message of event.Records) {
    try {
      const job = JSON.parse(message.body) as SettlementJob;
      if (job?.v !== 1) {
        logger.error('unknown settlement job; dropped', { messageId: message.messageId });
        continue;
      }
      await settle(await fromJob(job));
    } catch (e) {
      logger.warn('settlement failed; will be redelivered', { messageId: message.messageId, error: e as Error });
      failures.push({ itemIdentifier: message.messageId });
    }
  }
  return { batchItemFailures: failures };
}

export const handler = middy<SQSEvent, SQSBatchResponse>().use(correlation()).handler(settleAll);
