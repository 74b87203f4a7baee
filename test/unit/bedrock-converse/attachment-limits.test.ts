import { describe, expect, it, vi } from 'vitest';
import type { ChatMessage, ContentPart } from '../../../lambdas/core/openai/types.js';
import type { FetchedImage } from '../../../lambdas/core/providers/types.js';
import { ATTACHMENT_LIMITS } from '../../../lambdas/core/providers/bedrock-converse/attachment-limits.js';
import { mapMessages } from '../../../lambdas/core/providers/bedrock-converse/map-messages.js';

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
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
const map = (messages: ChatMessage[], fetchImage: (url: string) => Promise<FetchedImage>) =>
  mapMessages(messages, { fetchImage, includeReasoning: false });

describe('attachment limits', () => {
  it('match Bedrock Converse: 20 images, 5 documents, 4 concurrent fetches', () => {
    expect(ATTACHMENT_LIMITS).toMatchObject({ maxImages: 20, maxDocuments: 5, fetchConcurrency: 4 });
    expect(ATTACHMENT_LIMITS.maxTotalBytes).toBeGreaterThan(0);
  });

  it('300 http(s) images are refused before a single fetch starts', async () => {
    const fetchImage = vi.fn(async () => fetched());
    const parts = Array.from({ length: 300 }, (_, i) => httpImage(i));
    await expect(map([user(parts)], fetchImage)).rejects.toMatchObject({
      status: 400,
      param: 'messages',
      message: expect.stringMatching(/at most 20 images/),
    });
    expect(fetchImage).not.toHaveBeenCalled();
  });

  it('counts images across messages and across kinds (data:, base64, http)', async () => {
    const fetchImage = vi.fn(async () => fetched());
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
    expect(out.messages[2]!.content!.filter((b) => b.image)).toHaveLength(10);
  });

  it('refuses more than 5 documents (doc and file parts together)', async () => {
    const parts = [docPart(1), docPart(2), docPart(3), filePart(4), filePart(5), filePart(6)];
    await expect(map([user(parts)], vi.fn())).rejects.toMatchObject({
      status: 400,
      param: 'messages',
      message: expect.stringMatching(/at most 5 documents/),
    });
    await expect(map([user(parts.slice(0, 5))], vi.fn())).resolves.toBeDefined();
  });

  it('fetches http(s) images with bounded concurrency and keeps their order', async () => {
    let active = 0;
    let peak = 0;
    const fetchImage = vi.fn(async () => {
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
    expect(out.messages[0]!.content!.map((b) => Object.keys(b)[0])).toEqual(['text', ...Array(12).fill('image')]);
  });

  it('refuses a request whose attachments decode to more than the byte cap, and stops fetching', async () => {
    const big = new Uint8Array(10 * 1024 * 1024);
    big.set(PNG);
    const fetchImage = vi.fn(async () => {
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
    const parts = [
      { type: 'doc' as const, doc: { name: 'a', format: 'pdf', source: { bytes: b64(big) } } },
      { type: 'doc' as const, doc: { name: 'b', format: 'pdf', source: { bytes: b64(big) } } },
    ];
    expect(await failureOf(map([user(parts)], vi.fn()))).toMatchObject({ status: 400, param: 'messages' });
  });
});
