/**
 * Turns an `im.message.receive_v1` event (the `event` object of a schema 2.0 callback) into what the bot needs.
 *
 * Mentions: Feishu replaces every @mention in `content` by a placeholder (`@_user_1`, `@_user_2`, ...) listed in
 * `message.mentions[{key, id:{open_id,...}, name}]`. A mention is the bot's when:
 *   1. the bot's open_id is known and equals the mention's `id.open_id` (the reliable way; the worker can learn it
 *      once from GET /open-apis/bot/v3/info — see lark-client getBotInfo), else
 *   2. the bot's name is known and equals the mention's `name` (names are not unique: a fallback only), else
 *   3. neither is known: ANY mention counts. Without the sensitive "read all group messages" scope Feishu only
 *      delivers group messages that @mention the bot, so this is right for the default app set-up; configure the
 *      open_id if the app has that scope.
 * The bot's own placeholders are stripped from the text; other users' become `@Name` so the model keeps the meaning
 * (in case 3 every placeholder becomes `@Name`).
 */
import { z } from 'zod';

const MentionSchema = z.looseObject({
  key: z.string(),
  id: z.looseObject({ open_id: z.string().optional(), user_id: z.string().optional(), union_id: z.string().optional() }).optional(),
  name: z.string().optional(),
});

const MessageReceiveEventSchema = z.looseObject({
  sender: z.looseObject({
    sender_id: z
      .looseObject({ open_id: z.string().optional(), user_id: z.string().optional(), union_id: z.string().optional() })
      .optional(),
    sender_type: z.string().optional(),
    tenant_key: z.string().optional(),
  }),
  message: z.looseObject({
    message_id: z.string().min(1),
    root_id: z.string().optional(),
    parent_id: z.string().optional(),
    thread_id: z.string().optional(),
    create_time: z.string().optional(),
    chat_id: z.string().min(1),
    chat_type: z.string(),
    message_type: z.string(),
    content: z.string(),
    mentions: z.array(MentionSchema).optional(),
  }),
});

type Mention = z.infer<typeof MentionSchema>;

interface FeishuImageRef {
  imageKey: string;
}
interface FeishuFileRef {
  fileKey: string;
  fileName: string;
}

export interface FeishuMessage {
  messageId: string;
  chatId: string;
  /** Feishu also has 'topic_group' etc.; everything that is not p2p is treated as a group. */
  chatType: 'p2p' | 'group';
  senderOpenId: string | undefined;
  /** 'user' for people, 'app' for bots (including this one). */
  senderType: string;
  /** text | post | image | file | audio | media | sticker | interactive | ... */
  messageType: string;
  text: string;
  images: FeishuImageRef[];
  files: FeishuFileRef[];
  mentionedBot: boolean;
  /** false when the message type carries nothing the bot can use (audio, sticker, ...). */
  supported: boolean;
  rootId?: string;
  parentId?: string;
  threadId?: string;
  /** Milliseconds since epoch as a string. */
  createTime?: string;
  tenantKey?: string;
}

export interface BotIdentity {
  botOpenId?: string | null;
  botName?: string | null;
}

export class FeishuMessageError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'FeishuMessageError';
  }
}

function isBotMention(m: Mention, bot: BotIdentity): boolean {
  if (bot.botOpenId) return m.id?.open_id === bot.botOpenId;
  if (bot.botName) return (m.name ?? '').trim() === bot.botName.trim();
  return true;
}

/** Replaces `@_user_N` placeholders: the bot's are removed (with one following space), others become `@Name`. */
function resolvePlaceholders(text: string, mentions: Mention[], bot: BotIdentity): string {
  const strictBot = Boolean(bot.botOpenId || bot.botName);
  const byKey = new Map(mentions.map((m) => [m.key, m]));
  return text
    .replace(/@_user_\d+( ?)/g, (placeholder: string, space: string) => {
      const key = placeholder.trimEnd();
      const m = byKey.get(key);
      if (!m) return '';
      if (strictBot && isBotMention(m, bot)) return '';
      return `@${m.name ?? 'user'}${space}`;
    })
    .replace(/@_all\b/g, '@all');
}

