import { describe, expect, it, vi } from 'vitest';
import { GatewayError } from '../../../lambdas/core/openai/errors.js';
import { mapImageUrl } from '../../../lambdas/core/providers/bedrock-converse/map-image.js';

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]);
const GIF = new TextEncoder().encode('GIF89a\x01\x00');
const WEBP = new TextEncoder().encode('RIFF\x10\x00\x00\x00WEBPVP8 ');
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const noFetch = () => Promise.reject(new Error('no fetch expected'));

describe('mapImageUrl', () => {
  it.each([
    [PNG, 'png'],
    [JPEG, 'jpeg'],
    [GIF, 'gif'],
    [WEBP, 'webp'],
  ])('%#: recognises %s bytes without any declared type', async (bytes, format) => {
    expect(await mapImageUrl(b64(bytes), noFetch, 'p')).toEqual({ image: { format, source: { bytes } } });
  });

  it('decodes a data URL with its declared type', async () => {
    const block = await mapImageUrl(`data:image/webp;base64,${b64(WEBP)}`, noFetch, 'p');
    expect(block).toEqual({ image: { format: 'webp', source: { bytes: WEBP } } });
  });

  it('trusts the bytes over a header that lies (png sent as jpeg)', async () => {
    const block = await mapImageUrl(`data:image/jpeg;base64,${b64(PNG)}`, noFetch, 'p');
    expect(block.image?.format).toBe('png');
  });

  it('sniffs a data URL without a media type, and bare base64', async () => {
    expect((await mapImageUrl(`data:;base64,${b64(GIF)}`, noFetch, 'p')).image?.format).toBe('gif');
    expect((await mapImageUrl(b64(JPEG), noFetch, 'p')).image?.format).toBe('jpeg');
  });

  it('fetches http(s) URLs through ctx.fetchImage only', async () => {
    const fetchImage = vi.fn().mockResolvedValue({ bytes: JPEG, mediaType: 'image/jpeg; charset=binary' });
    const block = await mapImageUrl('https://example.com/cat.jpg', fetchImage, 'p');
    expect(fetchImage).toHaveBeenCalledWith('https://example.com/cat.jpg');
    expect(block).toEqual({ image: { format: 'jpeg', source: { bytes: JPEG } } });
  });

  it('passes the fetcher GatewayErrors through and turns other failures into a 400', async () => {
    const refused = new GatewayError(400, 'Image URL host is not allowed.');
    await expect(mapImageUrl('http://169.254.169.254/x', () => Promise.reject(refused), 'p')).rejects.toBe(refused);
    await expect(mapImageUrl('https://example.com/x', () => Promise.reject(new Error('ECONNRESET')), 'p')).rejects.toMatchObject({
      status: 400,
    });
  });

  it.each([
    ['an unsupported format', `data:image/svg+xml;base64,${b64(new TextEncoder().encode('<svg/>'))}`],
    ['a malformed data URL', 'data:image/png;base64'],
    ['an empty data URL', 'data:image/png;base64,'],
    ['text that is neither URL nor base64', 'not an image!'],
    ['a missing url', undefined],
  ])('refuses %s with a 400', async (_, url) => {
    await expect(mapImageUrl(url, noFetch, 'messages[0].content[1]')).rejects.toMatchObject({
      status: 400,
      param: 'messages[0].content[1]',
    });
  });
});

describe('mapImageUrl on hostile data URLs', () => {
  it.each([
    ['no comma', `data:${'a'.repeat(200_000)}`],
    ['a long ;-separated header', `data:image/avif${';a'.repeat(100_000)},AAAA`],
    ['whitespace-riddled base64', `data:image/png;base64,${'A \n'.repeat(70_000)}!`],
  ])('%s: refused quickly with a 400', async (_label, url) => {
    const t = performance.now();
    await expect(mapImageUrl(url, noFetch, 'p')).rejects.toMatchObject({ status: 400 });
    expect(performance.now() - t).toBeLessThan(200);
  });
});
