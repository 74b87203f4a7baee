/**
 * Interactive card builders (card JSON 1.0: `{config, header?, elements}`).
 *
 * - `config.update_multi: true` makes the card a shared card, which im.v1.message.patch requires; `wide_screen_mode`
 *   lets it use the full chat width.
 * - Reasoning is shown as a small grey `note` under a "Reasoning" label (JSON 1.0 has no collapsible container):
 *   while streaming its tail (the latest thoughts), when done its head, each capped at REASONING_MAX_BYTES.
 * - Model-produced markdown is escaped (see escapeCardMarkdown) so it cannot inject `<at id=all>`, `<font>`, ... tags.
 * - A card must stay under Feishu's ~30 KB request limit. The limit applies to the request body, in which the card
 *   is a JSON string inside JSON, so sizes here are measured as that doubly-encoded UTF-8 length (cardRequestBytes)
 *   and every card is kept ≤ MAX_CARD_BYTES, truncating the answer with a visible marker.
 */

interface CardText {
  tag: 'plain_text' | 'lark_md';
  content: string;
}
export type CardElement =
  { tag: 'markdown'; content: string } | { tag: 'hr' } | { tag: 'note'; elements: CardText[] } | { tag: 'div'; text: CardText };

export interface Card {
  config: { wide_screen_mode: true; update_multi: true };
  header?: { title: { tag: 'plain_text'; content: string }; template: string };
  elements: CardElement[];
}

interface CardUsage {
  promptTokens?: number;
  completionTokens?: number;
  /** USD. */
  fee?: number;
}

export interface AnswerCardState {
  text: string;
  reasoning?: string;
  model: string;
  done: boolean;
  usage?: CardUsage;
}

/** Budget for the whole card, measured by cardRequestBytes (Feishu's limit is about 30 KB for the request body). */
export const MAX_CARD_BYTES = 28_000;
const REASONING_MAX_BYTES = 4_000;
const TITLE_MAX_BYTES = 300;
const MODEL_MAX_BYTES = 200;
const TRUNCATED = '\n\n…(truncated — too long for a card)';

const CONFIG = { wide_screen_mode: true, update_multi: true } as const;

/** Bytes of the card as it travels: a JSON string (the `content` field) inside the JSON request body. */
export function cardRequestBytes(card: Card): number {
  return Buffer.byteLength(JSON.stringify(JSON.stringify(card)), 'utf8');
}

/** The `content` string for im.v1.message create/reply/patch. */
export function cardContent(card: Card): string {
  return JSON.stringify(card);
}

function encodedBytes(s: string): number {
  // The encoding cost of s as it ends up in the request (minus the quotes the two encodings add).
  return Buffer.byteLength(JSON.stringify(JSON.stringify(s)), 'utf8') - 6;
}

/** Cut to a code-unit index that does not split a surrogate pair. */
function safeCut(s: string, end: number): number {
  if (end > 0 && end < s.length) {
    const c = s.charCodeAt(end - 1);
    if (c >= 0xd800 && c <= 0xdbff) return end - 1;
  }
  return end;
}

/**
 * Truncates `s` so that its encoded size (see cardRequestBytes) is at most maxBytes, appending (keep 'head') or
 * prepending (keep 'tail') `marker` when something was cut.
 */