function parseJsonObject(content: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(content);
  } catch (err) {
    throw new FeishuMessageError('message.content is not JSON', err);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new FeishuMessageError('message.content is not an object');
  return v as Record<string, unknown>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Post (rich text) content as delivered in events: `{title, content: [[element...]...]}` (or a locale map of it). */
function parsePost(content: Record<string, unknown>, mentions: Mention[], bot: BotIdentity): { text: string; images: FeishuImageRef[] } {
  let post: Record<string, unknown> = content;
  if (!Array.isArray(content.content)) {
    const localized = Object.values(content).find(
      (v): v is Record<string, unknown> => !!v && typeof v === 'object' && Array.isArray((v as { content?: unknown }).content),
    );
    if (localized) post = localized;
  }
  const images: FeishuImageRef[] = [];
  const lines: string[] = [];
  const title = str(post.title)?.trim();
  if (title) lines.push(title);
  const paragraphs = Array.isArray(post.content) ? post.content : [];
  const byKey = new Map(mentions.map((m) => [m.key, m]));
  const strictBot = Boolean(bot.botOpenId || bot.botName);
  for (const paragraph of paragraphs) {
    if (!Array.isArray(paragraph)) continue;
    let line = '';
    let afterBotMention = false;
    for (const el of paragraph) {
      if (!el || typeof el !== 'object') continue;
      const e = el as Record<string, unknown>;
      const stripSpace = afterBotMention;
      afterBotMention = false;
      switch (e.tag) {
        case 'text':
        case 'md': {
          const t = resolvePlaceholders(str(e.text) ?? '', mentions, bot);
          line += stripSpace ? t.replace(/^ /, '') : t;
          break;
        }
        case 'a': {
          const text = str(e.text) ?? '';
          const href = str(e.href);
          line += href && href !== text ? `[${text}](${href})` : text;
          break;
        }
        case 'at': {
          const key = str(e.user_id) ?? '';
          const m = byKey.get(key);
          if (m && strictBot && isBotMention(m, bot)) {
            afterBotMention = true;
            break;
          }
          const name = str(e.user_name) ?? m?.name;
          if (key === 'all' || key === '@_all') line += '@all';
          else if (name) line += `@${name}`;
          break;
        }
        case 'img': {
          const imageKey = str(e.image_key);
          if (imageKey) images.push({ imageKey });
          break;
        }
        case 'emotion':
          if (str(e.emoji_type)) line += `:${str(e.emoji_type)}:`;
          break;
        case 'code_block':
          line += `\n\`\`\`${str(e.language)?.toLowerCase() ?? ''}\n${str(e.text) ?? ''}\n\`\`\`\n`;
          break;
        case 'hr':
          line += '---';
          break;
        default:
          if (typeof e.text === 'string') line += e.text;
      }
    }
    lines.push(line);
  }
  return { text: lines.join('\n').trim(), images };
}

/** Parses and normalises a receive event. Throws FeishuMessageError when the event is not a usable message. */
export function parseMessageEvent(event: unknown, bot: BotIdentity = {}): FeishuMessage {
  const parsed = MessageReceiveEventSchema.safeParse(event);
  if (!parsed.success) throw new FeishuMessageError(`not an im.message.receive_v1 event: ${parsed.error.message}`);
  const { sender, message } = parsed.data;
  const mentions = message.mentions ?? [];
  const mentionedBot = mentions.some((m) => isBotMention(m, bot));

  let text = '';
  let images: FeishuImageRef[] = [];
  const files: FeishuFileRef[] = [];
  let supported = true;
  switch (message.message_type) {
    case 'text': {
      const c = parseJsonObject(message.content);
      text = resolvePlaceholders(str(c.text) ?? '', mentions, bot).trim();
      break;
    }
    case 'post': {
      ({ text, images } = parsePost(parseJsonObject(message.content), mentions, bot));
      break;
    }
    case 'image': {
      const key = str(parseJsonObject(message.content).image_key);
      if (key) images = [{ imageKey: key }];
      else supported = false;
      break;
    }
    case 'file': {
      const c = parseJsonObject(message.content);
      const fileKey = str(c.file_key);
      if (fileKey) files.push({ fileKey, fileName: str(c.file_name) ?? 'file' });
      else supported = false;
      break;
    }
    default:
      supported = false;
  }

  return {
    messageId: message.message_id,
    chatId: message.chat_id,
    chatType: message.chat_type === 'p2p' ? 'p2p' : 'group',
    senderOpenId: sender.sender_id?.open_id,
    senderType: sender.sender_type ?? 'user',
    messageType: message.message_type,
    text,
    images,
    files,
    mentionedBot,
    supported,
    ...(message.root_id ? { rootId: message.root_id } : {}),
    ...(message.parent_id ? { parentId: message.parent_id } : {}),
    ...(message.thread_id ? { threadId: message.thread_id } : {}),
    ...(message.create_time ? { createTime: message.create_time } : {}),
    ...(sender.tenant_key ? { tenantKey: sender.tenant_key } : {}),
  };
}

/**
 * Whether the bot should answer: never a message from an app/bot (its own echoes, other bots — avoids loops) or
 * from the bot's own open_id; always in p2p; in groups only when the bot is mentioned.
 */
export function shouldAnswer(msg: FeishuMessage, opts: { botOpenId?: string | null } = {}): boolean {
  if (msg.senderType !== 'user') return false;
  if (opts.botOpenId && msg.senderOpenId === opts.botOpenId) return false;
  if (msg.chatType === 'p2p') return true;
  return msg.mentionedBot;
}

export type BotCommand = 'reset' | 'help';

/** `/reset` or `/clear` → 'reset', `/help` → 'help' (whole message, case-insensitive, full-width slash ok). */
export function parseCommand(text: string): BotCommand | null {
  const t = text.trim().replace(/^／/, '/').toLowerCase();
  if (t === '/reset' || t === '/clear') return 'reset';
  if (t === '/help') return 'help';
  return null;
}
