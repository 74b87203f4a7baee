/**
 * Hands a verified, de-duplicated event from the webhook to the worker without waiting for the answer.
 *
 * - Deployed (FEISHU_WORKER_FUNCTION_NAME set): an asynchronous Lambda invocation (InvocationType 'Event'); the
 *   webhook only waits for Lambda's 202, well inside Feishu's 3 s.
 * - Local server and tests (unset): the same worker code runs in the background of this process. The local server
 *   registers it with `runWorkerInProcess()` (so the deployed webhook bundle never contains the worker). `idle()`
 *   resolves once every background job has finished, so tests can wait for the answer instead of sleeping.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { z } from 'zod';
import { config } from '../config.js';
import { logger } from '../log.js';

export const WorkerJobSchema = z.object({
  botId: z.number().int().positive(),
  eventId: z.string().min(1),
  /** The `event` object of the callback (an im.message.receive_v1 event). */
  event: z.unknown(),
});
export type WorkerJob = z.infer<typeof WorkerJobSchema>;

let lambda: LambdaClient | undefined;
const running = new Set<Promise<void>>();
let inProcessWorker: ((job: WorkerJob) => Promise<unknown>) | undefined;

/** Composition root of the local server: run jobs in this process instead of invoking a worker Lambda. */
export function runWorkerInProcess(worker: (job: WorkerJob) => Promise<unknown>): void {
  inProcessWorker = worker;
}

export async function handOff(job: WorkerJob): Promise<void> {
  const functionName = config().feishuWorkerFunctionName;
  if (functionName) {
    lambda ??= new LambdaClient({});
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(job)) }),
    );
    if (out.StatusCode !== 202) throw new Error(`async invoke of ${functionName} answered ${out.StatusCode}`);
    return;
  }
  const worker = inProcessWorker;
  if (!worker) throw new Error('No Feishu worker: set FEISHU_WORKER_FUNCTION_NAME (deployed) or run the local server.');
  const task: Promise<void> = worker(job)
    .then(() => undefined)
    .catch((e: unknown) => logger.error('feishu background worker failed', { error: e as Error }))
    .finally(() => running.delete(task));
  running.add(task);
}

/** Resolves when no in-process worker job is running (jobs started meanwhile are waited for too). */
export async function idle(): Promise<void> {
  while (running.size > 0) await Promise.allSettled([...running]);
}
