/**
 * Per-chat conversation memory for a bot.
 *
 * Items, all in the partition pk `FEISHUCHAT#<botId>#<chatId>`:
 *   sk `TURN#<13-digit epoch ms>#<message_id>` — one completed exchange {user, assistant}, `ttl` = its time + window.
 *     Storing the pair (not single messages) keeps the history strictly alternating user/assistant, and a failed
 *     answer stores nothing, so it never poisons later turns.
 *   sk `RESET` — `reset_at` (epoch ms): /reset or /clear; turns up to that instant are ignored. O(1), no deletes.
 * Loading = GetItem RESET + one descending Query over `TURN#<from>…` with Limit N, where from = max(now − window,
 * reset_at + 1). Items past their ttl are skipped (emulators never delete them).
 *
 * Attachments are not kept: a stored user turn carries its text plus a note such as `[image]` or `[file: a.pdf]`
 * (item size stays small, and bytes are not billed again on every later turn).
 */
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { db, nowIso, tableName } from '../store/table.js';
import { feishuTurnRange, itemKeys } from '../store/table-keys.js';

export interface Turn {
  user: string;
  assistant: string;
  at: number;
}

export interface MemoryOptions {
  maxTurns: number;
  windowMs: number;
}

/** Stored texts are capped so an item stays far below DynamoDB's 400 KB. */
export const MAX_STORED_CHARS = 16_000;

const cap = (s: string) => (s.length > MAX_STORED_CHARS ? `${s.slice(0, MAX_STORED_CHARS)}…` : s);

/** The last `maxTurns` exchanges within the window and after the last reset, oldest first. */
export async function loadTurns(botId: number, chatId: string, opts: MemoryOptions, now = Date.now()): Promise<Turn[]> {
  if (opts.maxTurns <= 0) return [];
  const state = await db().send(
    new GetCommand({ TableName: tableName(), Key: itemKeys.feishuChatReset(botId, chatId), ConsistentRead: true }),
  );
  const resetAt = Number(state.Item?.reset_at ?? 0);
  const from = Math.max(now - opts.windowMs, resetAt + 1, 0);
  const range = feishuTurnRange(botId, chatId, from);
  const out = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': range.pk, ':from': range.from, ':to': range.to },
      ScanIndexForward: false,
      Limit: opts.maxTurns,
      ConsistentRead: true,
    }),
  );
  const nowS = Math.floor(now / 1000);
  return (out.Items ?? [])
    .filter((i) => Number(i.ttl ?? Infinity) >= nowS)
    .map((i) => ({ user: String(i.user ?? ''), assistant: String(i.assistant ?? ''), at: Number(i.at) }))
    .reverse();
}

export async function appendTurn(
  botId: number,
  chatId: string,
  turn: { messageId: string; user: string; assistant: string },
  opts: Pick<MemoryOptions, 'windowMs'>,
  now = Date.now(),
): Promise<void> {
  await db().send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        ...itemKeys.feishuChatTurn(botId, chatId, now, turn.messageId),
        type: 'feishu-turn',
        at: now,
        user: cap(turn.user),
        assistant: cap(turn.assistant),
        created_at: nowIso(),
        ttl: Math.ceil((now + opts.windowMs) / 1000),
      },
    }),
  );
}

/** Starts the conversation over: every turn up to now is forgotten. */
export async function resetChat(botId: number, chatId: string, now = Date.now()): Promise<void> {
  await db().send(
    new PutCommand({
      TableName: tableName(),
      Item: { ...itemKeys.feishuChatReset(botId, chatId), type: 'feishu-reset', reset_at: now, updated_at: nowIso() },
    }),
  );
}
