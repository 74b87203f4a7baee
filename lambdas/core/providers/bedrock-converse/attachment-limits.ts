import { errors, GatewayError } from '../../openai/errors.js';
import type { ChatMessage } from '../../openai/types.js';
import type { CallContext } from '../types.js';

/**
 * Per-request attachment limits, the one place they are set. The counts are Bedrock Converse's own (20 images,
 * 5 documents per request); they are checked before anything is fetched or decoded, so a request Bedrock would
 * refuse anyway costs no fetches. Fetches of http(s) images run a few at a time and the decoded bytes of all
 * attachments (inline and fetched) share one cap.
 */
export const ATTACHMENT_LIMITS = Object.freeze({
  /** image_url parts (data: URL, bare base64 or http(s)) across all messages. */
  maxImages: 20,
  /** doc and file parts across all messages. */
  maxDocuments: 5,
  /** http(s) image fetches in flight at once, per request. */
  fetchConcurrency: 4,
  /** Decoded bytes of every image and document in one request. */
  maxTotalBytes: 32 * 1024 * 1024,
});

const MIB = 1024 * 1024;

/** Counts image and document parts in every message; 400 when a request carries more than Bedrock accepts. */
export function checkAttachmentCounts(messages: readonly ChatMessage[]): void {
  let images = 0;
  let documents = 0;
  for (const m of messages) {
    const content = (m as ChatMessage | null | undefined)?.content;
    if (!Array.isArray(content)) continue;
    for (const part of content) {
      const type = (part as { type?: unknown } | null | undefined)?.type;
      if (type === 'image_url') images += 1;
      else if (type === 'doc' || type === 'file') documents += 1;
    }
  }
  const { maxImages, maxDocuments } = ATTACHMENT_LIMITS;
  if (images > maxImages) {
    throw errors.badRequest(`A request may carry at most ${maxImages} images (image_url parts); this one has ${images}.`, 'messages');
  }
  if (documents > maxDocuments) {
    throw errors.badRequest(
      `A request may carry at most ${maxDocuments} documents (doc and file parts); this one has ${documents}.`,
      'messages',
    );
  }
}

const tooLarge = () =>
  errors.badRequest(
    `The attachments in this request exceed ${ATTACHMENT_LIMITS.maxTotalBytes / MIB} MiB in total; send fewer or smaller images and documents.`,
    'messages',
  );

/**
 * One request's attachment budget: a bounded-concurrency `fetchImage` and a running total of decoded bytes.
 * Once the total is exceeded, or the request has failed (close()), no further fetch starts.
 */
export class AttachmentBudget {
  private total = 0;
  private readonly charged = new WeakSet<Uint8Array>();
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private failure: GatewayError | undefined;

  constructor(private readonly fetchUpstream: CallContext['fetchImage']) {}

  /** Adds an attachment's decoded bytes (each buffer counted once); throws 400 past the cap. */
  charge(bytes: Uint8Array | undefined): void {
    if (!bytes || this.charged.has(bytes)) return;
    this.charged.add(bytes);
    this.total += bytes.length;
    if (this.total > ATTACHMENT_LIMITS.maxTotalBytes) {
      this.failure ??= tooLarge();
      throw this.failure;
    }
  }

  /** `fetchImage` with at most `fetchConcurrency` fetches in flight; the fetched bytes are charged before the slot frees. */
  readonly fetchImage: CallContext['fetchImage'] = async (url) => {
    await this.acquire();
    try {
      if (this.failure) throw this.failure;
      const fetched = await this.fetchUpstream(url);
      this.charge(fetched.bytes);
      return fetched;
    } finally {
      this.release();
    }
  };

  /** The request failed: fetches still queued are not started. */
  close(): void {
    this.failure ??= errors.badRequest('The request was refused before this attachment was fetched.', 'messages');
  }

  private async acquire(): Promise<void> {
    if (this.active < ATTACHMENT_LIMITS.fetchConcurrency) {
      this.active += 1;
      return;
    }
    // The releasing fetch hands its slot over, so `active` is unchanged.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }
}
