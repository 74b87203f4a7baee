import type { ContentBlock } from '@aws-sdk/client-bedrock-runtime';
import { errors } from '../../openai/errors.js';
import type { ChatMessage, ContentPart } from '../../openai/types.js';
import type { AttachmentBudget } from './attachment-limits.js';
import { type DocumentNames, mapDocPart, mapFilePart } from './map-document.js';
import { mapImageUrl } from './map-image.js';

/** Bedrock rejects text blocks that are empty or only whitespace. */
export const isBlank = (text: string) => text.trim() === '';

export interface UserContentContext {
  /** Bounded-concurrency image fetches and the request's running total of attachment bytes. */
  attachments: AttachmentBudget;
  documents: DocumentNames;
}

/** A user message's content → Converse blocks (text, image, document); blank text is dropped. */
export async function mapUserContent(content: ChatMessage['content'], path: string, cx: UserContentContext): Promise<ContentBlock[]> {
  if (content == null) return [];
  if (typeof content === 'string') return isBlank(content) ? [] : [{ text: content }];
  if (!Array.isArray(content)) throw errors.badRequest(`${path}.content must be a string or an array of parts.`, path);
  // Started in order (document names are claimed synchronously), awaited together (image fetches overlap, at most
  // ATTACHMENT_LIMITS.fetchConcurrency at a time). On the first failure, fetches not yet started are dropped.
  const blocks = await Promise.all(content.map((part, j) => mapUserPart(part, `${path}.content[${j}]`, cx))).catch((e: unknown) => {
    cx.attachments.close();
    throw e;
  });
  return blocks.filter((b): b is ContentBlock => b !== undefined);
}

// async so that every failure is a rejection Promise.all observes (no fetch is left with an unhandled rejection).
async function mapUserPart(part: ContentPart, path: string, cx: UserContentContext): Promise<ContentBlock | undefined> {
  switch (part?.type) {
    case 'text':
      return textBlock(part.text, path);
    case 'image_url':
      return charged(await mapImageUrl(part.image_url?.url, cx.attachments.fetchImage, path), cx);
    case 'doc':
      return charged(mapDocPart(part, cx.documents, path), cx);
    case 'file':
      return charged(mapFilePart(part, cx.documents, path), cx);
    default:
      throw unsupportedPart(part, path);
  }
}

/** Counts an image or document block's bytes against the request's total (fetched bytes are counted once). */
function charged(block: ContentBlock, cx: UserContentContext): ContentBlock {
  cx.attachments.charge(block.image?.source?.bytes ?? block.document?.source?.bytes);
  return block;
}

function textBlock(text: unknown, path: string): ContentBlock | undefined {
  if (typeof text !== 'string') throw errors.badRequest(`${path}.text must be a string.`, path);
  return isBlank(text) ? undefined : { text };
}

/** The text of a system, developer, assistant or tool message, one entry per text part (blank ones included). */
export function textsOf(content: ChatMessage['content'], path: string): string[] {
  if (content == null) return [];
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) throw errors.badRequest(`${path}.content must be a string or an array of parts.`, path);
  return content.map((part, j) => {
    const at = `${path}.content[${j}]`;
    if (part?.type !== 'text') {
      throw errors.badRequest(`${at}: only text parts are allowed in this message role.`, at);
    }
    if (typeof part.text !== 'string') throw errors.badRequest(`${at}.text must be a string.`, at);
    return part.text;
  });
}

function unsupportedPart(part: unknown, path: string) {
  const type = (part as { type?: unknown } | null)?.type;
  return errors.badRequest(`${path}: unsupported content part type '${String(type)}'.`, path);
}
