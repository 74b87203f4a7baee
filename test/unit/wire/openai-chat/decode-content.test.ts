import { describe, expect, it } from 'vitest';
import { DocumentNames } from '../../../../lambdas/core/content/documents.js';
import {
  decodeDocPart,
  decodeFilePart,
  decodeImageUrl,
  decodeUserContent,
  textsOf,
} from '../../../../lambdas/core/wire/openai-chat/decode-content.js';
import type { DocPart, FilePart } from '../../../../lambdas/core/wire/openai-chat/types.js';

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]);
const GIF = new TextEncoder().encode('GIF89a\x01\x00');
const WEBP = new TextEncoder().encode('RIFF\x10\x00\x00\x00WEBPVP8 ');
const PDF = new TextEncoder().encode('%PDF-1.7\n');
/** The start of an Office Open XML file (a ZIP local file header). */
const ZIP = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]);
/** The start of a legacy Office file (an OLE2 compound file). */
const OLE2 = Uint8Array.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]);
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const image = (mediaType: string, data: Uint8Array) => ({ type: 'image', source: { type: 'bytes', mediaType, data } });

describe('decodeImageUrl', () => {
  it.each([
    [PNG, 'image/png'],
    [JPEG, 'image/jpeg'],
    [GIF, 'image/gif'],
    [WEBP, 'image/webp'],
  ])('%#: recognises %s bytes without any declared type', (bytes, mediaType) => {
    expect(decodeImageUrl(b64(bytes), 'p')).toEqual(image(mediaType, bytes));
  });

  it('decodes a data URL with its declared type', () => {
    expect(decodeImageUrl(`data:image/webp;base64,${b64(WEBP)}`, 'p')).toEqual(image('image/webp', WEBP));
  });

  it('trusts the bytes over a header that lies (png sent as jpeg)', () => {
    const block = decodeImageUrl(`data:image/jpeg;base64,${b64(PNG)}`, 'p');
    expect(block.source).toMatchObject({ type: 'bytes', mediaType: 'image/png' });
  });

  it('sniffs a data URL without a media type, and bare base64', () => {
    expect(decodeImageUrl(`data:;base64,${b64(GIF)}`, 'p').source).toMatchObject({ mediaType: 'image/gif' });
    expect(decodeImageUrl(b64(JPEG), 'p').source).toMatchObject({ mediaType: 'image/jpeg' });
  });

  it('leaves http(s) URLs for the pipeline to fetch (nothing is fetched while decoding)', () => {
    expect(decodeImageUrl(' https://example.com/cat.jpg ', 'p')).toEqual({
      type: 'image',
      source: { type: 'url', url: 'https://example.com/cat.jpg' },
      path: 'p',
    });
    expect(decodeImageUrl('HTTP://example.com/a.png', 'p').source).toEqual({ type: 'url', url: 'HTTP://example.com/a.png' });
  });

  it.each([
    ['an unsupported format', `data:image/svg+xml;base64,${b64(new TextEncoder().encode('<svg/>'))}`],
    ['a malformed data URL', 'data:image/png;base64'],
    ['an empty data URL', 'data:image/png;base64,'],
    ['text that is neither URL nor base64', 'not an image!'],
    ['a missing url', undefined],
    ['a blank url', '  '],
  ])('refuses %s with a 400', (_, url) => {
    expect(() => decodeImageUrl(url, 'messages[0].content[1]')).toThrow(
      expect.objectContaining({ status: 400, param: 'messages[0].content[1]' }),
    );
  });

  // Deliberate since the core request: image bytes must really be an image, and image data URLs base64.
  it('refuses bytes that are no PNG, JPEG, GIF or WebP, whatever the header says', () => {
    expect(() => decodeImageUrl(`data:image/png;base64,${b64(new TextEncoder().encode('not really a png'))}`, 'p')).toThrow(
      expect.objectContaining({
        status: 400,
        param: 'p',
        message: expect.stringMatching(/not a PNG, JPEG, GIF or WebP image \(declared image\/png\)/),
      }),
    );
    expect(() => decodeImageUrl(b64(Uint8Array.from([0, 0, 0, 13])), 'p')).toThrow(/not a PNG, JPEG, GIF or WebP/);
  });

  it('refuses a data URL that is not base64 (percent-encoded bytes)', () => {
    const percent = `data:image/png,${encodeURIComponent(Buffer.from(PNG).toString('latin1'))}`;
    expect(() => decodeImageUrl(percent, 'p')).toThrow(
      expect.objectContaining({ status: 400, message: expect.stringMatching(/must be base64/) }),
    );
  });
});

