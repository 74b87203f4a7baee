/**
 * The worker: answers one im.message.receive_v1 event of one bot.
 *
 *   claim the event (event-ledger.ts; a second invocation for the same event stops here)
 *   → learn the bot's open_id once per instance (exact @-mention detection in groups)
 *   → p2p always; groups only when the bot is mentioned; never apps (message.ts shouldAnswer)
 *   → /help, /reset, /clear: one card, no model call
 *   → reply "Thinking…" card → download attachments (attachments.ts: ≤ 20 images, ≤ 5 files, a byte budget) → history from chat-memory.ts → runChat, exactly as
 *     /v1/chat/completions does it (same auth, model permission, quota, billing, thread recording; billed to the
 *     bot's key; session = the chat id) → patch the card as the stream arrives (card-streamer.ts, throttled) and
 *     once at the end → remember the exchange.
 *   Any failure after the card exists ends as an error card in its place: never silence.
 *
 * Exactly one answer card per message: besides the ledger claim, every reply carries a uuid derived from
 * (bot, message id), and Feishu returns the same message for the same uuid, so even a worker that runs again after
 * losing its lease patches the card it created before instead of creating another.
 */
import { createHash, randomUUID } from 'node:crypto';
import { assertUsable, isUnusableKeyError } from '../auth/authenticate.js';
import { resolveModelForKey } from '../auth/model-access.js';
import type { Invocation } from '../invocation.js';
import { runChat } from '../chat/pipeline.js';
import type { ChatRequest, Message } from '../chat/request.js';
import { config } from '../config.js';
import { isGatewayError } from '../errors.js';
import { logger } from '../log.js';
import { promptTokensOf } from '../usage.js';
import { type FeishuBot, getBot, openBotSecret } from '../store/bots.js';
import { getKeyByHash, getKeyById } from '../store/keys.js';
import { createCardStreamer } from './card-streamer.js';
import { type AnswerCardState, answerCard, type Card, errorCard, helpCard, noticeCard, thinkingCard } from './cards.js';
import { AttachmentError, downloadAttachments } from './attachments.js';
import { appendTurn, loadTurns, resetChat } from './chat-memory.js';
import { claimEvent, finishEvent, noteCard } from './event-ledger.js';
import type { WorkerJob } from './handoff.js';
import { createLarkClient, type LarkClient, LarkApiError, LarkResourceTooLargeError } from './lark-client.js';
import { type BotIdentity, type FeishuMessage, FeishuMessageError, parseCommand, parseMessageEvent, shouldAnswer } from './message.js';

export type AnswerOutcome = 'answered' | 'failed' | 'help' | 'reset' | 'unsupported' | 'ignored' | 'duplicate' | 'no-bot' | 'reply-failed';

export async function answerEvent(job: WorkerJob, invocation?: Invocation): Promise<AnswerOutcome> {
  const bot = await getBot(job.botId);
  if (!bot) return 'no-bot';
  if (!(await claimEvent(bot.id, job.eventId))) {
    logger.info('feishu event already claimed', { botId: bot.id, eventId: job.eventId });
    return 'duplicate';
  }
  let outcome: AnswerOutcome = 'failed';
  try {
    outcome = await respond(bot, job, invocation);
    return outcome;
  } finally {
    await finishEvent(bot.id, job.eventId, outcome).catch((e: unknown) =>
      logger.error('could not mark a feishu event done', { botId: bot.id, eventId: job.eventId, error: e as Error }),
    );
  }
}

// -------------------------------------------------------------------------------------------------------------
// Identity: the bot's open_id, for telling its @-mentions from other people's.
// -------------------------------------------------------------------------------------------------------------

const identities = new Map<string, { value: BotIdentity; expires: number }>();

async function botIdentity(lark: LarkClient): Promise<BotIdentity> {
  const k = `${lark.domain}\n${lark.appId}`;
  const hit = identities.get(k);
  if (hit && hit.expires > Date.now()) return hit.value;
  let value: BotIdentity = {};
  let ttl = 60_000;
  try {
    const info = await lark.getBotInfo();
    value = { botOpenId: info.openId, botName: info.name };
    ttl = 3600_000;
  } catch (e) {
    // Without it any mention counts (what Feishu delivers to an app without the group-read scope anyway).
    logger.warn('feishu bot info unavailable', { appId: lark.appId, error: e as Error });
  }
  identities.set(k, { value, expires: Date.now() + ttl });
  return value;
}

// -------------------------------------------------------------------------------------------------------------

/** Feishu de-duplicates sends with the same uuid (≤ 50 chars) for an hour: one answer per (bot, message). */
function replyUuid(botId: number, messageId: string): string {
  return `ans-${createHash('sha256').update(`${botId}\n${messageId}`).digest('hex').slice(0, 40)}`;
}

