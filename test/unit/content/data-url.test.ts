import { describe, expect, it } from 'vitest';
import { decodeBase64, isDataUrl, parseDataUrl } from '../../../lambdas/core/content/data-url.js';

describe('parseDataUrl', () => {
  it('base64 payloads: bytes, the lower-cased media type, and that it was base64', () => {
    expect(parseDataUrl('data:Image/PNG;base64,AQID')).toEqual({ mediaType: 'image/png', bytes: Uint8Array.from([1, 2, 3]), base64: true });
    expect(parseDataUrl('DATA:;BASE64,AQID')).toEqual({ mediaType: '', bytes: Uint8Array.from([1, 2, 3]), base64: true });
  });

  it('percent-encoded payloads are text, marked as not base64', () => {
    expect(parseDataUrl('data:text/plain;charset=utf-8,h%C3%A9')).toEqual({
      mediaType: 'text/plain',
      bytes: new TextEncoder().encode('hé'),
      base64: false,
    });
  });

  it.each([
    ['no comma', 'data:image/png;base64'],
    ['an empty payload', 'data:image/png;base64,'],
    ['not base64', 'data:image/png;base64,@@@'],
    ['broken percent-encoding', 'data:text/plain,%E0%A4%A'],
    ['not a data URL', 'https://example.com/a,b'],
  ])('undefined for %s', (_, url) => {
    expect(parseDataUrl(url)).toBeUndefined();
  });
});

describe('decodeBase64', () => {
  it('standard and URL-safe alphabets, whitespace tolerated', () => {
    expect(decodeBase64('+/8=')).toEqual(Uint8Array.from([0xfb, 0xff]));
    expect(decodeBase64('-_8=')).toEqual(Uint8Array.from([0xfb, 0xff]));
    expect(decodeBase64(' AQ\nID ')).toEqual(Uint8Array.from([1, 2, 3]));
  });

  it('undefined for text that is not base64', () => {
    expect(decodeBase64('hello world!')).toBeUndefined();
    expect(decodeBase64('')).toBeUndefined();
  });

  it('isDataUrl looks at the scheme only', () => {
    expect(isDataUrl('Data:x')).toBe(true);
    expect(isDataUrl('https://x')).toBe(false);
  });
});