describe('decodeImageUrl on hostile data URLs', () => {
  it.each([
    ['no comma', `data:${'a'.repeat(200_000)}`],
    ['a long ;-separated header', `data:image/avif${';a'.repeat(100_000)},AAAA`],
    ['whitespace-riddled base64', `data:image/png;base64,${'A \n'.repeat(70_000)}!`],
  ])('%s: refused quickly with a 400', (_label, url) => {
    const t = performance.now();
    expect(() => decodeImageUrl(url, 'p')).toThrow(expect.objectContaining({ status: 400 }));
    expect(performance.now() - t).toBeLessThan(200);
  });
});

const asIndexMap = (b: Uint8Array) => Object.fromEntries([...b].map((v, i) => [String(i), v]));
const doc = (d: Partial<DocPart['doc']>): DocPart => ({ type: 'doc', doc: { source: { bytes: asIndexMap(PDF) }, ...d } });
const file = (f: FilePart['file']): FilePart => ({ type: 'file', file: f });

describe('decodeDocPart (seed doc part)', () => {
  it.each([
    ['an index→byte map', asIndexMap(PDF)],
    ['a byte array', [...PDF]],
    ['base64', b64(PDF)],
    ['a base64 data URL', `data:application/pdf;base64,${b64(PDF)}`],
  ])('decodes bytes given as %s', (_, bytes) => {
    const block = decodeDocPart(doc({ name: 'spec.pdf', format: 'pdf', source: { bytes } }), new DocumentNames(), 'p');
    expect(block).toEqual({ type: 'document', format: 'pdf', name: 'spec', data: PDF });
  });

  it('takes the format from doc.format, else the name, else the PDF signature', () => {
    expect(decodeDocPart(doc({ format: 'Markdown' }), new DocumentNames(), 'p').format).toBe('md');
    expect(decodeDocPart(doc({ name: 'table.csv' }), new DocumentNames(), 'p').format).toBe('csv');
    expect(decodeDocPart(doc({}), new DocumentNames(), 'p')).toMatchObject({ format: 'pdf', name: 'document-1' });
  });

  it.each([
    ['an unsupported format', doc({ format: 'exe' })],
    ['no recognisable format', doc({ source: { bytes: [1, 2, 3] } })],
    ['a gap in the index map', doc({ format: 'txt', source: { bytes: { 0: 65, 2: 66 } } })],
    ['a value that is not a byte', doc({ format: 'txt', source: { bytes: [65, 300] } })],
    ['empty bytes', doc({ format: 'txt', source: { bytes: [] } })],
    ['text that is not base64', doc({ format: 'txt', source: { bytes: 'hello world!' } })],
    ['a data URL that is not base64', doc({ format: 'txt', source: { bytes: 'data:text/plain,hello' } })],
  ])('refuses %s with a 400', (_, part) => {
    expect(() => decodeDocPart(part, new DocumentNames(), 'messages[0].content[0]')).toThrow(expect.objectContaining({ status: 400 }));
  });

  // Deliberate since the core request: the bytes must be what the format says.
  it.each([
    ['pdf', new TextEncoder().encode('hello'), /not a PDF/],
    ['docx', PDF, /not an Office Open XML \(ZIP\) file/],
    ['xlsx', OLE2, /not an Office Open XML \(ZIP\) file/],
    ['doc', ZIP, /not a legacy Office \(OLE2\) file/],
    ['xls', PDF, /not a legacy Office \(OLE2\) file/],
    ['txt', Uint8Array.from([0x68, 0x00, 0x69]), /not UTF-8 text/],
    ['csv', Uint8Array.from([0xff, 0xfe, 0x41]), /not UTF-8 text/],
  ])('refuses %s whose bytes do not match', (format, bytes, message) => {
    expect(() => decodeDocPart(doc({ format, source: { bytes: [...bytes] } }), new DocumentNames(), 'p')).toThrow(
      expect.objectContaining({ status: 400, param: 'p', message: expect.stringMatching(message) }),
    );
  });

  it.each([
    ['docx', ZIP],
    ['xlsx', ZIP],
    ['doc', OLE2],
    ['xls', OLE2],
    ['html', new TextEncoder().encode('<p>héllo</p>')],
  ])('accepts %s with matching bytes', (format, bytes) => {
    expect(decodeDocPart(doc({ format, source: { bytes: [...bytes] } }), new DocumentNames(), 'p')).toMatchObject({ format, data: bytes });
  });
});

