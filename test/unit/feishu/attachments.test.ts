import { describe, expect, it } from 'vitest';
import {
  AttachmentError,
  downloadAttachments,
  MAX_FILES_PER_MESSAGE,
  MAX_IMAGES_PER_MESSAGE,
} from '../../../lambdas/core/feishu/attachments.js';
import { LarkResourceTooLargeError, type LarkResource } from '../../../lambdas/core/feishu/lark-client.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** `n` bytes that are what they claim to be (images and files are checked after the download): a PNG, a PDF. */
const realBytes = (kind: 'image' | 'file', n: number) => {
  const data = Buffer.alloc(n, 1);
  if (kind === 'image') data.set(PNG_SIGNATURE.slice(0, n));
  else data.write('%PDF-1.7\n'.slice(0, n));
  return data;
};

/** A stand-in for the Lark client: serves `size` bytes per key and honours maxBytes like the real one. */
function stubLark(size: (key: string) => number, bytes?: (kind: 'image' | 'file', n: number) => Buffer) {
  const calls: Array<{ kind: 'image' | 'file'; key: string; maxBytes: number | undefined }> = [];
  const serve =
    (kind: 'image' | 'file') =>
    (_m: string, key: string, o: { maxBytes?: number } = {}): Promise<LarkResource> => {
      calls.push({ kind, key, maxBytes: o.maxBytes });
      const n = size(key);
      if (o.maxBytes !== undefined && n > o.maxBytes) return Promise.reject(new LarkResourceTooLargeError(o.maxBytes));
      return Promise.resolve({
        data: (bytes ?? realBytes)(kind, n),
        contentType: kind === 'image' ? 'image/png' : undefined,
        fileName: undefined,
      });
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
    expect(r.blocks).toHaveLength(25);
    expect(r.blocks.filter((b) => b.type === 'image')).toHaveLength(20);
    expect(r.blocks[20]).toMatchObject({ type: 'document', format: 'pdf', name: 'doc 0' });
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

describe('downloadAttachments returns core blocks of checked bytes', () => {
  it('images by their real type, documents by the file name, with unique names', async () => {
    const { lark } = stubLark(() => 100);
    const r = await downloadAttachments(
      lark,
      {
        messageId: 'om_1',
        images: images(1),
        files: [
          { fileKey: 'a', fileName: 'Report.pdf' },
          { fileKey: 'b', fileName: 'report.PDF' },
        ],
      },
      limits,
    );
    expect(r.blocks.map((b) => (b.type === 'image' ? b.source : { format: b.format, name: b.name }))).toEqual([
      { type: 'bytes', mediaType: 'image/png', data: expect.any(Uint8Array) },
      { format: 'pdf', name: 'Report' },
      { format: 'pdf', name: 'report (2)' },
    ]);
    expect(r.notes).toBe('\n[image] [file: Report.pdf] [file: report.PDF]');
  });

  // Deliberate since the core request: downloaded bytes must be what they claim to be.
  it('an image that is no PNG, JPEG, GIF or WebP is refused (400), whatever Feishu labelled it', async () => {
    const { lark } = stubLark(
      () => 100,
      (_kind, n) => Buffer.alloc(n, 1),
    );
    await expect(downloadAttachments(lark, { messageId: 'om_1', images: images(2), files: [] }, limits)).rejects.toMatchObject({
      status: 400,
      message: 'image 1: the bytes are not a PNG, JPEG, GIF or WebP image (declared image/png).',
    });
  });

  it('a file whose bytes do not match its extension is refused (400), naming the file', async () => {
    const { lark } = stubLark(
      () => 100,
      (kind, n) => (kind === 'image' ? realBytes(kind, n) : Buffer.alloc(n, 1)),
    );
    await expect(downloadAttachments(lark, { messageId: 'om_1', images: [], files: files(1) }, limits)).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/^"doc 0\.pdf": the bytes are not a PDF/),
    });
  });
});
