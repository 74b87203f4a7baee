import { describe, expect, it, vi } from 'vitest';
import {
  ATTACHMENT_LIMITS,
  checkAttachmentCounts,
  countAttachments,
  type ImageFetcher,
  resolveAttachments,
} from '../../../lambdas/core/chat/attachments.js';
import type { ChatRequest, ImageBlock } from '../../../lambdas/core/chat/request.js';
import { GatewayError } from '../../../lambdas/core/errors.js';
import type { FetchedImage } from '../../../lambdas/core/net/safe-fetch.js';
import { mapMessages } from '../../../lambdas/core/providers/bedrock-converse/map-messages.js';
import { decodeChatCompletion } from '../../../lambdas/core/wire/openai-chat/decode.js';
import type { ChatMessage, ContentPart } from '../../../lambdas/core/wire/openai-chat/types.js';

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]);
const PDF = new TextEncoder().encode('%PDF-1.7\n');
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const dataImage = (): ContentPart => ({ type: 'image_url', image_url: { url: `data:image/png;base64,${b64(PNG)}` } });
const httpImage = (i: number): ContentPart => ({ type: 'image_url', image_url: { url: `https://example.com/${i}.png` } });
const filePart = (i: number): ContentPart => ({
  type: 'file',
  file: { filename: `f${i}.pdf`, file_data: `data:application/pdf;base64,${b64(PDF)}` },
});
const docPart = (i: number): ContentPart => ({ type: 'doc', doc: { name: `d${i}`, format: 'pdf', source: { bytes: b64(PDF) } } });
const user = (parts: ContentPart[]): ChatMessage => ({ role: 'user', content: [{ type: 'text', text: 'look' }, ...parts] });
const fetched = (bytes: Uint8Array = PNG): FetchedImage => ({ bytes, mediaType: 'image/png' });
/** The rejection, or a small marker on success (a resolved value full of MiB buffers must never be printed). */
const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => e,
  );
/**
 * The path an OpenAI request takes to Converse: decoded (counts checked first), attachments resolved (URLs
 * fetched, bytes capped), then mapped.
 */
const map = async (messages: ChatMessage[], fetchImage: ImageFetcher) =>
  mapMessages(await resolveAttachments(decodeChatCompletion({ model: 'm', messages }), fetchImage), { includeReasoning: false });

