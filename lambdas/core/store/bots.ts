import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { errors } from '../errors.js';
import { nextId } from './counters.js';
import { db, isConditionFailure, nowIso, queryIndex, tableName } from './table.js';
import { indexKeys, itemKeys, partitions } from './table-keys.js';
import { str } from './attributes.js';

/**
 * A Feishu / Lark bot: which app it is (appId, appSecret), how its webhook is verified (verificationToken,
 * encryptKey), and whom it bills (an API key, stored only as its SHA-256 hash + hint, like every key) for which
 * model (a model NAME, as a /v1 request's `model`). The app secrets must be kept in clear to operate the bot;
 * they are never shown in full by the admin API (see lambdas/admin/routes/bot.ts).
 *
 * Item: pk `BOT#<id>`, sk `BOT`, gsi1 `BOTS` / pad(id).
 */
export interface FeishuBot {
  id: number;
  name: string;
  /** Kept for the seed API (`provider` on save); the model row decides the real provider. */
  provider: string;
  appId: string;
  appSecret: string;
  verificationToken: string | null;
  encryptKey: string | null;
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
    appSecret: str(item.app_secret),
    verificationToken: strOrNull(item.verification_token),
    encryptKey: strOrNull(item.encrypt_key),
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

function toItem(b: FeishuBot): Record<string, unknown> {
  return {
    ...itemKeys.bot(b.id),
    type: 'bot',
    id: b.id,
    name: b.name,
    provider: b.provider,
    app_id: b.appId,
    app_secret: b.appSecret,
    verification_token: b.verificationToken,
    encrypt_key: b.encryptKey,
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

export type BotInput = Omit<FeishuBot, 'id' | 'createdAt' | 'updatedAt'>;

export async function createBot(input: BotInput): Promise<FeishuBot> {
  const now = nowIso();
  const bot: FeishuBot = { ...input, id: await nextId('bot'), createdAt: now, updatedAt: now };
  await db().send(new PutCommand({ TableName: tableName(), Item: toItem(bot), ConditionExpression: 'attribute_not_exists(pk)' }));
  return bot;
}

/** Replaces a bot's fields (the caller merges over the current record); unknown id → 404. */
export async function replaceBot(existing: FeishuBot, input: BotInput): Promise<FeishuBot> {
  const bot: FeishuBot = { ...input, id: existing.id, createdAt: existing.createdAt, updatedAt: nowIso() };
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