async function respond(bot: FeishuBot, job: WorkerJob, invocation: Invocation | undefined): Promise<AnswerOutcome> {
  const appSecret = (await openBotSecret(bot, 'appSecret')) ?? '';
  const lark = createLarkClient({ appId: bot.appId, appSecret, ...(bot.domain ? { domain: bot.domain } : {}) });
  const identity = await botIdentity(lark);
  let msg: FeishuMessage;
  try {
    msg = parseMessageEvent(job.event, identity);
  } catch (e) {
    if (e instanceof FeishuMessageError) return 'ignored';
    throw e;
  }
  if (!shouldAnswer(msg, { botOpenId: identity.botOpenId })) return 'ignored';

  const uuid = replyUuid(bot.id, msg.messageId);
  const reply = async (card: Card): Promise<string | undefined> => {
    try {
      const { messageId } = await lark.replyCard(msg.messageId, card, { uuid });
      await noteCard(bot.id, job.eventId, messageId).catch(() => undefined);
      return messageId;
    } catch (e) {
      logger.error('feishu reply failed', { botId: bot.id, messageId: msg.messageId, error: e as Error });
      return undefined;
    }
  };

  try {
    return await respondTo(bot, lark, msg, reply, invocation);
  } catch (e) {
    // Failures before the answer card exists (memory reset, ...) still end in a card, never in silence.
    const problem = describeFailure(e);
    logger.error('feishu command failed', { botId: bot.id, messageId: msg.messageId, error: e as Error });
    return (await reply(errorCard(problem))) ? 'failed' : 'reply-failed';
  }
}

async function respondTo(
  bot: FeishuBot,
  lark: LarkClient,
  msg: FeishuMessage,
  reply: (card: Card) => Promise<string | undefined>,
  invocation: Invocation | undefined,
): Promise<AnswerOutcome> {
  const hasAttachments = msg.images.length > 0 || msg.files.length > 0;
  const command = hasAttachments ? null : parseCommand(msg.text);
  if (command === 'help' || (msg.supported && !hasAttachments && !msg.text)) {
    return (await reply(helpCard())) ? 'help' : 'reply-failed';
  }
  if (command === 'reset') {
    const s = config().feishu;
    await resetChat(bot.id, msg.chatId);
    const card = noticeCard({
      title: 'New conversation · 新对话',
      message: `Earlier messages are forgotten; the next message starts a new conversation. Memory keeps the last ${s.memoryTurns} exchanges of ${Math.round(s.memoryWindowMs / 3600_000)} h.\n\n已清空上下文，下一条消息将开始新的对话。`,
    });
    return (await reply(card)) ? 'reset' : 'reply-failed';
  }
  if (!msg.supported) {
    const card = errorCard({
      title: 'Unsupported message · 不支持的消息',
      message: `I can read text, rich text, images and files (PDF, Word, Excel, CSV, HTML, TXT, Markdown); a "${msg.messageType}" message is not something I can answer.`,
    });
    return (await reply(card)) ? 'unsupported' : 'reply-failed';
  }

  const cardId = await reply(thinkingCard(bot.modelId));
  if (!cardId) return 'reply-failed';
  return streamAnswer(bot, lark, msg, cardId, invocation);
}

type View = { kind: 'answer'; state: AnswerCardState } | { kind: 'error'; title: string; message: string };

