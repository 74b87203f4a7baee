/**
 * The one place runtime configuration is read from the environment. Read once and kept (every DynamoDB call and
 * every stage of a chat call asks for it, and reading ~30 variables each time was a measurable share of a call's
 * CPU): whoever sets variables after first use calls reloadConfig() — the local server does when it starts. Tests
 * change values with overrideConfig(), never by writing process.env. Every integer goes through one parser.
 *
 *   TABLE_NAME                    the single table (default bedrock-gateway)
 *   ADMIN_KEY_SECRET_ARN          Secrets Manager secret of the bootstrap admin key (deployed)
 *   ADMIN_API_KEY                 the bootstrap admin key itself (local server)
 *   MODEL_CACHE_TTL_MS            how long an instance reuses a model/permission lookup (default 5000)
 *   SSE_KEEPALIVE_MS              `: keep-alive` after this much silence in a stream (default 10000; 0 = off)
 *   LARK_DOMAIN                   Feishu/Lark open platform base URL (default https://open.feishu.cn)
 *   FEISHU_WORKER_FUNCTION_NAME   the worker Lambda the webhook hands events to (deployed)
 *   IMAGE_FETCH_ALLOW_HOSTS       comma-separated hosts (or host:port) image URLs may name even if private
 *   IMAGE_FETCH_TIMEOUT_MS / IMAGE_FETCH_MAX_BYTES   caps of one image fetch (defaults 10000 / 10 MiB)
 *   SEARCH_SCAN_BUDGET            items one q search may read (default 2000 threads / 10000 sessions)
 *   FEISHU_MEMORY_TURNS           exchanges of history sent with each message (default 10; 0 disables memory)
 *   FEISHU_MEMORY_WINDOW_MINUTES  only exchanges younger than this are remembered (default 1440 = 24 h)
 *   FEISHU_PATCH_INTERVAL_MS      minimum time between two card patches while streaming (default 400, floor 200)
 *   FEISHU_MAX_ATTACHMENT_BYTES   largest image or file downloaded from a message (default 10 MB)
 *   FEISHU_MAX_ATTACHMENT_TOTAL_BYTES  largest sum of all attachments of one message (default 32 MiB)
 *   AWS_ENDPOINT_URL_DYNAMODB     DynamoDB endpoint (DynamoDB Local, a test proxy)
 *   DYNAMODB_MAX_ATTEMPTS         SDK attempts per DynamoDB call (default 3)
 *   DYNAMODB_CONNECT_TIMEOUT_MS / DYNAMODB_REQUEST_TIMEOUT_MS   per-call limits (defaults 2000 / 5000)
 *   UPSTREAM_MAX_ATTEMPTS         attempts per model before the first byte (default 3; the SDK itself makes one)
 *   UPSTREAM_RETRY_BUDGET_MS      time all those attempts may take (default 8000)
 *   UPSTREAM_STALL_MS             an open upstream stream silent this long is ended with an error (default 90000)
 *   UPSTREAM_DRAIN_MS             after a client leaves mid-stream, how long the upstream is read on for its usage (default 5000)
 *   SETTLE_QUEUE_URL              SQS queue of settlements to retry (deployed; unset: retried in-process)
 *   SEALING_KEY_SECRET_ARN        Secrets Manager secret whose value seals state handed to clients (deployed)
 *   SEALING_KEY                   that key material itself (local server: generated once under DATA_DIR)
 *   SECRETS_KMS_KEY_ID            KMS key that envelope-encrypts Feishu bot secrets in the table (deployed)
 *   SECRETS_KEY                   a local 256-bit key (base64url) doing the same (npm start: a file under DATA_DIR)
 *   RESPONSES_TTL_DAYS            how long a stored /v1/responses response is kept (default 30)
 */
import { DEFAULT_LARK_DOMAIN } from './topology.js';

interface FeishuSettings {
  memoryTurns: number;
  memoryWindowMs: number;
  patchIntervalMs: number;
  maxAttachmentBytes: number;
  maxAttachmentTotalBytes: number;
}

