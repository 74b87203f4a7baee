/**
 * Per-request attachment limits, the one place they are set, and the resolution of image URLs. The counts are
 * Bedrock's own (20 images, 5 documents per request) and are checked before anything is fetched; http(s) images
 * are then fetched through the SSRF guard a few at a time, with the request's abort signal, and the decoded bytes
 * of every attachment (inline and fetched) share one cap. Providers only ever see image bytes.
 */
import { checkImageBytes } from '../content/media.js';
import { errors, type GatewayError, isGatewayError } from '../errors.js';
import type { FetchedImage } from '../net/safe-fetch.js';
import type { ChatRequest, ImageBlock, Message } from './request.js';

export const ATTACHMENT_LIMITS = Object.freeze({
  /** Images (inline or URL) across all messages. */
  maxImages: 20,
  /** Documents across all messages. */
  maxDocuments: 5,
  /** http(s) image fetches in flight at once, per request. */
  fetchConcurrency: 4,
  /** Decoded bytes of every image and document in one request. */
  maxTotalBytes: 32 * 1024 * 1024,
});

const MIB = 1024 * 1024;

export type ImageFetcher = (url: string, signal?: AbortSignal) => Promise<FetchedImage>;

/** Images and documents of a request, counted (tool results' images included). */
export function countAttachments(req: Pick<ChatRequest, 'messages'>): { images: number; documents: number } {
  let images = 0;
  let documents = 0;
  for (const m of req.messages) {
    for (const b of m.content) {
      if (b.type === 'image') images += 1;
      else if (b.type === 'document') documents += 1;
      else if (b.type === 'tool_result') images += b.content.filter((c) => c.type === 'image').length;
    }
  }
  return { images, documents };
}

/** 400 when a request carries more than Bedrock accepts. `what` names the wire API's parts in the message. */
export function checkAttachmentCounts(
  counts: { images: number; documents: number },
  what: { images: string; documents: string } = { images: 'images', documents: 'documents' },
): void {
  const { maxImages, maxDocuments } = ATTACHMENT_LIMITS;
  if (counts.images > maxImages) {
    throw errors.badRequest(`A request may carry at most ${maxImages} images (${what.images}); this one has ${counts.images}.`, 'messages');
  }
  if (counts.documents > maxDocuments) {
    throw errors.badRequest(
      `A request may carry at most ${maxDocuments} documents (${what.documents}); this one has ${counts.documents}.`,
      'messages',
    );
  }
}

const tooLarge = () =>
  errors.badRequest(
    `The attachments in this request exceed ${ATTACHMENT_LIMITS.maxTotalBytes / MIB} MiB in total; send fewer or smaller images and documents.`,
    'messages',
  );

function inlineBytes(messages: Message[]): number {
  let total = 0;
  for (const m of messages) {
    for (const b of m.content) {
      if (b.type === 'image' && b.source.type === 'bytes') total += b.source.data.length;
      else if (b.type === 'document') total += b.data.length;
      else if (b.type === 'tool_result') for (const c of b.content) if (c.type === 'image') total += c.data.length;
    }
  }
  return total;
}

/**
 * The request with every image URL replaced by its fetched, checked bytes. Counts and the inline total are checked
 * first (no fetch for a request that is refused anyway); on the first failure no further fetch starts.
 */
export async function resolveAttachments(req: ChatRequest, fetchImage: ImageFetcher, signal?: AbortSignal): Promise<ChatRequest> {
  checkAttachmentCounts(countAttachments(req));
  let total = inlineBytes(req.messages);
  if (total > ATTACHMENT_LIMITS.maxTotalBytes) throw tooLarge();
  const pending: Array<{ block: ImageBlock; url: string; path: string }> = [];
  req.messages.forEach((m, i) =>
    m.content.forEach((b, j) => {
      if (b.type === 'image' && b.source.type === 'url')
        pending.push({ block: b, url: b.source.url, path: b.path ?? `${m.path ?? `messages[${i}]`}.content[${j}]` });
    }),
  );
  if (pending.length === 0) return req;

  const resolved = new Map<ImageBlock, ImageBlock>();
  let failure: GatewayError | undefined;
  let next = 0;
  const worker = async () => {
    while (!failure && next < pending.length) {
      const { block, url, path } = pending[next++];
      try {
        const fetched = await fetchImage(url, signal).catch((e: unknown) => {
          // A refused fetch names the part it was for, in the wire API's own terms (messages[…] or input[…]).
          throw isGatewayError(e) && e.kind === 'invalid_request' ? errors.badRequest(`${path}: ${e.message}`, path, e.code) : e;
        });
        total += fetched.bytes.length;
        if (total > ATTACHMENT_LIMITS.maxTotalBytes) throw tooLarge();
        const mediaType = checkImageBytes(fetched.bytes, fetched.mediaType, path);
        const { path: _where, ...rest } = block;
        resolved.set(block, { ...rest, source: { type: 'bytes', mediaType, data: fetched.bytes } });
      } catch (e) {
        failure ??= isGatewayError(e) ? e : errors.badRequest(`${path}: could not fetch the image URL.`, path);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(ATTACHMENT_LIMITS.fetchConcurrency, pending.length) }, worker));
  if (failure) throw failure;
  return {
    ...req,
    messages: req.messages.map((m) =>
      m.role === 'user' ? { ...m, content: m.content.map((b) => (b.type === 'image' ? (resolved.get(b) ?? b) : b)) } : m,
    ),
  };
}
