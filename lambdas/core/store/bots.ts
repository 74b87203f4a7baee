import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { errors } from '../errors.js';
import { nextId } from './counters.js';
import { db, isConditionFailure, nowIso, queryIndex, tableName } from './table.js';
import { indexKeys, itemKeys, partitions } from './table-keys.js';
import { str } from './attributes.js';
import { BOT_SECRET_PURPOSE } from '../topology.js';
import { isSealed, openSecret, sealSecret } from './secret-envelope.js';

/**
 * A Feishu / Lark bot: which app it is (appId, appSecret), how its webhook is verified (verificationToken,
 * encryptKey), and whom it bills (an API key, stored only as its SHA-256 hash + hint, like every key) for which
 * model (a model NAME, as a /v1 request's `model`). The three secrets are never in the table in clear: each is
 * envelope-encrypted (store/secret-envelope.ts) with the bot id and field bound to it, beside a hint (its last 4
 * characters) for the masked admin view. Sealing needs only the right to generate data keys (the admin function);
 * opening needs kms:Decrypt, which only the Feishu webhook and worker have (openBotSecret).
 *
 * Item: pk `BOT#<id>`, sk `BOT`, gsi1 `BOTS` / pad(id). Rows written before encryption hold the secrets in clear;
 * they are read as such, sealed when the bot is saved, and by sealLegacyBotSecrets (admin bot list, npm start).
 */
export interface BotSecret {
  /** The envelope; undefined for a row written before encryption, which holds `plain` until it is sealed. */
  sealed?: string;
  plain?: string;
  /** The last 4 characters of a secret of 16 or more characters ('' otherwise): what the masked view shows. */
  hint: string;
}

export type BotSecretField = 'appSecret' | 'verificationToken' | 'encryptKey';

const SECRET_ATTRIBUTES: Record<BotSecretField, string> = {
  appSecret: 'app_secret',
  verificationToken: 'verification_token',
  encryptKey: 'encrypt_key',
};

const hintOf = (plain: string) => (plain.length >= 16 ? plain.slice(-4) : '');
const contextOf = (botId: number, field: BotSecretField) => ({ purpose: BOT_SECRET_PURPOSE, bot: String(botId), field });

function secretFrom(item: Record<string, unknown>, field: BotSecretField): BotSecret | null {
  const attribute = SECRET_ATTRIBUTES[field];
  const v = strOrNull(item[attribute]);
  if (!v) return null;
  return isSealed(v) ? { sealed: v, hint: str(item[`${attribute}_hint`]) } : { plain: v, hint: hintOf(v) };
}

/** The secret in clear: needs kms:Decrypt when sealed (the Feishu webhook and worker only). */
export async function openBotSecret(bot: FeishuBot, field: BotSecretField): Promise<string | null> {
  const secret = bot[field];
  if (!secret) return null;
  if (secret.sealed === undefined) return secret.plain ?? null;
  return openSecret(secret.sealed, contextOf(bot.id, field));
}

export interface FeishuBot {
  id: number;
  name: string;
  /** Kept for the seed API (`provider` on save); the model row decides the real provider. */
  provider: string;
  appId: string;
  appSecret: BotSecret | null;
  verificationToken: BotSecret | null;
  encryptKey: BotSecret | null;
  /**
   * Token-only verification accepted (no encryptKey, so no signature): an explicit admin choice at save. Rows written
   * before the flag existed and that have no encrypt key read as true, so that they keep working as they did.
   */
  allowUnsigned: boolean;
  apiKeyHash: string;
  apiKeyHint: string;
  /** The key's public id when the bot was saved (for finding its sessions); the hash is what authenticates. */
  apiKeyId: number;
  modelId: string;
  /** 'feishu' | 'lark' | a base URL; null → env LARK_DOMAIN, else Feishu. */
  domain: string | null;
  /** Optional system prompt for every conversation. */
  systemPrompt: string | null;
  createdAt: string;
  updatedAt: string;
}

const strOrNull = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function fromItem(item: Record<string, unknown>): FeishuBot {
  return {
    id: Number(item.id),
    name: str(item.name),
    provider: str(item.provider, 'bedrock-converse'),
    appId: str(item.app_id),
    appSecret: secretFrom(item, 'appSecret'),
    verificationToken: secretFrom(item, 'verificationToken'),
    encryptKey: secretFrom(item, 'encryptKey'),
    allowUnsigned: typeof item.allow_unsigned === 'boolean' ? item.allow_unsigned : !strOrNull(item.encrypt_key),
    apiKeyHash: str(item.api_key_hash),
    apiKeyHint: str(item.api_key_hint),
    apiKeyId: Number(item.api_key_id ?? 0),
    modelId: str(item.model_id),
    domain: strOrNull(item.domain),
    systemPrompt: strOrNull(item.system_prompt),
    createdAt: str(item.created_at),
    updatedAt: str(item.updated_at),
  };
}

/** A secret to store: a new value in clear (sealed on write), a stored one (kept; sealed if it was in clear), none. */
type SecretInput = string | BotSecret | null;

async function sealed(botId: number, field: BotSecretField, v: SecretInput): Promise<BotSecret | null> {
  if (v === null || v === '') return null;
  if (typeof v !== 'string' && v.sealed !== undefined) return v;
  const plain = typeof v === 'string' ? v : (v.plain ?? '');
  if (!plain) return null;
  return { sealed: await sealSecret(plain, contextOf(botId, field)), hint: hintOf(plain) };
}

