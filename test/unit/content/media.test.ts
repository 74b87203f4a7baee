import { describe, expect, it } from 'vitest';
import { checkDocumentBytes, checkImageBytes, DOCUMENT_FORMATS, sniffImageType } from '../../../lambdas/core/content/media.js';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 1, 2, 3]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1]);
const GIF = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1');
const GIF87 = Buffer.from('GIF87a\x01\x00', 'latin1');
const WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.from([26, 0, 0, 0]), Buffer.from('WEBPVP8 ')]);
const text = (s: string) => new TextEncoder().encode(s);

describe('sniffImageType', () => {
  it('sniffs magic bytes', () => {
    expect(sniffImageType(PNG)).toBe('image/png');
    expect(sniffImageType(JPEG)).toBe('image/jpeg');
    expect(sniffImageType(GIF)).toBe('image/gif');
    expect(sniffImageType(GIF87)).toBe('image/gif');
    expect(sniffImageType(WEBP)).toBe('image/webp');
    expect(sniffImageType(Buffer.from('RIFF\0\0\0\0WAVE'))).toBeNull();
    expect(sniffImageType(new Uint8Array())).toBeNull();
    expect(sniffImageType(PNG.subarray(0, 7))).toBeNull();
  });
});

describe('checkImageBytes', () => {
  it('returns the type the bytes have, whatever was declared', () => {
    expect(checkImageBytes(PNG, 'image/jpeg', 'p')).toBe('image/png');
    expect(checkImageBytes(WEBP, '', 'p')).toBe('image/webp');
  });

  it('refuses empty bytes and bytes that are no supported image, naming the part', () => {
    expect(() => checkImageBytes(new Uint8Array(), 'image/png', 'messages[0].content[2]')).toThrow(
      expect.objectContaining({ status: 400, param: 'messages[0].content[2]', message: expect.stringMatching(/empty/) }),
    );
    expect(() => checkImageBytes(text('<svg/>'), 'image/svg+xml', 'p')).toThrow(
      expect.objectContaining({
        status: 400,
        param: 'p',
        message: 'p: the bytes are not a PNG, JPEG, GIF or WebP image (declared image/svg+xml).',
      }),
    );
    expect(() => checkImageBytes(text('x'), '', 'p')).toThrow('p: the bytes are not a PNG, JPEG, GIF or WebP image.');
  });

  it('quotes at most 60 characters of a declared type', () => {
    let message = '';
    try {
      checkImageBytes(text('x'), `image/${'x'.repeat(500)}`, 'p');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.length).toBeLessThan(150);
  });
});

describe('checkDocumentBytes', () => {
  const ZIP = Uint8Array.from([0x50, 0x4b, 0x03, 0x04]);
  const OLE2 = Uint8Array.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

  it.each([
    ['pdf', text('%PDF-1.7\n')],
    ['docx', ZIP],
    ['xlsx', ZIP],
    ['doc', OLE2],
    ['xls', OLE2],
    ['txt', text('plain')],
    ['md', text('# Titel ü')],
    ['csv', text('a,b\n1,2')],
    ['html', text('<html></html>')],
  ] as const)('%s: accepts bytes of that format', (format, bytes) => {
    expect(() => checkDocumentBytes(format, bytes, 'p')).not.toThrow();
  });

  it.each([
    ['pdf', text('%PDF'), /not a PDF \(%PDF-\), as format 'pdf' says/], // the dash is part of the signature
    ['pdf', ZIP, /not a PDF/],
    ['docx', OLE2, /Office Open XML/],
    ['xls', ZIP, /legacy Office \(OLE2\)/],
    ['txt', Uint8Array.from([0x61, 0x00]), /UTF-8 text/],
    ['md', Uint8Array.from([0xc3, 0x28]), /UTF-8 text/],
    ['html', text('%PDF-1.7\n\u0000binary'), /UTF-8 text/],
  ] as const)('%s: refuses %s', (format, bytes, message) => {
    expect(() => checkDocumentBytes(format, bytes, 'p')).toThrow(
      expect.objectContaining({ status: 400, param: 'p', message: expect.stringMatching(message) }),
    );
  });

  it('refuses an empty document of any format', () => {
    for (const format of DOCUMENT_FORMATS) {
      expect(() => checkDocumentBytes(format, new Uint8Array(), 'p')).toThrow(/empty/);
    }
  });
});
