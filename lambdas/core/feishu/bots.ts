/**
 * Feishu / Lark bots as the admin API manages them: validation of a bot's config (its open-platform domain, the
 * key it bills, the model that key may use) and the merge of an update with what is stored. The route
 * (lambdas/admin/routes/bot.ts) only parses and renders.
 */
import { z } from 'zod';
import { hashApiKey, keyHint } from '../key-material.js';
import { resolveModelForKey } from '../auth/model-access.js';
import { errors, isGatewayError } from '../errors.js';
import { MAX_NAME, parse, zId, zJsonObject } from '../validate.js';
import { type BotInput, createBot, type FeishuBot, replaceBot, requireBot } from '../store/bots.js';
import { type ApiKey, getKeyByHash } from '../store/keys.js';

/** The prefix of a secret shown masked (`••••wxyz`); a masked value sent back on update keeps the stored one. */
export const MASK = '••••';

const isMasked = (v: string | undefined) => v !== undefined && v.startsWith(MASK);

/** Absent or '' → undefined (not given); null → null (clear an optional field). */
const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .nullish()
    .transform((v) => (v === '' ? undefined : v));

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * A bot's open-platform domain: 'feishu', 'lark', an https:// base URL (a private deployment), or http:// only to a
 * loopback host (a local fake in tests) — the app secret is sent to this host, never in cleartext over a network.
 * No credentials in the URL.
 */
export function isAllowedBotDomain(v: string): boolean {
  if (/^(feishu|lark)$/i.test(v)) return true;
  if (/\s/.test(v)) return false;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return false;
  }
  if (!u.hostname || u.username || u.password) return false;
  if (u.protocol === 'https:') return true;
  return u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname.toLowerCase());
}

const zDomain = z
  .string()
  .trim()
  .refine((v) => v === '' || isAllowedBotDomain(v), {
    message: "must be 'feishu', 'lark', an https:// URL, or http:// to 127.0.0.1, localhost or [::1]",
  })
  .nullish()
  .transform((v) => (v === '' ? undefined : v));

const configSchema = z.object({
  appId: text(200),
  appSecret: text(500),
  apiKey: text(500),
  modelId: z
    .union([z.string().max(MAX_NAME), z.number()])
    .nullish()
    .transform((v) => (v === undefined || v === null || v === '' ? undefined : String(v).trim())),
  verificationToken: text(500),
  encryptKey: text(500),
  domain: zDomain,
  systemPrompt: z.string().max(20_000).nullish(),
  /** Accept token-only verification (no encryptKey → no signature, no timestamp). Omitted on update: unchanged. */
  allowUnsigned: z.boolean().nullish(),
});

const CONFIG_FIELDS = Object.keys(configSchema.shape);

const saveSchema = z.object({
  id: zId.optional(),
  name: z.string().trim().max(200).optional(),
  provider: z.string().trim().max(100).optional(),
  config: zJsonObject.optional(),
});

/** The seed API's update example sends the config fields at the top level; accept that shape too. */
function configOf(body: unknown, given: Record<string, unknown> | undefined): Record<string, unknown> {
  if (given) return given;
  const b = (body ?? {}) as Record<string, unknown>;
  return Object.fromEntries(CONFIG_FIELDS.filter((f) => f in b).map((f) => [f, b[f]]));
}

async function keyFor(apiKey: string): Promise<ApiKey> {
  const key = await getKeyByHash(hashApiKey(apiKey));
  if (!key) throw errors.badRequest("Invalid 'config.apiKey': not an existing API key.", 'config.apiKey');
  return key;
}

async function checkModel(key: ApiKey, modelId: string): Promise<void> {
  try {
    await resolveModelForKey(key, modelId);
  } catch (e) {
    if (isGatewayError(e) && e.code === 'model_not_found') {
      throw errors.badRequest(`Invalid 'config.modelId': ${e.message}`, 'config.modelId');
    }
    throw e;
  }
}

const required = (v: string | null | undefined, field: string): string => {
  if (!v) throw errors.badRequest(`Invalid 'config.${field}': is required`, `config.${field}`);
  return v;
};

/**
 * A bot without an encryptKey is verified by its plaintext token alone: Feishu neither signs nor timestamps its
 * requests, so whoever learns the token can forge events (and spend the bot's key). Such a bot is saved only when the
 * admin says so with `allowUnsigned: true`; with neither an encryptKey nor a token it could accept nothing at all.
 */
