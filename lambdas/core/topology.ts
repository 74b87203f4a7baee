/**
 * The deployment's shape, defined once and shared by the CDK stack (lib/) and the local server (local/): which
 * Lambda entry serves which path prefix, with what timeout and memory. The local server mounts the same entries
 * under the same prefixes, so the routes a test reaches are the routes AWS serves.
 */
export const DEFAULT_LARK_DOMAIN = 'https://open.feishu.cn';

export interface FunctionSpec {
  /** Handler file relative to the repository root, exporting `handler`. */
  entry: string;
  /** Path prefixes the function serves (none for functions invoked only by other functions). */
  prefixes: readonly string[];
  timeoutSeconds: number;
  memoryMb: number;
  description: string;
}

export const FUNCTIONS = {
  // Long generations (reasoning models, big max_tokens) stream for minutes.
  chat: {
    entry: 'lambdas/chat/index.ts',
    prefixes: ['/v1/'],
    timeoutSeconds: 900,
    memoryMb: 1024,
    description: 'OpenAI- and Anthropic-compatible /v1 API streaming from Bedrock',
  },
  admin: {
    entry: 'lambdas/admin/index.ts',
    prefixes: ['/admin/'],
    timeoutSeconds: 30,
    memoryMb: 512,
    description: 'Admin API: keys, models, groups, bots, records',
  },
  user: {
    entry: 'lambdas/user/index.ts',
    prefixes: ['/user/'],
    timeoutSeconds: 30,
    memoryMb: 512,
    description: "User API: the caller's own key, models and records",
  },
  // Feishu wants an answer within 3 s; the webhook only verifies, de-duplicates and hands off.
  feishuWebhook: {
    entry: 'lambdas/feishu/webhook.ts',
    prefixes: ['/bot/feishu/'],
    timeoutSeconds: 10,
    memoryMb: 256,
    description: 'Feishu event webhook: verify, de-duplicate, hand off to the worker',
  },
  feishuWorker: {
    entry: 'lambdas/feishu/worker.ts',
    prefixes: [],
    timeoutSeconds: 300,
    memoryMb: 1024,
    description: 'Answers a Feishu message with a model, streaming into a card',
  },
  // Applies settlements that failed in-line, from the settle queue (SQS).
  settle: {
    entry: 'lambdas/settle/index.ts',
    prefixes: [],
    timeoutSeconds: 30,
    memoryMb: 256,
    description: 'Applies deferred settlements (charge, thread, statistics) exactly once',
  },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof FUNCTIONS;

/** The longest any call may run: a reservation or lease older than this belongs to a call that died. */
export const MAX_CALL_SECONDS = Math.max(...Object.values(FUNCTIONS).map((f) => f.timeoutSeconds));

/**
 * How long the settle queue and its dead-letter queue keep a deferred settlement (SQS counts from the first enqueue,
 * also after a redrive). A settlement's charge marker must outlive it, or a late redelivery would charge twice.
 */
export const SETTLE_QUEUE_RETENTION_DAYS = 14;

/** The encryption context `purpose` of every sealed bot secret; the stack's KMS grants are limited to it. */
export const BOT_SECRET_PURPOSE = 'feishu-bot-secret';