async function sealAll(botId: number, input: Pick<BotInput, BotSecretField>): Promise<Pick<FeishuBot, BotSecretField>> {
  const [appSecret, verificationToken, encryptKey] = await Promise.all(
    (['appSecret', 'verificationToken', 'encryptKey'] as const).map((f) => sealed(botId, f, input[f])),
  );
  return { appSecret, verificationToken, encryptKey };
}

function secretAttributes(b: FeishuBot): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, attribute] of Object.entries(SECRET_ATTRIBUTES) as Array<[BotSecretField, string]>) {
    const secret = b[field];
    if (secret && secret.sealed === undefined) throw new Error(`bot ${b.id}: ${field} must be sealed before it is written`);
    out[attribute] = secret?.sealed ?? null;
    out[`${attribute}_hint`] = secret?.hint ?? null;
  }
  return out;
}

function toItem(b: FeishuBot): Record<string, unknown> {
  return {
    ...itemKeys.bot(b.id),
    type: 'bot',
    id: b.id,
    name: b.name,
    provider: b.provider,
    app_id: b.appId,
    ...secretAttributes(b),
    allow_unsigned: b.allowUnsigned,
    api_key_hash: b.apiKeyHash,
    api_key_hint: b.apiKeyHint,
    api_key_id: b.apiKeyId,
    model_id: b.modelId,
    domain: b.domain,
    system_prompt: b.systemPrompt,
    created_at: b.createdAt,
    updated_at: b.updatedAt,
    ...indexKeys.bot(b.id),
  };
}

export async function getBot(id: number): Promise<FeishuBot | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: itemKeys.bot(id), ConsistentRead: true }));
  return out.Item ? fromItem(out.Item) : undefined;
}

export async function requireBot(id: number): Promise<FeishuBot> {
  const bot = await getBot(id);
  if (!bot) throw errors.notFound(`Bot ${id} not found.`);
  return bot;
}

/** All bots (an admin-sized partition), filtered in memory by name, appId or model. */
export async function listBots(q?: string): Promise<FeishuBot[]> {
  const items = await queryIndex<Record<string, unknown>>(partitions.bots);
  const needle = q?.toLowerCase();
  return items
    .map(fromItem)
    .filter(
      (b) =>
        !needle ||
        b.name.toLowerCase().includes(needle) ||
        b.appId.toLowerCase().includes(needle) ||
        b.modelId.toLowerCase().includes(needle),
    )
    .sort((a, b) => a.id - b.id);
}

/** What a save writes; each secret a new value in clear (sealed here) or the stored one (kept). */
export type BotInput = Omit<FeishuBot, 'id' | 'createdAt' | 'updatedAt' | BotSecretField> & Record<BotSecretField, SecretInput>;

export async function createBot(input: BotInput): Promise<FeishuBot> {
  const now = nowIso();
  const id = await nextId('bot');
  const bot: FeishuBot = { ...input, ...(await sealAll(id, input)), id, createdAt: now, updatedAt: now };
  await db().send(new PutCommand({ TableName: tableName(), Item: toItem(bot), ConditionExpression: 'attribute_not_exists(pk)' }));
  return bot;
}

/** Replaces a bot's fields (the caller merges over the current record); unknown id → 404. */
export async function replaceBot(existing: FeishuBot, input: BotInput): Promise<FeishuBot> {
  const bot: FeishuBot = {
    ...input,
    ...(await sealAll(existing.id, input)),
    id: existing.id,
    createdAt: existing.createdAt,
    updatedAt: nowIso(),
  };
  try {
    await db().send(new PutCommand({ TableName: tableName(), Item: toItem(bot), ConditionExpression: 'attribute_exists(pk)' }));
  } catch (e) {
    if (isConditionFailure(e)) throw errors.notFound(`Bot ${existing.id} not found.`);
    throw e;
  }
  return bot;
}

/** Deletes the bot. Its event ledger and chat memory expire by TTL and are unreachable without the bot. */
export async function deleteBot(id: number): Promise<void> {
  try {
    await db().send(new DeleteCommand({ TableName: tableName(), Key: itemKeys.bot(id), ConditionExpression: 'attribute_exists(pk)' }));
  } catch (e) {
    if (isConditionFailure(e)) throw errors.notFound(`Bot ${id} not found.`);
    throw e;
  }
}

/**
 * Seals the secrets of bots written before they were encrypted (in clear in the table), each bot rewritten only if it
 * did not change meanwhile (all bots, or those `seen`). Idempotent, and free when there is nothing to do: run by npm
 * start and on the bots each admin bot list shows (deployed, the admin function may seal but not open secrets).
 * Returns how many bots it sealed.
 */
export async function sealLegacyBotSecrets(seen?: FeishuBot[]): Promise<number> {
  let count = 0;
  const bots = seen ?? (await queryIndex<Record<string, unknown>>(partitions.bots)).map(fromItem);
  for (const bot of bots) {
    if (![bot.appSecret, bot.verificationToken, bot.encryptKey].some((s) => s && s.sealed === undefined)) continue;
    const next: FeishuBot = { ...bot, ...(await sealAll(bot.id, bot)) };
    try {
      await db().send(
        new PutCommand({
          TableName: tableName(),
          Item: toItem(next),
          ConditionExpression: 'updated_at = :u',
          ExpressionAttributeValues: { ':u': bot.updatedAt },
        }),
      );
      count++;
    } catch (e) {
      if (!isConditionFailure(e)) throw e; // saved meanwhile: that save sealed it
    }
  }
  return count;
}