describe('attachment limits', () => {
  it('match Bedrock Converse: 20 images, 5 documents, 4 concurrent fetches', () => {
    expect(ATTACHMENT_LIMITS).toMatchObject({ maxImages: 20, maxDocuments: 5, fetchConcurrency: 4 });
    expect(ATTACHMENT_LIMITS.maxTotalBytes).toBeGreaterThan(0);
  });

  it('300 http(s) images are refused before a single fetch starts', async () => {
    const fetchImage = vi.fn<ImageFetcher>(() => Promise.resolve(fetched()));
    const parts = Array.from({ length: 300 }, (_, i) => httpImage(i));
    await expect(map([user(parts)], fetchImage)).rejects.toMatchObject({
      status: 400,
      param: 'messages',
      message: expect.stringMatching(/at most 20 images/),
    });
    expect(fetchImage).not.toHaveBeenCalled();
  });

  it('counts images across messages and across kinds (data:, base64, http)', async () => {
    const fetchImage = vi.fn<ImageFetcher>(() => Promise.resolve(fetched()));
    const messages: ChatMessage[] = [
      user(Array.from({ length: 10 }, () => dataImage())),
      { role: 'assistant', content: 'ok' },
      user([...Array.from({ length: 10 }, (_, i) => httpImage(i)), { type: 'image_url', image_url: { url: b64(PNG) } }]),
    ];
    await expect(map(messages, fetchImage)).rejects.toMatchObject({ status: 400, param: 'messages' });
    expect(fetchImage).not.toHaveBeenCalled();
    // Exactly 20 is fine.
    messages[2] = user(Array.from({ length: 10 }, (_, i) => httpImage(i)));
    const out = await map(messages, fetchImage);
    expect(out.messages[2].content!.filter((b) => b.image)).toHaveLength(10);
  });

  it('refuses more than 5 documents (doc and file parts together)', async () => {
    const parts = [docPart(1), docPart(2), docPart(3), filePart(4), filePart(5), filePart(6)];
    await expect(map([user(parts)], vi.fn<ImageFetcher>())).rejects.toMatchObject({
      status: 400,
      param: 'messages',
      message: expect.stringMatching(/at most 5 documents/),
    });
    await expect(map([user(parts.slice(0, 5))], vi.fn<ImageFetcher>())).resolves.toBeDefined();
  });

  it('fetches http(s) images with bounded concurrency and keeps their order', async () => {
    let active = 0;
    let peak = 0;
    const fetchImage = vi.fn<ImageFetcher>(async () => {
      active += 1;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      active -= 1;
      return fetched();
    });
    const messages = [
      user(Array.from({ length: 12 }, (_, i) => httpImage(i))),
      { role: 'assistant' as const, content: 'ok' },
      user(Array.from({ length: 8 }, (_, i) => httpImage(100 + i))),
    ];
    const out = await map(messages, fetchImage);
    expect(fetchImage).toHaveBeenCalledTimes(20);
    expect(peak).toBeLessThanOrEqual(ATTACHMENT_LIMITS.fetchConcurrency);
    expect(peak).toBeGreaterThan(1);
    expect(out.messages[0].content!.map((b) => Object.keys(b)[0])).toEqual(['text', ...Array<string>(12).fill('image')]);
  });

  it('refuses a request whose attachments decode to more than the byte cap, and stops fetching', async () => {
    const big = new Uint8Array(10 * 1024 * 1024);
    big.set(PNG);
    const fetchImage = vi.fn<ImageFetcher>(async () => {
      await new Promise((r) => setTimeout(r, 2));
      return fetched(big.slice()); // a fresh buffer per fetch, as from the network
    });
    const parts = Array.from({ length: 20 }, (_, i) => httpImage(i));
    expect(await failureOf(map([user(parts)], fetchImage))).toMatchObject({
      status: 400,
      param: 'messages',
      message: expect.stringMatching(/MiB/),
    });
    await new Promise((r) => setTimeout(r, 50));
    const needed = Math.floor(ATTACHMENT_LIMITS.maxTotalBytes / big.length) + 1;
    expect(fetchImage.mock.calls.length).toBeLessThanOrEqual(needed + ATTACHMENT_LIMITS.fetchConcurrency);
    expect(fetchImage.mock.calls.length).toBeLessThan(20);
  });

  it('counts inline bytes too', async () => {
    const big = new Uint8Array(ATTACHMENT_LIMITS.maxTotalBytes / 2 + 1);
    big.set(PDF);
    const parts: ContentPart[] = [
      { type: 'doc', doc: { name: 'a', format: 'pdf', source: { bytes: b64(big) } } },
      { type: 'doc', doc: { name: 'b', format: 'pdf', source: { bytes: b64(big) } } },
    ];
    const fetchImage = vi.fn<ImageFetcher>();
    expect(await failureOf(map([user(parts)], fetchImage))).toMatchObject({ status: 400, param: 'messages' });
    expect(fetchImage).not.toHaveBeenCalled();
  });
});

