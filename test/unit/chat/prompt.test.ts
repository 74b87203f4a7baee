import { describe, expect, it } from 'vitest';
import { describeBlock, lastUserPrompt } from '../../../lambdas/core/chat/prompt.js';
import type { ContentBlock } from '../../../lambdas/core/chat/request.js';
import { decodeChatCompletion } from '../../../lambdas/core/wire/openai-chat/decode.js';
import type { ChatMessage, ContentPart } from '../../../lambdas/core/wire/openai-chat/types.js';

const elapsed = (fn: () => unknown) => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** `size` bytes that really are a PNG (the decoder sniffs them). */
const png = (size: number) => {
  const b = Buffer.alloc(size);
  b.set(PNG_SIGNATURE);
  return b;
};
const jpeg = (size: number) => {
  const b = Buffer.alloc(size);
  b.set([0xff, 0xd8, 0xff, 0xe0]);
  return b;
};
const pdf = (size: number) => {
  const b = Buffer.alloc(size);
  b.write('%PDF-1.7\n');
  return b;
};
const image = (url: string): ContentPart[] => [{ type: 'image_url', image_url: { url } }];
/** What the record of a call with this last user content shows: decoded as the route decodes it, then described. */
const recorded = (content: ChatMessage['content']) =>
  lastUserPrompt(decodeChatCompletion({ model: 'm', messages: [{ role: 'user', content }] }));
/** The decoder's refusal (a 400), and how long it took. */
const refusal = (content: ChatMessage['content']) => {
  let error: unknown;
  const ms = elapsed(() => {
    try {
      recorded(content);
    } catch (e) {
      error = e;
    }
  });
  return { error, ms };
};

describe('prompt descriptors for images', () => {
  it('describes an image by media type and decoded size, never by its bytes', () => {
    expect(recorded(image(`data:image/png;base64,${png(3 * 1024).toString('base64')}`))).toBe('[image/png, 3 KB]');
    expect(recorded(image(`data:image/jpeg;base64,${jpeg(3 * 1024).toString('base64')}`))).toBe('[image/jpeg, 3 KB]');
  });

  it('names the type the bytes have when the data URL header names none (or lies)', () => {
    expect(recorded(image(`data:;base64,${png(2048).toString('base64')}`))).toBe('[image/png, 2 KB]');
    expect(recorded(image(`data:image/jpeg;base64,${png(2048).toString('base64')}`))).toBe('[image/png, 2 KB]');
  });

  // Deliberate since the core request: such data URLs are refused by the decoder, so no record ever describes them.
  it('a percent-encoded image data URL is refused, not described', () => {
    const { error } = refusal(image(`data:image/jpeg,${'x'.repeat(4096)}`));
    expect(error).toMatchObject({ status: 400, message: expect.stringMatching(/must be base64/) });
  });

  it.each([
    ['a comma-less data URL', `data:${'a'.repeat(200_000)}`],
    ['a data URL with a long ;-heavy header', `data:image/png${';a'.repeat(100_000)}`],
  ])('%s is refused in linear time, and the refusal does not echo it', (_, hostile) => {
    const { error, ms } = refusal(image(hostile));
    expect(ms).toBeLessThan(200);
    expect(error).toMatchObject({ status: 400 });
    const message = (error as Error).message;
    expect(message.length).toBeLessThan(1000);
    expect(message).not.toContain('a'.repeat(100));
    expect(message).not.toContain(';a;a;a');
  });

  it('still describes http(s) URLs without their query string', () => {
    expect(recorded(image('https://example.com/cat.png?sig=secret'))).toBe('[image https://example.com/cat.png]');
  });
});

describe('prompt descriptors never copy attachment bytes', () => {
  it('an image URL that does not parse becomes a bare [image]; a malformed data URL never gets that far', () => {
    expect(recorded(image('https://'))).toBe('[image]');
    expect(refusal(image(`data:${'a'.repeat(5000)}`)).error).toMatchObject({ status: 400 });
  });

  it('a very long image URL path is cut', () => {
    expect(recorded(image(`https://example.com/${'p'.repeat(5000)}`)).length).toBeLessThan(300);
  });

  it('file parts: the document name, format and decoded size; hostile input is refused quickly', () => {
    const part = (file_data: string): ContentPart[] => [{ type: 'file', file: { filename: 'r.pdf', file_data } }];
    expect(recorded(part(`data:application/pdf;base64,${pdf(2048).toString('base64')}`))).toBe('[document r [pdf, 2 KB]]');
    const { error, ms } = refusal(part(`data:${'a;'.repeat(100_000)}`));
    expect(error).toMatchObject({ status: 400 });
    expect(ms).toBeLessThan(200);
  });

  it('text and attachments of the last user turn, one per line', () => {
    expect(
      recorded([
        { type: 'text', text: 'Compare these:' },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${png(1024).toString('base64')}` } },
        { type: 'doc', doc: { name: 'notes.md', format: 'md', source: { bytes: Buffer.from('# hi').toString('base64') } } },
      ]),
    ).toBe('Compare these:\n[image/png, 1 KB]\n[document notes [md, 1 KB]]');
  });
});

describe('lastUserPrompt', () => {
  const req = (messages: ChatMessage[]) => decodeChatCompletion({ model: 'm', messages });

  it('is the last user turn, whatever follows it', () => {
    expect(
      lastUserPrompt(
        req([
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: 'second' },
          { role: 'assistant', content: 'prefill' },
        ]),
      ),
    ).toBe('second');
  });

  it('a turn of tool results is marked as such', () => {
    expect(
      lastUserPrompt(
        req([
          { role: 'user', content: 'go' },
          { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
        ]),
      ),
    ).toBe('[tool result] sunny');
  });

  it('no user turn: empty', () => {
    expect(lastUserPrompt({ messages: [] })).toBe('');
  });
});

describe('describeBlock', () => {
  it('describes every core block without its bytes; reasoning is not part of a prompt', () => {
    const blocks: ContentBlock[] = [
      { type: 'tool_use', id: 't', name: 'lookup', input: { q: 1 } },
      { type: 'reasoning', text: 'secret thoughts', signature: 's' },
      { type: 'redacted_reasoning', data: 'AAAA' },
    ];
    expect(blocks.map(describeBlock)).toEqual(['[tool call lookup]', '', '']);
    expect(
      describeBlock({
        type: 'tool_result',
        toolUseId: 't',
        content: [
          { type: 'text', text: 'done' },
          { type: 'image', mediaType: 'image/gif', data: new Uint8Array(5000) },
        ],
      }),
    ).toBe('done\n[image/gif, 5 KB]');
  });
});
