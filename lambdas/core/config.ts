/**
 * The one place runtime configuration is read from the environment. Read lazily (per call) so that the local
 * server and tests can set variables before first use; values are cheap to compute.
 */
export interface RuntimeConfig {
  tableName: string;
  /** Secrets Manager ARN of the bootstrap admin key (deployed). */
  adminKeySecretArn: string | undefined;
  /** Plain bootstrap admin key (local server). */
  adminApiKey: string | undefined;
  /** How long a Lambda instance may reuse a model/permission lookup. Key lookups are never cached. */
  modelCacheTtlMs: number;
  larkDomain: string;
  feishuWorkerFunctionName: string | undefined;
}

export function config(): RuntimeConfig {
  const env = process.env;
  return {
    tableName: env.TABLE_NAME || 'bedrock-gateway',
    adminKeySecretArn: env.ADMIN_KEY_SECRET_ARN || undefined,
    adminApiKey: env.ADMIN_API_KEY || undefined,
    modelCacheTtlMs: intFrom(env.MODEL_CACHE_TTL_MS, 5000),
    larkDomain: env.LARK_DOMAIN || 'https://open.feishu.cn',
    feishuWorkerFunctionName: env.FEISHU_WORKER_FUNCTION_NAME || undefined,
  };
}

function intFrom(v: string | undefined, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}