describe('image URLs', () => {
  const oneImage = (url: string) => decodeChatCompletion({ model: 'm', messages: [user([{ type: 'image_url', image_url: { url } }])] });
  const imageOf = (req: ChatRequest): ImageBlock => req.messages[0].content.find((b): b is ImageBlock => b.type === 'image')!;

  it("are fetched through the fetcher only, with the request's abort signal, and replaced by the checked bytes", async () => {
    const fetchImage = vi.fn<ImageFetcher>().mockResolvedValue({ bytes: JPEG, mediaType: 'image/jpeg; charset=binary' });
    const signal = new AbortController().signal;
    const req = oneImage('https://example.com/cat.jpg');
    const out = await resolveAttachments(req, fetchImage, signal);
    expect(fetchImage).toHaveBeenCalledWith('https://example.com/cat.jpg', signal);
    expect(imageOf(out)).toEqual({ type: 'image', source: { type: 'bytes', mediaType: 'image/jpeg', data: JPEG } });
    expect(imageOf(req).source).toEqual({ type: 'url', url: 'https://example.com/cat.jpg' }); // the input is not changed
  });

  it('names the part in the fetcher’s refusals and turns other failures into a 400 naming the part', async () => {
    const refused = new GatewayError(400, 'Image URL host is not allowed.', { code: 'invalid_image_url' });
    await expect(resolveAttachments(oneImage('http://169.254.169.254/x'), () => Promise.reject(refused))).rejects.toMatchObject({
      status: 400,
      param: 'messages[0].content[1]',
      code: 'invalid_image_url',
      message: 'messages[0].content[1]: Image URL host is not allowed.',
    });
    const unavailable = new GatewayError(503, 'Store down.');
    await expect(resolveAttachments(oneImage('https://example.com/x'), () => Promise.reject(unavailable))).rejects.toBe(unavailable);
    await expect(
      resolveAttachments(oneImage('https://example.com/x'), () => Promise.reject(new Error('ECONNRESET'))),
    ).rejects.toMatchObject({
      status: 400,
      param: 'messages[0].content[1]',
      message: expect.not.stringContaining('ECONNRESET'),
    });
  });

  it('names the part as the client sent it, even when blank text before it was dropped', async () => {
    const req = decodeChatCompletion({
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: ' ' },
            { type: 'image_url', image_url: { url: 'https://example.com/x.png' } },
          ],
        },
      ],
    });
    await expect(resolveAttachments(req, () => Promise.reject(new Error('ECONNRESET')))).rejects.toMatchObject({
      status: 400,
      param: 'messages[0].content[1]',
    });
  });

  it('fetched bytes must be a real image too (the type the server claimed does not count)', async () => {
    const fetchImage: ImageFetcher = () => Promise.resolve({ bytes: new TextEncoder().encode('<html>'), mediaType: 'image/png' });
    await expect(resolveAttachments(oneImage('https://example.com/x.png'), fetchImage)).rejects.toMatchObject({
      status: 400,
      param: 'messages[0].content[1]',
      message: expect.stringMatching(/not a PNG, JPEG, GIF or WebP/),
    });
    const lying: ImageFetcher = () => Promise.resolve({ bytes: PNG, mediaType: 'image/jpeg' });
    expect(imageOf(await resolveAttachments(oneImage('https://example.com/x.jpg'), lying)).source).toMatchObject({
      mediaType: 'image/png',
    });
  });

  it('a request without URLs is returned as it is, and nothing is fetched', async () => {
    const fetchImage = vi.fn<ImageFetcher>();
    const req = decodeChatCompletion({ model: 'm', messages: [user([dataImage()])] });
    expect(await resolveAttachments(req, fetchImage)).toBe(req);
    expect(fetchImage).not.toHaveBeenCalled();
  });
});

describe('counting core requests', () => {
  const core = (messages: ChatRequest['messages']): ChatRequest => ({ system: [], messages, tools: [], stream: false });

  it('counts images in tool results, documents and images in user turns', () => {
    const req = core([
      {
        role: 'user',
        content: [
          { type: 'image', source: { type: 'url', url: 'https://x/a.png' } },
          { type: 'document', format: 'pdf', name: 'a', data: PDF },
          {
            type: 'tool_result',
            toolUseId: 't',
            content: [
              { type: 'image', mediaType: 'image/png', data: PNG },
              { type: 'text', text: 'x' },
            ],
          },
        ],
      },
    ]);
    expect(countAttachments(req)).toEqual({ images: 2, documents: 1 });
  });

  it('resolveAttachments checks the counts of any core request, naming the wire parts when told', async () => {
    const many = core([
      {
        role: 'user',
        content: Array.from({ length: 21 }, () => ({
          type: 'image' as const,
          source: { type: 'bytes' as const, mediaType: 'image/png' as const, data: PNG },
        })),
      },
    ]);
    await expect(resolveAttachments(many, vi.fn<ImageFetcher>())).rejects.toMatchObject({ status: 400, param: 'messages' });
    expect(() => checkAttachmentCounts({ images: 0, documents: 6 }, { images: 'image blocks', documents: 'document blocks' })).toThrow(
      'A request may carry at most 5 documents (document blocks); this one has 6.',
    );
    expect(() => checkAttachmentCounts({ images: 20, documents: 5 })).not.toThrow();
  });
});
