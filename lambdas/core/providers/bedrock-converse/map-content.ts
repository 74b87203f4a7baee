import type { ContentBlock } from '@aws-sdk/client-bedrock-runtime';
import { errors } from '../../openai/errors.js';
import type { ChatMessage, ContentPart } from '../../openai/types.js';
import type { CallContext } from '../types.js';
import { type DocumentNames, mapDocPart, mapFilePart } from './map-document.js';
import { mapImageUrl } from './map-image.js';

/** Bedrock rejects text blocks that are empty or only whitespace. */
export const isBlank = (text: string) => text.trim() === '';

export interface UserContentContext {
  fetchImage: CallContext['fetchImage'];
  documents: DocumentNames;
}

/** A user message's content → Converse blocks (text, image, document); blank text is dropped. */
export async function mapUserContent(
  content: ChatMessage['content'],
  path: string,
  cx: UserContentContext,
): Promise<ContentBlock[]> {
  if (content == null) return [];
  if (typeof content === 'string') return isBlank(content) ? [] : [{ text: content }];
  if (!Array.isArray(content)) throw errors.badRequest(`${path}.content must be a string or an array of parts.`, path);
  // Started in order (document names are claimed synchronously), awaited together (image fetches overlap).
  const blocks = await Promise.all(content.map((part, j) => mapUserPart(part, `${path}.content[${j}]`, cx)));
  return blocks.filter((b): b is ContentBlock => b !== undefined);
}

// async so that every failure is a rejection Promise.all observes (no fetch is left with an unhandled rejection).
async function mapUserPart(part: ContentPart, path: string, cx: UserContentContext): Promise<ContentBlock | undefined> {
  switch (part?.type) {
    case 'text':
      return textBlock(part.text, path);
    case 'image_url':
      return mapImageUrl(part.image_url?.url, cx.fetchImage, path);
    case 'doc':
      return mapDocPart(part, cx.documents, path);
    case 'file':
      return mapFilePart(part, cx.documents, path);
    default:
      throw unsupportedPart(part, path);
  }
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
