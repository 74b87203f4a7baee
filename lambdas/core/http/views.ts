import type { Limits } from '../limits/types.js';
import { moneyToJson } from '../money.js';
import { type ApiKey, currentMonthFee } from '../store/keys.js';
import type { Group } from '../store/groups.js';
import type { Model } from '../store/models.js';
import type { Payment } from '../store/payments.js';
import type { Session } from '../records/sessions.js';
import type { StatRow } from '../records/stats.js';
import { SKIPPED_PREFIX, type Thread } from '../records/threads.js';
import { MASK } from '../feishu/bots.js';
import type { BotSecret, FeishuBot } from '../store/bots.js';
import { capJson } from '../records/limits.js';

/** What the admin and user APIs show of each record (money as decimal numbers in USD; never a key or its hash). */
function keyView(k: ApiKey) {
  return {
    id: k.id,
    name: k.name,
    email: k.email,
    role: k.role,
    group_id: k.groupId,
    month_quota: moneyToJson(k.monthQuota),
    month_fee: moneyToJson(currentMonthFee(k)),
    balance: moneyToJson(k.balance),
    total_fee: moneyToJson(k.totalFee),
    key_hint: k.keyHint,
    rpm_limit: k.limits.rpm,
    tpm_limit: k.limits.tpm,
    max_parallel: k.limits.maxParallel,
    status: k.status,
    expires_at: k.expiresAt,
    created_at: k.createdAt,
    updated_at: k.updatedAt,
  };
}

/** A key with the limits that apply to it (its own where set, else its group's). */
export function keyViewWithLimits(k: ApiKey, effective: Limits) {
  return {
    ...keyView(k),
    effective_limits: { rpm_limit: effective.rpm, tpm_limit: effective.tpm, max_parallel: effective.maxParallel },
  };
}

export function modelView(m: Model) {
  return {
    id: m.id,
    name: m.name,
    group_id: m.groupId,
    multiple: m.multiple,
    provider: m.provider,
    // An upstream API key and header values (openai-compatible) are shown masked, never in full.
    config: maskedModelConfig(m.config),
    price_in: moneyToJson(m.priceIn),
    price_out: moneyToJson(m.priceOut),
    price_cache_read: m.priceCacheRead === undefined ? null : moneyToJson(m.priceCacheRead),
    price_cache_write: m.priceCacheWrite === undefined ? null : moneyToJson(m.priceCacheWrite),
    free: m.free,
    created_at: m.createdAt,
    updated_at: m.updatedAt,
  };
}

export function groupView(g: Group) {
  return {
    id: g.id,
    name: g.name,
    rpm_limit: g.limits.rpm,
    tpm_limit: g.limits.tpm,
    max_parallel: g.limits.maxParallel,
    created_at: g.createdAt,
    updated_at: g.updatedAt,
  };
}

export function paymentView(p: Payment) {
  return {
    id: p.id,
    key_id: p.keyId,
    amount: moneyToJson(p.amount),
    balance_after: moneyToJson(p.balanceAfter),
    created_at: p.createdAt,
  };
}

/** Long texts in list items are cut to this many characters (details carry the full record). */
export const LIST_TEXT_CHARS = 2000;

function preview(text: string, chars: number | undefined): string {
  if (chars === undefined || text.length <= chars) return text;
  return `${text.slice(0, chars)}…[${text.length - chars} more characters in the detail view]`;
}

/** A recorded call. `previewChars` shortens prompt/completion/reasoning for list pages. */
/**
 * A thread record. `forOwner`: the view a /user route shows its key. It leaves out the fallbacks that were skipped
 * without a call: their names and reasons are the admin's configuration (models this key may not even use).
 */
export function threadView(t: Thread, opts: { previewChars?: number; forOwner?: boolean } = {}) {
  return {
    id: t.id,
    key_id: t.keyId,
    session_id: t.sessionId,
    kind: t.kind,
    request_id: t.requestId,
    model: t.model,
    model_id: t.modelId,
    prompt: preview(t.prompt, opts.previewChars),
    completion: preview(t.completion, opts.previewChars),
    reasoning: preview(t.reasoning, opts.previewChars),
    tool_calls: opts.previewChars === undefined ? t.toolCalls : capJson(t.toolCalls, opts.previewChars * 2),
    finish_reason: t.finishReason,
    tokens_in: t.tokensIn,
    tokens_out: t.tokensOut,
    tokens_cache_read: t.tokensCacheRead,
    tokens_cache_write: t.tokensCacheWrite,
    price_in: moneyToJson(t.priceIn),
    price_out: moneyToJson(t.priceOut),
    fee: moneyToJson(t.fee),
    first_byte_latency: t.firstByteLatency,
    total_latency: t.totalLatency,
    status: t.status,
    error: t.error,
    attempts: opts.forOwner ? t.attempts.filter((a) => !a.error.startsWith(SKIPPED_PREFIX)) : t.attempts,
    created_at: t.createdAt,
  };
}

export function sessionView(s: Session) {
  return {
    id: s.id,
    key_id: s.keyId,
    session_key: s.sessionKey,
    title: s.title,
    tokens_in: s.tokensIn,
    tokens_out: s.tokensOut,
    fee: moneyToJson(s.fee),
    thread_count: s.threadCount,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  };
}

export function statView(r: StatRow) {
  return {
    day: r.day,
    key_id: r.keyId,
    model: r.model,
    requests: r.requests,
    tokens_in: r.tokensIn,
    tokens_out: r.tokensOut,
    tokens_cache_read: r.tokensCacheRead,
    tokens_cache_write: r.tokensCacheWrite,
    fee: moneyToJson(r.fee),
  };
}

/** `••••wxyz` for long secrets, `••••` for short ones (too little to show any of it). */
function maskedModelConfig(config: Model['config']): Model['config'] {
  const out = { ...config };
  if (typeof out.apiKey === 'string') out.apiKey = maskSecret(out.apiKey);
  const headers = out.headers;
  if (headers && typeof headers === 'object' && !Array.isArray(headers)) {
    out.headers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, typeof v === 'string' ? (maskSecret(v) ?? '') : v]));
  }
  return out;
}

function maskSecret(s: string | null): string | null {
  if (!s) return null;
  return s.length >= 16 ? `${MASK}${s.slice(-4)}` : MASK;
}

/** A bot secret shown as its stored hint (the admin function cannot open the sealed value, and need not). */
const maskBotSecret = (s: BotSecret | null): string | null => (s ? `${MASK}${s.hint}` : null);

export function botView(b: FeishuBot) {
  return {
    id: b.id,
    name: b.name,
    provider: b.provider,
    config: {
      appId: b.appId,
      appSecret: maskBotSecret(b.appSecret),
      apiKey: b.apiKeyHint,
      modelId: b.modelId,
      verificationToken: maskBotSecret(b.verificationToken),
      encryptKey: maskBotSecret(b.encryptKey),
      allowUnsigned: b.allowUnsigned,
      domain: b.domain,
      systemPrompt: b.systemPrompt,
    },
    api_key_id: b.apiKeyId,
    /** Relative to the stack's HttpApiUrl output (or the local server). */
    webhook_path: `/bot/feishu/${b.id}/webhook`,
    created_at: b.createdAt,
    updated_at: b.updatedAt,
  };
}