async function streamAnswer(
  bot: FeishuBot,
  lark: LarkClient,
  msg: FeishuMessage,
  cardId: string,
  invocation: Invocation | undefined,
): Promise<AnswerOutcome> {
  const settings = config().feishu;
  const streamer = createCardStreamer<View>({
    patch: (v) => lark.patchCard(cardId, v.kind === 'answer' ? answerCard(v.state) : errorCard(v)),
    intervalMs: settings.patchIntervalMs,
    onError: (e) => logger.warn('feishu card patch failed', { cardId, error: e as Error }),
  });
  const state: AnswerCardState = { text: '', reasoning: '', model: bot.modelId, done: false };
  try {
    // The bot bills a key identity, not a secret: a reset (new secret, same key) keeps the bot working.
    const key = (bot.apiKeyId ? await getKeyById(bot.apiKeyId) : undefined) ?? (await getKeyByHash(bot.apiKeyHash));
    if (!key) throw new BotSetupError("The bot's API key no longer exists. An administrator must save the bot with a valid key.");
    assertUsable(key);
    const model = await resolveModelForKey(key, bot.modelId);
    const attachments = await downloadAttachments(lark, msg, {
      maxBytes: settings.maxAttachmentBytes,
      maxTotalBytes: settings.maxAttachmentTotalBytes,
    });
    const history = await loadTurns(bot.id, msg.chatId, { maxTurns: settings.memoryTurns, windowMs: settings.memoryWindowMs });

    const messages: Message[] = [];
    const said = (text: string) => (text.trim() ? [{ type: 'text' as const, text }] : []);
    for (const t of history) {
      if (t.user.trim() && t.assistant.trim())
        messages.push({ role: 'user', content: said(t.user) }, { role: 'assistant', content: said(t.assistant) });
    }
    const text = msg.text || (attachments.blocks.length ? 'Please take a look at the attachment.' : '');
    messages.push({ role: 'user', content: [...said(text), ...attachments.blocks] });
    const request: ChatRequest = {
      system: bot.systemPrompt ? [{ type: 'text', text: bot.systemPrompt }] : [],
      messages,
      tools: [],
      stream: true,
    };

    // The same core path as every wire API (auth done above; admission, billing, records), events read directly.
    const run = await runChat({ key, model, request, requestId: `feishu-${randomUUID()}`, sessionKey: msg.chatId, invocation });
    let finish: string | null = null;
    for await (const ev of run.events) {
      if (ev.type === 'error') throw ev.error;
      if (ev.type === 'text_delta') state.text += ev.text;
      else if (ev.type === 'reasoning_delta') state.reasoning += ev.text;
      else if (ev.type === 'finish') finish = ev.reason;
      else if (ev.type === 'usage') {
        state.usage = { promptTokens: promptTokensOf(ev.usage), completionTokens: ev.usage.outputTokens };
      }
      if (ev.type === 'text_delta' || ev.type === 'reasoning_delta') streamer.update({ kind: 'answer', state: { ...state } });
    }
    if (finish === 'max_tokens' || finish === 'context_window_exceeded')
      state.text += '\n\n_(The answer was cut off: the model reached its output limit.)_';
    if (finish === 'content_filter' || finish === 'refusal') state.text += '\n\n_(The answer was stopped by a content filter.)_';
    state.done = true;
    await streamer.finish({ kind: 'answer', state: { ...state } });
    await appendTurn(
      bot.id,
      msg.chatId,
      { messageId: msg.messageId, user: text + attachments.notes, assistant: state.text },
      { windowMs: settings.memoryWindowMs },
    ).catch((e: unknown) => logger.error('could not store a feishu turn', { botId: bot.id, error: e as Error }));
    return 'answered';
  } catch (e) {
    const problem = describeFailure(e);
    if (problem.log) logger.error('feishu answer failed', { botId: bot.id, messageId: msg.messageId, error: e as Error });
    await streamer
      .finish({ kind: 'error', title: problem.title, message: problem.message })
      .catch((err: unknown) => logger.error('could not show the feishu error card', { cardId, error: err as Error }));
    return 'failed';
  }
}

class BotSetupError extends Error {}

// -------------------------------------------------------------------------------------------------------------
// Errors → what the user reads
// -------------------------------------------------------------------------------------------------------------

function describeFailure(e: unknown): { title: string; message: string; log: boolean } {
  if (e instanceof BotSetupError) return { title: 'Bot not configured · 机器人配置错误', message: e.message, log: true };
  if (e instanceof AttachmentError) return { title: e.title, message: e.message, log: false };
  if (e instanceof LarkResourceTooLargeError) {
    return {
      title: 'Attachment too large · 附件过大',
      message: `The attachment is larger than ${Math.round(e.limit / 1024 / 1024)} MB.`,
      log: false,
    };
  }
  if (e instanceof LarkApiError) {
    return {
      title: 'Could not read the message · 无法读取消息',
      message: `Feishu refused to hand over the attachment (${e.message}).`,
      log: true,
    };
  }
  if (isGatewayError(e)) {
    if (e.code === 'insufficient_quota') {
      return {
        title: 'Quota exhausted · 额度已用完',
        message:
          "This bot's API key has used up its monthly quota and has no balance left. Ask an administrator to raise the quota or recharge the key.",
        log: false,
      };
    }
    if (e.code === 'model_not_found') {
      return {
        title: 'Model unavailable · 模型不可用',
        message: `${e.message} Ask an administrator to check the bot's model.`,
        log: false,
      };
    }
    if (isUnusableKeyError(e)) {
      return {
        title: 'Bot key unavailable · 机器人密钥不可用',
        message: `${e.message} (机器人的 API 密钥已停用或过期，请联系管理员。)`,
        log: false,
      };
    }
    if (e.code === 'invalid_api_key') {
      return { title: 'Bot not configured · 机器人配置错误', message: "The bot's API key is not valid.", log: true };
    }
    if (e.code === 'rate_limit_exceeded') {
      return { title: 'Slow down · 请求过于频繁', message: `${e.message} 请稍后再试。`, log: false };
    }
    if (e.status === 429) {
      return { title: 'The model is busy · 模型繁忙', message: `${e.message} Please try again in a moment.`, log: false };
    }
    if (e.status >= 400 && e.status < 500) {
      return { title: 'The model refused the request · 请求被拒绝', message: e.message, log: false };
    }
    return { title: 'The model failed to answer · 模型调用失败', message: `${e.message} Please try again.`, log: true };
  }
  return { title: 'Something went wrong · 出错了', message: 'The answer could not be produced. Please try again.', log: true };
}
