import { describe, expect, it } from 'vitest';
import {
  AttachmentError,
  downloadAttachments,
  MAX_FILES_PER_MESSAGE,
  MAX_IMAGES_PER_MESSAGE,
} from '../../../lambdas/core/feishu/attachments.js';
import { LarkResourceTooLargeError, type LarkResource } from '../../../lambdas/core/feishu/lark-client.js';

/** A stand-in for the Lark client: serves `size` bytes per key and honours maxBytes like the real one. */
function stubLark(size: (key: string) => number) {
  const calls: Array<{ kind: 'image' | 'file'; key: string; maxBytes: number | undefined }> = [];
  const serve =
    (kind: 'image' | 'file') =>
    async (_m: string, key: string, o: { maxBytes?: number } = {}): Promise<LarkResource> => {
      calls.push({ kind, key, maxBytes: o.maxBytes });
      const n = size(key);
      if (o.maxBytes !== undefined && n > o.maxBytes) throw new LarkResourceTooLargeError(o.maxBytes);
      return { data: Buffer.alloc(n, 1), contentType: kind === 'image' ? 'image/png' : undefined, fileName: undefined };
    };
  return { calls, lark: { downloadImage: serve('image'), downloadFile: serve('file') } };
}

const images = (n: number) => Array.from({ length: n }, (_, i) => ({ imageKey: `img_${i}` }));
const files = (n: number) => Array.from({ length: n }, (_, i) => ({ fileKey: `file_${i}`, fileName: `doc ${i}.pdf` }));
const MB = 1024 * 1024;
const limits = { maxBytes: 10 * MB, maxTotalBytes: 32 * MB };

describe('downloadAttachments limits', () => {
  it('the per-message caps are what Bedrock accepts in one request', () => {
    expect(MAX_IMAGES_PER_MESSAGE).toBe(20);
    expect(MAX_FILES_PER_MESSAGE).toBe(5);
  });

  it(`takes up to ${MAX_IMAGES_PER_MESSAGE} images and ${MAX_FILES_PER_MESSAGE} files`, async () => {
    const { lark, calls } = stubLark(() => 1000);
    const r = await downloadAttachments(lark, { messageId: 'om_1', images: images(20), files: files(5) }, limits);
    expect(r.parts).toHaveLength(25);
    expect(calls).toHaveLength(25);
    expect(r.notes).toContain('[file: doc 4.pdf]');
  });

  it('refuses a message with too many images or files before downloading anything', async () => {
    for (const msg of [
      { messageId: 'om_1', images: images(21), files: [] },
      { messageId: 'om_1', images: [], files: files(6) },
      { messageId: 'om_1', images: images(500), files: files(1) },
    ]) {
      const { lark, calls } = stubLark(() => 10);
      const err = await downloadAttachments(lark, msg, limits).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AttachmentError);
      expect((err as AttachmentError).title).toContain('Too many attachments');
      expect((err as Error).message).toContain('at most 20 images and 5 files');
      expect(calls).toEqual([]);
    }
  });

  it('stops at the per-message byte budget: each download is capped at what is left', async () => {
    // 4 images of 9 MB: 3 fit in 32 MB (27 MB), the 4th may only use the 5 MB left.
    const { lark, calls } = stubLark(() => 9 * MB);
    const err = await downloadAttachments(lark, { messageId: 'om_1', images: images(4), files: [] }, limits).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AttachmentError);
    expect((err as AttachmentError).title).toContain('Attachments too large');
    expect((err as Error).message).toContain('32 MB');
    expect(calls.map((c) => c.maxBytes)).toEqual([10 * MB, 10 * MB, 10 * MB, 5 * MB]);

    // budget exhausted exactly: the next attachment is not even requested
    const exact = stubLark(() => 16 * MB);
    const e2 = await downloadAttachments(
      exact.lark,
      { messageId: 'om_1', images: [], files: files(3) },
      { maxBytes: 16 * MB, maxTotalBytes: 32 * MB },
    ).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(AttachmentError);
    expect(exact.calls).toHaveLength(2);
  });

  it('a single attachment over the per-attachment limit is still that error', async () => {
    const { lark } = stubLark(() => 11 * MB);
    await expect(downloadAttachments(lark, { messageId: 'om_1', images: images(1), files: [] }, limits)).rejects.toBeInstanceOf(
      LarkResourceTooLargeError,
    );
  });

  it('checks file types before counting or downloading', async () => {
    const { lark, calls } = stubLark(() => 10);
    const err = await downloadAttachments(
      lark,
      { messageId: 'om_1', images: [], files: [{ fileKey: 'f', fileName: 'code.zip' }] },
      limits,
    ).catch((e: unknown) => e);
    expect((err as AttachmentError).title).toContain('Unsupported attachment');
    expect(calls).toEqual([]);
  });
});
