import { describe, expect, it } from 'vitest';
import {
  answerCard,
  cardRequestBytes,
  errorCard,
  escapeCardMarkdown,
  helpCard,
  MAX_CARD_BYTES,
  thinkingCard,
  truncateEncoded,
  type Card,
} from '../../../lambdas/core/feishu/cards.js';

const markdownOf = (card: Card) =>
  card.elements
    .filter((e) => e.tag === 'markdown')
    .map((e) => (e as { content: string }).content)
    .join('\n');
const noteOf = (card: Card) =>
  card.elements
    .filter((e) => e.tag === 'note')
    .map((e) => (e as { elements: { content: string }[] }).elements.map((x) => x.content).join(''));

describe('cards', () => {
  it('all cards are JSON 1.0 shared cards (patchable)', () => {
    for (const card of [
      thinkingCard('claude'),
      answerCard({ text: 'hi', model: 'claude', done: true }),
      errorCard({ title: 'Oops', message: 'failed' }),
      helpCard(),
    ]) {
      expect(card.config).toEqual({ wide_screen_mode: true, update_multi: true });
      expect(Array.isArray(card.elements)).toBe(true);
      expect(JSON.parse(JSON.stringify(card))).toEqual(card);
    }
  });

  it('answer card: markdown body, reasoning section, footer with usage', () => {
    const card = answerCard({
      text: '**Hello**',
      reasoning: 'Let me think.',
      model: 'claude-sonnet',
      done: true,
      usage: { promptTokens: 1234, completionTokens: 56, fee: 0.0123 },
    });
    expect(markdownOf(card)).toBe('**Hello**');
    expect(JSON.stringify(card)).toContain('Reasoning');
    expect(noteOf(card)).toEqual(['Let me think.', 'claude-sonnet · 1,234 in / 56 out tokens · $0.0123']);
    const streaming = answerCard({ text: 'Hel', model: 'm', done: false });
    expect(noteOf(streaming)).toEqual(['m · generating…']);
    expect(markdownOf(answerCard({ text: '', model: 'm', done: true }))).toBe('_(empty answer)_');
    expect(markdownOf(answerCard({ text: '', reasoning: 'hmm', model: 'm', done: false }))).toBe('_Thinking…_');
  });

  it('escapes tag-like markup outside code', () => {
    expect(escapeCardMarkdown('hi <at id=all></at> a<b 3 < 4')).toBe('hi &lt;at id=all>&lt;/at> a&lt;b 3 < 4');
    expect(escapeCardMarkdown('`<div>` and\n```html\n<p>x</p>\n```\n<font>')).toBe('`<div>` and\n```html\n<p>x</p>\n```\n&lt;font>');
    expect(markdownOf(answerCard({ text: '<at id=all></at>', model: 'm', done: true }))).toBe('&lt;at id=all>&lt;/at>');
  });

  it('keeps huge answers under the size limit with a marker', () => {
    for (const text of ['a'.repeat(100_000), '中文'.repeat(40_000), '"\\\n'.repeat(30_000), '😀'.repeat(30_000)]) {
      const card = answerCard({ text, reasoning: 'r'.repeat(50_000), model: 'm', done: true });
      expect(cardRequestBytes(card)).toBeLessThanOrEqual(MAX_CARD_BYTES);
      expect(markdownOf(card)).toMatch(/truncated/);
      expect(markdownOf(card)).not.toMatch(/[\uD800-\uDBFF]$/);
      expect(cardRequestBytes(card)).toBeGreaterThan(MAX_CARD_BYTES - 2_000); // it uses the room it has
    }
    const e = errorCard({ title: 't'.repeat(10_000), message: 'x'.repeat(100_000) });
    expect(cardRequestBytes(e)).toBeLessThanOrEqual(MAX_CARD_BYTES);
  });

  it('streaming reasoning keeps the tail, final keeps the head', () => {
    const reasoning = 'START ' + 'x'.repeat(10_000) + ' END';
    expect(JSON.stringify(answerCard({ text: '', reasoning, model: 'm', done: false }))).toContain('END');
    expect(JSON.stringify(answerCard({ text: '', reasoning, model: 'm', done: false }))).not.toContain('START');
    expect(JSON.stringify(answerCard({ text: 'a', reasoning, model: 'm', done: true }))).toContain('START');
  });

  it('truncation closes an open code fence before the marker', () => {
    const text = 'intro\n```js\n' + 'x = 1;\n'.repeat(10_000);
    const out = truncateEncoded(text, 1_000);
    expect((out.match(/```/g) ?? []).length % 2).toBe(0);
    expect(out.endsWith('too long for a card)')).toBe(true);
    expect(truncateEncoded('short', 1_000)).toBe('short');
  });
});