export interface RuntimeConfig {
  tableName: string;
  adminKeySecretArn: string | undefined;
  adminApiKey: string | undefined;
  /** Key lookups are never cached; model and permission lookups for this long. */
  modelCacheTtlMs: number;
  sseKeepAliveMs: number;
  larkDomain: string;
  feishuWorkerFunctionName: string | undefined;
  imageFetch: { allowHosts: string[]; timeoutMs: number | undefined; maxBytes: number | undefined };
  /** Overrides the q-search item budget; undefined: the per-kind default. */
  searchScanBudget: number | undefined;
  feishu: FeishuSettings;
  store: StoreSettings;
  upstream: UpstreamSettings;
  /** SQS queue of settlements that failed in-line (deployed); unset: retried in-process (the local server). */
  settleQueueUrl: string | undefined;
  /**
   * Key material that seals what the gateway hands a client to send back (Responses reasoning): a Secrets Manager
   * secret (deployed) or the value itself (local server). Neither: a random key for this process only.
   */
  sealingKeySecretArn: string | undefined;
  sealingKey: string | undefined;
  /** Envelope encryption of bot secrets (store/secret-envelope.ts): a KMS key (deployed) or a local key (npm start). */
  secretsKmsKeyId: string | undefined;
  secretsKey: string | undefined;
  /** Days a stored Responses API response (and its input) is kept. */
  responsesTtlDays: number;
  /**
   * A streamed answer's last frame goes out before its settlement is written (the invocation still waits for it):
   * the whole answer arrives sooner, but a balance or record read in the same instant may miss the call. Off by
   * default: every answer follows its books.
   */
  settleAfterLastByte: boolean;
}

/**
 * How the gateway treats the upstream (Bedrock). The SDK makes ONE attempt per call (maxAttempts 1): the gateway
 * retries a retryable refusal before the first byte itself, within a time budget, so that the retries are counted,
 * bounded and logged, and so that a fallback model can take over (see chat/pipeline.ts).
 */
interface UpstreamSettings {
  /** Attempts per model before the first byte, the first included (default 3). */
  maxAttempts: number;
  /** Time all attempts of one call may take before the first byte (default 8000 ms). */
  retryBudgetMs: number;
  /** An open stream that sends nothing for this long is ended with an error (default 90000 ms). */
  stallMs: number;
  /**
   * When the client goes away mid-stream, the upstream is read on (nothing forwarded) for up to this long, so the
   * call is billed from the upstream's own usage rather than an estimate (default 5000 ms; 0: stop at once).
   */
  drainMs: number;
}

interface StoreSettings {
  /** DynamoDB endpoint (AWS_ENDPOINT_URL_DYNAMODB; unset: the regional endpoint). */
  endpoint: string | undefined;
  /** SDK attempts per DynamoDB call, the first included (default 3). */
  maxAttempts: number;
  connectTimeoutMs: number;
  /** Longest one DynamoDB call may take before it counts as a store fault (default 5000). */
  requestTimeoutMs: number;
}

type Overrides = Partial<Omit<RuntimeConfig, 'feishu' | 'store' | 'upstream'>> & {
  feishu?: Partial<FeishuSettings>;
  store?: Partial<StoreSettings>;
  upstream?: Partial<UpstreamSettings>;
};

let overrides: Overrides = {};
/** The configuration in force: the environment as last read, with the overrides over it. */
let current: RuntimeConfig | undefined;

export function config(): RuntimeConfig {
  return (current ??= read());
}

/** Reads the environment again (for whoever changed it after first use: the local server, config's own tests). */
export function reloadConfig(): void {
  current = undefined;
}

