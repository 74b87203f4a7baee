/**
 * POST /bot/feishu/{id}/webhook — everything Feishu's event subscription calls, answered within its 3 s:
 *
 *   1. the bot must exist (404);
 *   2. verify and decode (webhook-envelope.ts): signature over the raw body when the bot has an encryptKey, the
 *      verification token otherwise; anything forged → 401 and nothing else happens (no write, no hand-off);
 *   3. url_verification → `{challenge}` (plain or encrypted);
 *   4. events other than im.message.receive_v1, messages from apps/bots (its own echoes), group messages that
 *      mention nobody, and events older than STALE_EVENT_MS → acknowledged, nothing else;
 *   5. de-duplicate by event_id (event-ledger.ts): a repeated delivery is acknowledged and dropped;
 *   6. hand off to the worker asynchronously (handoff.ts). If the hand-off itself fails the ledger entry is
 *      removed and Feishu gets a 500, so its retry can succeed.
 */
import { logger } from '../log.js';
import { getBot, openBotSecret } from '../store/bots.js';
import { forgetEvent, recordEvent } from './event-ledger.js';
import { handOff } from './handoff.js';
import { FeishuMessageError, parseMessageEvent, shouldAnswer } from './message.js';
import { parseWebhook, type WebhookHeaders } from './webhook-envelope.js';

const MESSAGE_EVENT = 'im.message.receive_v1';
/** Older events are not answered even if their event_id is new (Feishu stops retrying after ≈7.1 h). */
const STALE_EVENT_MS = 12 * 3600_000;

export interface WebhookRequest {
  botId: string;
  rawBody: Buffer;
  headers: WebhookHeaders;
}

export interface WebhookResponse {
  status: number;
  body: Record<string, unknown>;
}

const ack = (ignored?: string): WebhookResponse => ({ status: 200, body: ignored ? { ok: true, ignored } : { ok: true } });
const refuse = (status: number, code: string, message: string): WebhookResponse => ({ status, body: { error: { code, message } } });

/** What the webhook can tell about a message without asking Feishu (the worker decides mentions precisely). */
function triage(event: unknown, createTime: string | undefined, now: number): { messageId: string } | { ignore: string } {
  let msg;
  try {
    msg = parseMessageEvent(event);
  } catch (e) {
    if (e instanceof FeishuMessageError) return { ignore: 'malformed message event' };
    throw e;
  }
  if (!shouldAnswer(msg)) return { ignore: msg.senderType !== 'user' ? 'sent by an app' : 'group message without mention' };
  const created = Number(createTime ?? msg.createTime);
  if (Number.isFinite(created) && created > 0 && now - created > STALE_EVENT_MS) return { ignore: 'stale event' };
  return { messageId: msg.messageId };
}

export async function handleWebhook(req: WebhookRequest, now = Date.now()): Promise<WebhookResponse> {
  const botId = /^\d{1,15}$/.test(req.botId) ? Number(req.botId) : NaN;
  const bot = Number.isSafeInteger(botId) && botId > 0 ? await getBot(botId) : undefined;
  if (!bot) return refuse(404, 'not_found', 'No such bot.');

  // The verification secrets are opened (kms:Decrypt, cached per instance) only by the webhook and the worker.
  const [verificationToken, encryptKey] = await Promise.all([openBotSecret(bot, 'verificationToken'), openBotSecret(bot, 'encryptKey')]);
  const result = parseWebhook({
    rawBody: req.rawBody,
    headers: req.headers,
    bot: { verificationToken, encryptKey, allowUnsigned: bot.allowUnsigned },
    now,
  });
  if (result.kind === 'rejected') {
    logger.warn('feishu webhook rejected', { botId, status: result.status, reason: result.reason });
    return result.status === 401
      ? refuse(401, 'unauthorized', 'Signature or verification token mismatch.')
      : refuse(400, 'bad_request', result.reason);
  }
  if (result.kind === 'challenge') return { status: 200, body: { challenge: result.challenge } };

  if (result.eventType !== MESSAGE_EVENT) return ack(`event type ${result.eventType}`);
  const t = triage(result.event, result.createTime, now);
  if ('ignore' in t) return ack(t.ignore);

  // The ledger is keyed by the message, not the delivery: Feishu retries an event under its event_id, but the same
  // message may also come again under a new one (a second subscription, an event of the other schema version), and
  // one message gets one answer and one charge (event-ledger.ts).
  const ledgerId = `msg-${t.messageId}`;
  if (!(await recordEvent(botId, ledgerId, { messageId: t.messageId, eventId: result.eventId }, now))) return ack('duplicate event');
  try {
    await handOff({ botId, eventId: ledgerId, event: result.event });
  } catch (e) {
    logger.error('feishu hand-off failed', { botId, eventId: result.eventId, error: e as Error });
    await forgetEvent(botId, ledgerId).catch(() => undefined);
    return refuse(500, 'handoff_failed', 'Could not start the worker; retry later.');
  }
  return ack();
}