export function truncateEncoded(s: string, maxBytes: number, marker = TRUNCATED, keep: 'head' | 'tail' = 'head'): string {
  if (encodedBytes(s) <= maxBytes) return s;
  const budget = maxBytes - encodedBytes(marker);
  if (budget <= 0) return '';
  if (keep === 'head') {
    let piece = cutHead(s, budget);
    if (((piece.match(/```/g) ?? []).length & 1) === 1) {
      // Close an open code fence so that the marker is not swallowed by it.
      const fence = '\n```';
      piece = cutHead(piece, budget - encodedBytes(fence)) + fence;
    }
    return piece + marker;
  }
  return marker + cutTail(s, budget);
}

/** Longest prefix whose encoded size is ≤ budget (no split surrogate pair or trailing half HTML entity). */
function cutHead(s: string, budget: number): string {
  let lo = 0;
  let hi = Math.min(s.length, Math.max(0, budget)); // every code unit costs ≥ 1 byte
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (encodedBytes(s.slice(0, mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return s.slice(0, safeCut(s, lo)).replace(/&[a-z#0-9]{0,6}$/i, '');
}

/** Longest suffix whose encoded size is ≤ budget. */
function cutTail(s: string, budget: number): string {
  let lo = 0;
  let hi = Math.min(s.length, Math.max(0, budget)); // every code unit costs ≥ 1 byte
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (encodedBytes(s.slice(s.length - mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  let start = s.length - lo;
  const c = s.charCodeAt(start);
  if (c >= 0xdc00 && c <= 0xdfff) start += 1;
  return s.slice(start);
}

/**
 * Escapes tag-like `<` (e.g. `<at id=all>`, `<font>`, `<a>`) outside code so Feishu's card markdown shows them as
 * text instead of interpreting them; code fences and inline code are left as written.
 */
export function escapeCardMarkdown(text: string): string {
  const escape = (s: string) => s.replace(/<(?=[A-Za-z/!])/g, '&lt;');
  // Split into fenced blocks, inline code spans and the rest.
  return text
    .split(/(```[\s\S]*?(?:```|$)|`[^`\n]*`)/g)
    .map((part, i) => (i % 2 === 1 ? part : escape(part)))
    .join('');
}

function plain(content: string): { tag: 'plain_text'; content: string } {
  return { tag: 'plain_text', content };
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function fmtFee(fee: number): string {
  if (fee === 0) return '$0';
  if (fee >= 0.01) return `$${fee.toFixed(4)}`;
  return `$${fee.toPrecision(2)}`;
}

function footerText(model: string, opts: { done: boolean; usage?: CardUsage }): string {
  const parts = [truncateEncoded(model, MODEL_MAX_BYTES, '…')];
  const u = opts.usage;
  if (u) {
    const tokens: string[] = [];
    if (u.promptTokens !== undefined) tokens.push(`${fmtInt(u.promptTokens)} in`);
    if (u.completionTokens !== undefined) tokens.push(`${fmtInt(u.completionTokens)} out`);
    if (tokens.length) parts.push(`${tokens.join(' / ')} tokens`);
    if (u.fee !== undefined && Number.isFinite(u.fee)) parts.push(fmtFee(u.fee));
  }
  if (!opts.done) parts.push('generating…');
  return parts.join(' · ');
}

function fit(card: Card): Card {
  if (cardRequestBytes(card) > MAX_CARD_BYTES) {
    // Should not happen with the budgets above; never send something Feishu will refuse.
    throw new Error(`card exceeds ${MAX_CARD_BYTES} bytes`);
  }
  return card;
}

export function thinkingCard(model: string): Card {
  return fit({
    config: { ...CONFIG },
    elements: [
      { tag: 'markdown', content: '_Thinking…_' },
      { tag: 'note', elements: [plain(footerText(model, { done: false }))] },
    ],
  });
}

export function answerCard(state: AnswerCardState): Card {
  const reasoningElements: CardElement[] = [];
  const reasoning = state.reasoning?.trim();
  if (reasoning) {
    const fitted = state.done
      ? truncateEncoded(reasoning, REASONING_MAX_BYTES, ' …', 'head')
      : truncateEncoded(reasoning, REASONING_MAX_BYTES, '… ', 'tail');
    reasoningElements.push(
      { tag: 'div', text: { tag: 'lark_md', content: '**💭 Reasoning**' } },
      { tag: 'note', elements: [plain(fitted)] },
      { tag: 'hr' },
    );
  }
  const body = escapeCardMarkdown(state.text);
  const placeholder = state.done ? '_(empty answer)_' : reasoning ? '_Thinking…_' : '…';
  const build = (content: string): Card => ({
    config: { ...CONFIG },
    elements: [
      ...reasoningElements,
      { tag: 'markdown', content },
      { tag: 'note', elements: [plain(footerText(state.model, { done: state.done, usage: state.usage }))] },
    ],
  });
  if (!body.trim()) return fit(build(placeholder));
  const base = cardRequestBytes(build(''));
  return fit(build(truncateEncoded(body, MAX_CARD_BYTES - base)));
}

export function errorCard({ title, message }: { title: string; message: string }): Card {
  const base: Card = {
    config: { ...CONFIG },
    header: { title: plain(truncateEncoded(title, TITLE_MAX_BYTES, '…')), template: 'red' },
    elements: [],
  };
  const budget = MAX_CARD_BYTES - cardRequestBytes({ ...base, elements: [{ tag: 'markdown', content: '' }] });
  return fit({ ...base, elements: [{ tag: 'markdown', content: truncateEncoded(escapeCardMarkdown(message), budget) }] });
}

export function helpCard(): Card {
  return fit({
    config: { ...CONFIG },
    header: { title: plain('How to use this bot · 使用说明'), template: 'blue' },
    elements: [
      {
        tag: 'markdown',
        content: [
          '**Chat** — send a message in a direct chat, or @mention the bot in a group. Images, PDFs and other documents can be attached.',
          '**/reset** or **/clear** — forget the conversation and start a new one.',
          '**/help** — show this help.',
          '',
          '**对话** — 私聊直接发送消息，群聊中请 @机器人。可以附带图片、PDF 等文件。',
          '**/reset** 或 **/clear** — 清空上下文，开始新的对话。',
          '**/help** — 显示本帮助。',
        ].join('\n'),
      },
    ],
  });
}

/** A short informational card (e.g. after /reset). */
export function noticeCard({ title, message }: { title: string; message: string }): Card {
  const base: Card = {
    config: { ...CONFIG },
    header: { title: plain(truncateEncoded(title, TITLE_MAX_BYTES, '…')), template: 'green' },
    elements: [],
  };
  const budget = MAX_CARD_BYTES - cardRequestBytes({ ...base, elements: [{ tag: 'markdown', content: '' }] });
  return fit({ ...base, elements: [{ tag: 'markdown', content: truncateEncoded(escapeCardMarkdown(message), budget) }] });
}
