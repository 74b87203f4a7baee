/**
 * The per-event ledger that makes the bot answer each Feishu message exactly once.
 *
 * Item: pk `FEISHUEVENT#<botId>#<ledger id>`, sk `EVENT`, `ttl` (epoch seconds), `state`. The ledger id names the
 * message (`msg-<message_id>`, webhook-handler.ts), so a message delivered again under a new event_id is a duplicate
 * too; `event_id` records the delivery that was taken.
 *   received ── webhook: conditional put (absent, or present but past its ttl: emulators never delete expired
 *               items). A second delivery of the same event_id (Feishu retries, replays) fails the condition.
 *   working  ── worker: conditional update from `received` (or from a `working` whose lease ran out — a worker
 *               that died mid-answer). A second invocation for the same event (Lambda's at-least-once delivery, a
 *               retry) fails the condition while the first one holds the lease, and after it is `done`.
 *   done     ── worker, at the end (answered, or decided not to answer).
 * `card_message_id` records the answer card once it exists.
 *
 * TTL: 24 h, longer than Feishu's retry schedule (≈7.1 h) and the signature timestamp window (8 h, crypto.ts), so a
 * replay is always either refused by the signature window or found here.
 */
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, isConditionFailure, nowIso, tableName } from '../store/table.js';
import { itemKeys } from '../store/table-keys.js';

export const EVENT_TTL_SECONDS = 24 * 3600;
/** Longer than the worker Lambda's timeout (5 min), so a live worker never loses its claim. */
export const WORKER_LEASE_MS = 6 * 60_000;

const key = itemKeys.feishuEvent;
const epochSeconds = (ms: number) => Math.floor(ms / 1000);

/** Webhook side: true when this delivery is the first of the event (false: a duplicate, to be acknowledged only). */
export async function recordEvent(
  botId: number,
  eventId: string,
  info: { messageId?: string; eventId?: string },
  now = Date.now(),
): Promise<boolean> {
  try {
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: {
          ...key(botId, eventId),
          type: 'feishu-event',
          state: 'received',
          bot_id: botId,
          event_id: info.eventId ?? eventId,
          message_id: info.messageId,
          received_at: nowIso(),
          ttl: epochSeconds(now) + EVENT_TTL_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':now': epochSeconds(now) },
      }),
    );
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}

/** Webhook side: undoes recordEvent when the hand-off failed, so that Feishu's retry is accepted. */
export async function forgetEvent(botId: number, eventId: string): Promise<void> {
  try {
    await db().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: key(botId, eventId),
        ConditionExpression: '#s = :received',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':received': 'received' },
      }),
    );
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
  }
}

/** Worker side: true when this invocation may answer the event (it now holds the lease). */
export async function claimEvent(botId: number, eventId: string, now = Date.now()): Promise<boolean> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key(botId, eventId),
        UpdateExpression: 'SET #s = :working, lease_until = :lease, claimed_at = :at',
        ConditionExpression: '#ttl >= :nowS AND (#s = :received OR (#s = :working AND lease_until < :now))',
        ExpressionAttributeNames: { '#s': 'state', '#ttl': 'ttl' },
        ExpressionAttributeValues: {
          ':working': 'working',
          ':received': 'received',
          ':lease': now + WORKER_LEASE_MS,
          ':now': now,
          ':nowS': epochSeconds(now),
          ':at': nowIso(),
        },
      }),
    );
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}

export async function noteCard(botId: number, eventId: string, cardMessageId: string): Promise<void> {
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: key(botId, eventId),
      UpdateExpression: 'SET card_message_id = :c',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':c': cardMessageId },
    }),
  );
}

export async function finishEvent(botId: number, eventId: string, outcome: string): Promise<void> {
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: key(botId, eventId),
      UpdateExpression: 'SET #s = :done, outcome = :o, finished_at = :at REMOVE lease_until',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#s': 'state' },
      ExpressionAttributeValues: { ':done': 'done', ':o': outcome, ':at': nowIso() },
    }),
  );
}