function read(): RuntimeConfig {
  const env = process.env;
  const fromEnv: RuntimeConfig = {
    tableName: env.TABLE_NAME || 'bedrock-gateway',
    adminKeySecretArn: env.ADMIN_KEY_SECRET_ARN || undefined,
    adminApiKey: env.ADMIN_API_KEY || undefined,
    modelCacheTtlMs: intFrom(env.MODEL_CACHE_TTL_MS, 5000),
    sseKeepAliveMs: intFrom(env.SSE_KEEPALIVE_MS, 10_000),
    larkDomain: env.LARK_DOMAIN?.trim() || DEFAULT_LARK_DOMAIN,
    feishuWorkerFunctionName: env.FEISHU_WORKER_FUNCTION_NAME || undefined,
    imageFetch: {
      allowHosts: (env.IMAGE_FETCH_ALLOW_HOSTS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
      timeoutMs: intFrom(env.IMAGE_FETCH_TIMEOUT_MS, undefined, 1),
      maxBytes: intFrom(env.IMAGE_FETCH_MAX_BYTES, undefined, 1),
    },
    searchScanBudget: intFrom(env.SEARCH_SCAN_BUDGET, undefined, 1),
    feishu: {
      memoryTurns: intFrom(env.FEISHU_MEMORY_TURNS, 10),
      memoryWindowMs: intFrom(env.FEISHU_MEMORY_WINDOW_MINUTES, 1440, 1) * 60_000,
      patchIntervalMs: intFrom(env.FEISHU_PATCH_INTERVAL_MS, 400, 200),
      maxAttachmentBytes: intFrom(env.FEISHU_MAX_ATTACHMENT_BYTES, 10 * 1024 * 1024, 1),
      maxAttachmentTotalBytes: intFrom(env.FEISHU_MAX_ATTACHMENT_TOTAL_BYTES, 32 * 1024 * 1024, 1),
    },
    store: {
      endpoint: env.AWS_ENDPOINT_URL_DYNAMODB || undefined,
      maxAttempts: intFrom(env.DYNAMODB_MAX_ATTEMPTS, 3, 1),
      connectTimeoutMs: intFrom(env.DYNAMODB_CONNECT_TIMEOUT_MS, 2000, 1),
      requestTimeoutMs: intFrom(env.DYNAMODB_REQUEST_TIMEOUT_MS, 5000, 1),
    },
    upstream: {
      maxAttempts: intFrom(env.UPSTREAM_MAX_ATTEMPTS, 3, 1),
      retryBudgetMs: intFrom(env.UPSTREAM_RETRY_BUDGET_MS, 8000),
      stallMs: intFrom(env.UPSTREAM_STALL_MS, 90_000, 1),
      drainMs: intFrom(env.UPSTREAM_DRAIN_MS, 5000),
    },
    settleQueueUrl: env.SETTLE_QUEUE_URL || undefined,
    sealingKeySecretArn: env.SEALING_KEY_SECRET_ARN || undefined,
    sealingKey: env.SEALING_KEY || undefined,
    secretsKmsKeyId: env.SECRETS_KMS_KEY_ID || undefined,
    secretsKey: env.SECRETS_KEY || undefined,
    responsesTtlDays: intFrom(env.RESPONSES_TTL_DAYS, 30, 1),
    settleAfterLastByte: /^(1|true)$/i.test(env.SETTLE_AFTER_LAST_BYTE ?? ''),
  };
  // Frozen: every caller shares this object, so none may change it for the others.
  return Object.freeze({
    ...fromEnv,
    ...overrides,
    imageFetch: frozenImageFetch(overrides.imageFetch ?? fromEnv.imageFetch),
    feishu: Object.freeze({ ...fromEnv.feishu, ...overrides.feishu }),
    store: Object.freeze({ ...fromEnv.store, ...overrides.store }),
    upstream: Object.freeze({ ...fromEnv.upstream, ...overrides.upstream }),
  });
}

function frozenImageFetch(f: RuntimeConfig['imageFetch']): RuntimeConfig['imageFetch'] {
  return Object.freeze({ ...f, allowHosts: Object.freeze([...f.allowHosts]) as string[] });
}

/**
 * Tests (and the composition roots) replace values without touching process.env; returns the function that
 * undoes this override.
 */
export function overrideConfig(values: Overrides): () => void {
  const before = overrides;
  overrides = {
    ...overrides,
    ...values,
    feishu: { ...overrides.feishu, ...values.feishu },
    store: { ...overrides.store, ...values.store },
    upstream: { ...overrides.upstream, ...values.upstream },
  };
  current = undefined;
  return () => {
    overrides = before;
    current = undefined;
  };
}

/**
 * The one integer parser: a decimal integer ≥ `min`, else the fallback (an unset, blank, negative or garbled value
 * never turns into NaN or a surprise).
 */
export function intFrom<F extends number | undefined>(v: string | undefined, fallback: F, min = 0): number | F {
  if (v === undefined || !/^\s*\d+\s*$/.test(v)) return fallback;
  const n = Number(v.trim());
  return Number.isSafeInteger(n) && n >= min ? n : fallback;
}