function checkVerification(b: Pick<BotInput, 'encryptKey' | 'verificationToken' | 'allowUnsigned'>): void {
  if (b.encryptKey) return;
  if (!b.allowUnsigned) {
    throw errors.badRequest(
      "Invalid 'config.encryptKey': is required, so that the webhook can check Feishu's signatures. A bot verified by its " +
        "verification token alone can be forged by anyone who learns the token; to save one anyway, send 'allowUnsigned': true.",
      'config.encryptKey',
    );
  }
  if (!b.verificationToken) {
    throw errors.badRequest("Invalid 'config.verificationToken': is required for a bot without an encryptKey.", 'config.verificationToken');
  }
}

/** An optional field on update: omitted, empty or masked keeps the stored value; null clears it. */
const keep = <T>(given: string | null | undefined, stored: T): string | null | T =>
  given === undefined || isMasked(given ?? undefined) ? stored : given;

/**
 * Creates (no id) or updates (id) a bot from an admin's save body. On update every config field is optional and
 * keeps its stored value when omitted, empty, or sent back masked as the list shows it (so an admin UI can edit a bot
 * without knowing its secrets). apiKey must be an existing key and modelId a model that key may use.
 */
export async function saveBot(body: unknown): Promise<FeishuBot> {
  const input = parse(saveSchema, body);
  const { config: cfg } = parse(z.object({ config: configSchema }), { config: configOf(body, input.config) });

  if (input.id === undefined) {
    const name = input.name || cfg.appId;
    const apiKey = required(cfg.apiKey, 'apiKey');
    const modelId = required(cfg.modelId, 'modelId');
    const appId = required(cfg.appId, 'appId');
    const appSecret = required(cfg.appSecret, 'appSecret');
    const verification = {
      verificationToken: cfg.verificationToken ?? null,
      encryptKey: cfg.encryptKey ?? null,
      allowUnsigned: cfg.allowUnsigned ?? false,
    };
    checkVerification(verification);
    const key = await keyFor(apiKey);
    await checkModel(key, modelId);
    return createBot({
      name: name || appId,
      provider: input.provider || 'bedrock-converse',
      appId,
      appSecret,
      ...verification,
      apiKeyHash: key.hash,
      apiKeyHint: keyHint(apiKey),
      apiKeyId: key.id,
      modelId,
      domain: cfg.domain ?? null,
      systemPrompt: cfg.systemPrompt?.trim() || null,
    });
  }

  const existing = await requireBot(input.id);
  // The app secret is sent to the domain. A new domain gets it only from the admin who types it again: keeping the
  // stored secret would let an edit send it to any host (see the bot's own secret, sealed, to a listener).
  const domain = keep(cfg.domain, existing.domain);
  if ((domain ?? 'feishu') !== (existing.domain ?? 'feishu') && (cfg.appSecret === undefined || isMasked(cfg.appSecret ?? undefined))) {
    throw errors.badRequest(
      "Invalid 'config.appSecret': a new domain needs the app secret given again in full (the stored one is not sent to another host).",
      'config.appSecret',
    );
  }
  const verification = {
    verificationToken: keep(cfg.verificationToken, existing.verificationToken),
    encryptKey: keep(cfg.encryptKey, existing.encryptKey),
    allowUnsigned: cfg.allowUnsigned ?? existing.allowUnsigned,
  };
  checkVerification(verification);
  let key: ApiKey | undefined;
  let apiKeyHash = existing.apiKeyHash;
  let apiKeyHint = existing.apiKeyHint;
  let apiKeyId = existing.apiKeyId;
  if (cfg.apiKey && !isMasked(cfg.apiKey) && cfg.apiKey !== existing.apiKeyHint) {
    key = await keyFor(cfg.apiKey);
    apiKeyHash = key.hash;
    apiKeyHint = keyHint(cfg.apiKey);
    apiKeyId = key.id;
  }
  const modelId = cfg.modelId ?? existing.modelId;
  if (key || modelId !== existing.modelId) {
    key ??= await getKeyByHash(existing.apiKeyHash);
    if (!key) throw errors.badRequest("Invalid 'config.apiKey': the bot's API key no longer exists; give a new one.", 'config.apiKey');
    await checkModel(key, modelId);
  }
  return replaceBot(existing, {
    name: input.name || existing.name,
    provider: input.provider || existing.provider,
    appId: cfg.appId ?? existing.appId,
    appSecret: keep(cfg.appSecret ?? undefined, existing.appSecret)!,
    ...verification,
    apiKeyHash,
    apiKeyHint,
    apiKeyId,
    modelId,
    domain,
    systemPrompt: cfg.systemPrompt === undefined ? existing.systemPrompt : cfg.systemPrompt?.trim() || null,
  });
}