describe('decodeFilePart (OpenAI file part)', () => {
  it('reads a data URL and takes the format from its media type', () => {
    const block = decodeFilePart(file({ file_data: `data:text/csv;base64,${b64(PDF)}`, filename: 'data.csv' }), new DocumentNames(), 'p');
    expect(block).toEqual({ type: 'document', format: 'csv', name: 'data', data: PDF });
  });

  it('reads bare base64, format from the filename extension, PDF by default', () => {
    expect(decodeFilePart(file({ file_data: b64(ZIP), filename: 'sheet.xlsx' }), new DocumentNames(), 'p').format).toBe('xlsx');
    expect(decodeFilePart(file({ file_data: b64(PDF) }), new DocumentNames(), 'p')).toMatchObject({ format: 'pdf', name: 'document-1' });
  });

  it('an octet-stream media type defers to the filename', () => {
    expect(
      decodeFilePart(
        file({ file_data: `data:application/octet-stream;base64,${b64(OLE2)}`, filename: 'old.doc' }),
        new DocumentNames(),
        'p',
      ).format,
    ).toBe('doc');
  });

  it('refuses file_id, a non-document media type and undecodable data', () => {
    const names = new DocumentNames();
    expect(() => decodeFilePart(file({ file_id: 'file-abc' }), names, 'p')).toThrow(/file_id/);
    expect(() => decodeFilePart(file({ file_data: `data:image/png;base64,${b64(PDF)}` }), names, 'p')).toThrow(
      /unsupported document format/,
    );
    expect(() => decodeFilePart(file({ file_data: '%%%' }), names, 'p')).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => decodeFilePart(file({}), names, 'p')).toThrow(/file_data is required/);
  });

  it('a text document may come percent-encoded; a binary one must be base64', () => {
    expect(decodeFilePart(file({ file_data: 'data:text/plain,hello%20world', filename: 'a.txt' }), new DocumentNames(), 'p')).toEqual({
      type: 'document',
      format: 'txt',
      name: 'a',
      data: new TextEncoder().encode('hello world'),
    });
    expect(() =>
      decodeFilePart(file({ file_data: 'data:application/pdf,%25PDF-1.7', filename: 'a.pdf' }), new DocumentNames(), 'p'),
    ).toThrow(/a pdf document must be base64/);
  });

  // Deliberate since the core request: the bytes must be what the format says.
  it('refuses a PDF whose bytes are no PDF, and a spreadsheet that is no ZIP', () => {
    expect(() =>
      decodeFilePart(file({ file_data: `data:application/pdf;base64,${b64(new Uint8Array(64))}` }), new DocumentNames(), 'p'),
    ).toThrow(/not a PDF/);
    expect(() => decodeFilePart(file({ file_data: b64(PDF), filename: 'sheet.xlsx' }), new DocumentNames(), 'p')).toThrow(
      /not an Office Open XML/,
    );
  });

  it('a 200 KB hostile filename is handled quickly', () => {
    const data = `data:;base64,${b64(PDF)}`;
    for (const filename of [`a${'- '.repeat(100_000)}b`, `x.${'a'.repeat(100_000)}${' '.repeat(100_000)}!`]) {
      const t = performance.now();
      decodeFilePart(file({ filename, file_data: data }), new DocumentNames(), 'p');
      expect(performance.now() - t).toBeLessThan(200);
    }
  });
});

describe('decodeUserContent and textsOf', () => {
  it('user content: a string or parts, blank text dropped, each part decoded with its path', () => {
    const names = new DocumentNames();
    expect(decodeUserContent('hi', 'messages[0]', names)).toEqual([{ type: 'text', text: 'hi' }]);
    expect(decodeUserContent('  ', 'messages[0]', names)).toEqual([]);
    expect(decodeUserContent(null, 'messages[0]', names)).toEqual([]);
    expect(() =>
      decodeUserContent(
        [
          { type: 'text', text: 'x' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,' } },
        ],
        'messages[3]',
        names,
      ),
    ).toThrow(expect.objectContaining({ param: 'messages[3].content[1]' }));
  });

  it('other roles: text parts only, blank ones kept', () => {
    expect(
      textsOf(
        [
          { type: 'text', text: 'a' },
          { type: 'text', text: ' ' },
        ],
        'messages[0]',
      ),
    ).toEqual(['a', ' ']);
    expect(() => textsOf([{ type: 'file', file: { file_data: b64(PDF) } }], 'messages[0]')).toThrow(
      expect.objectContaining({ status: 400, param: 'messages[0].content[0]' }),
    );
  });
});
