import type { ContentBlock, ImageFormat } from '@aws-sdk/client-bedrock-runtime';
import { errors, isGatewayError } from '../../openai/errors.js';
import type { CallContext } from '../types.js';
import { declaredMediaType, sniffImageType } from '../../net/safe-fetch.js';
import { decodeBase64, isDataUrl, parseDataUrl } from './data-url.js';

const FORMAT_BY_MEDIA_TYPE: Record<string, ImageFormat> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/**
 * An `image_url` (data: URL, bare base64 or http(s) URL fetched through the SSRF guard) → an image block.
 * The bytes decide the format; the declared media type is only a fallback, because clients often mislabel.
 */
export async function mapImageUrl(url: string | undefined, fetchImage: CallContext['fetchImage'], path: string): Promise<ContentBlock> {
  if (typeof url !== 'string' || url.trim() === '') throw errors.badRequest(`${path}.image_url.url is required.`, path);
  const { bytes, mediaType } = await loadImage(url.trim(), fetchImage, path);
  if (bytes.length === 0) throw errors.badRequest(`${path}: the image is empty.`, path);
  const format = FORMAT_BY_MEDIA_TYPE[sniffImageType(bytes) ?? declaredMediaType(mediaType)];
  if (!format) {
    const named = mediaType ? ` (${mediaType})` : '';
    throw errors.badRequest(`${path}: unsupported image format${named}; use png, jpeg, gif or webp.`, path);
  }
  return { image: { format, source: { bytes } } };
}

async function loadImage(url: string, fetchImage: CallContext['fetchImage'], path: string) {
  if (isDataUrl(url)) {
    const inline = parseDataUrl(url);
    if (!inline) throw errors.badRequest(`${path}: the image data URL is malformed or empty.`, path);
    return inline;
  }
  if (/^https?:\/\//i.test(url)) {
    try {
      const fetched = await fetchImage(url);
      return { bytes: fetched.bytes, mediaType: fetched.mediaType };
    } catch (e) {
      if (isGatewayError(e)) throw e;
      throw errors.badRequest(`${path}: could not fetch the image URL.`, path);
    }
  }
  const bytes = decodeBase64(url);
  if (!bytes || bytes.length === 0) {
    throw errors.badRequest(`${path}.image_url.url must be a data: URL, an http(s) URL or base64 image bytes.`, path);
  }
  return { bytes, mediaType: '' };
}
