/**
 * Downloads a message's images and files for the model, within limits checked before anything is fetched:
 *
 *   - at most MAX_IMAGES_PER_MESSAGE images and MAX_FILES_PER_MESSAGE files (what Bedrock's Converse API accepts in
 *     one request); a message with more is refused as a whole — an error card, no download, no model call;
 *   - every file type must be one the model reads (by name; Feishu often labels files application/octet-stream);
 *   - each attachment ≤ maxBytes, and all of them together ≤ maxTotalBytes: every download is capped at what is
 *     left of the budget and aborted (stream destroyed) as soon as it goes over.
 */
import type { DocumentBlock, ImageBlock } from '../chat/request.js';
import { DocumentNames, formatFromFilename } from '../content/documents.js';
import { checkDocumentBytes, checkImageBytes } from '../content/media.js';
import { type LarkClient, LarkResourceTooLargeError } from './lark-client.js';
import type { FeishuMessage } from './message.js';

export const MAX_IMAGES_PER_MESSAGE = 20;
export const MAX_FILES_PER_MESSAGE = 5;

const DOCUMENT_EXTENSIONS = new Set(['pdf', 'csv', 'doc', 'docx', 'xls', 'xlsx', 'html', 'htm', 'txt', 'md', 'markdown']);

/** An attachment problem the user can fix; becomes an error card with this title and message. */
export class AttachmentError extends Error {
  readonly title: string;
  constructor(title: string, message: string) {
    super(message);
    this.name = 'AttachmentError';
    this.title = title;
  }
}

export interface AttachmentLimits {
  /** Largest single image or file, bytes. */
  maxBytes: number;
  /** Largest sum of all attachments of one message, bytes. */
  maxTotalBytes: number;
}

const mb = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MB`;

export async function downloadAttachments(
  lark: Pick<LarkClient, 'downloadImage' | 'downloadFile'>,
  msg: Pick<FeishuMessage, 'messageId' | 'images' | 'files'>,
  limits: AttachmentLimits,
): Promise<{ blocks: Array<ImageBlock | DocumentBlock>; notes: string }> {
  for (const f of msg.files) {
    const ext = /\.([A-Za-z0-9]+)\s*$/.exec(f.fileName)?.[1]?.toLowerCase();
    if (!ext || !DOCUMENT_EXTENSIONS.has(ext)) {
      throw new AttachmentError(
        'Unsupported attachment · 不支持的附件',
        `"${f.fileName}" is not a file type the model can read. Supported: PDF, Word, Excel, CSV, HTML, TXT, Markdown.`,
      );
    }
  }
  if (msg.images.length > MAX_IMAGES_PER_MESSAGE || msg.files.length > MAX_FILES_PER_MESSAGE) {
    throw new AttachmentError(
      'Too many attachments · 附件过多',
      `This message has ${msg.images.length} image(s) and ${msg.files.length} file(s); I can read at most ${MAX_IMAGES_PER_MESSAGE} images and ${MAX_FILES_PER_MESSAGE} files per message. Please send fewer.\n\n每条消息最多 ${MAX_IMAGES_PER_MESSAGE} 张图片、${MAX_FILES_PER_MESSAGE} 个文件，请分开发送。`,
    );
  }

  let used = 0;
  const take = async <R extends { data: Buffer }>(get: (maxBytes: number) => Promise<R>): Promise<R> => {
    const left = limits.maxTotalBytes - used;
    const cap = Math.min(limits.maxBytes, left);
    try {
      if (cap <= 0) throw new LarkResourceTooLargeError(0);
      const r = await get(cap);
      used += r.data.length;
      return r;
    } catch (e) {
      // Over the per-message budget rather than the per-attachment limit: say so.
      if (e instanceof LarkResourceTooLargeError && cap < limits.maxBytes) {
        throw new AttachmentError(
          'Attachments too large · 附件过大',
          `Together the attachments of this message are larger than ${mb(limits.maxTotalBytes)}. Please send fewer or smaller ones.\n\n本条消息的附件合计超过 ${mb(limits.maxTotalBytes)}，请减少或压缩后再发送。`,
        );
      }
      throw e;
    }
  };

  const images: Array<{ data: Uint8Array; contentType: string }> = [];
  for (const img of msg.images) {
    const r = await take((maxBytes) => lark.downloadImage(msg.messageId, img.imageKey, { maxBytes }));
    images.push({
      data: new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength),
      contentType: r.contentType?.split(';')[0]?.trim() ?? '',
    });
  }
  const files: Uint8Array[] = [];
  for (const f of msg.files) {
    const r = await take((maxBytes) => lark.downloadFile(msg.messageId, f.fileKey, { maxBytes }));
    files.push(new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength));
  }

  // Everything is downloaded within the budget; now the bytes must be what they claim to be.
  const blocks: Array<ImageBlock | DocumentBlock> = [];
  const notes: string[] = [];
  const names = new DocumentNames();
  images.forEach(({ data, contentType }, i) => {
    blocks.push({ type: 'image', source: { type: 'bytes', mediaType: checkImageBytes(data, contentType, `image ${i + 1}`), data } });
    notes.push('[image]');
  });
  msg.files.forEach((f, i) => {
    // The name decides the format (Feishu often labels files application/octet-stream); checked above.
    const format = formatFromFilename(f.fileName)!;
    checkDocumentBytes(format, files[i], `"${f.fileName}"`);
    blocks.push({ type: 'document', format, name: names.claim(f.fileName), data: files[i] });
    notes.push(`[file: ${f.fileName}]`);
  });
  return { blocks, notes: notes.length ? `\n${notes.join(' ')}` : '' };
}
