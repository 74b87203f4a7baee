import middy from '@middy/core';
import { answerEvent, type AnswerOutcome } from '../core/feishu/answer.js';
import { WorkerJobSchema } from '../core/feishu/handoff.js';
import { correlation } from '../core/http/correlation.js';
import { Invocation } from '../core/invocation.js';
import { logger } from '../core/log.js';

/**
 * Invoked asynchronously by the webhook Lambda with one verified, de-duplicated event (InvocationType 'Event').
 * Answers it (core/feishu/answer.ts). It never throws for a bad job: Lambda's async retries would only repeat it.
 */
async function work(event: unknown): Promise<{ outcome: AnswerOutcome | 'bad-job' }> {
  const job = WorkerJobSchema.safeParse(event);
  if (!job.success) {
    logger.error('feishu worker got a malformed job', { issues: job.error.issues.slice(0, 3) });
    return { outcome: 'bad-job' };
  }
  const invocation = new Invocation();
  const outcome = await answerEvent(job.data, invocation);
  // The answer's settlement runs while the final card is written; the invocation must not end before it.
  await invocation.done();
  logger.info('feishu event handled', { botId: job.data.botId, eventId: job.data.eventId, outcome });
  return { outcome };
}

export const handler = middy<unknown, { outcome: AnswerOutcome | 'bad-job' }>().use(correlation()).handler(work);
