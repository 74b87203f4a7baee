import { describe, expect, it } from 'vitest';
import type { DocPart, FilePart } from '../../../lambdas/core/openai/types.js';
import {
  DocumentNames,
  mapDocPart,
  mapFilePart,
  sanitizeDocumentName,
} from '../../../lambdas/core/providers/bedrock-converse/map-document.js';

const PDF = new TextEncoder().encode('%PDF-1.7\n');
const asIndexMap = (b: Uint8Array) => Object.fromEntries([...b].map((v, i) => [String(i), v]));
const doc = (d: Partial<DocPart['doc']>): DocPart => ({ type: 'doc', doc: { source: { bytes: asIndexMap(PDF) }, ...d } });
const file = (f: FilePart['file']): FilePart => ({ type: 'file', file: f });

describe('sanitizeDocumentName', () => {
  it.each([
    ['Q3 report.pdf', 'Q3 report'],
    ['my_file.v2.docx', 'my-file-v2'],
    ['  lots   of\t\nspace  ', 'lots of space'],
    ['(draft) [v1] notes-final.md', '(draft) [v1] notes-final'],
    ['季度报告 2024.pdf', '2024'],
    ['季度报告.pdf', ''],
    ['...', ''],
  ])('%j → %j', (raw, clean) => {
    expect(sanitizeDocumentName(raw)).toBe(clean);
  });

  it('keeps only allowed characters, never two whitespace in a row, at most 64 characters', () => {
    const name = sanitizeDocumentName(`${'a'.repeat(50)} !!  @@ ${'b'.repeat(50)}`);
    expect(name).toMatch(/^[A-Za-z0-9\-()[\] ]+$/);
    expect(name).not.toMatch(/\s\s/);
    expect(name.length).toBeLessThanOrEqual(64);
  });
});

describe('document names and filenames in linear time', () => {
  const elapsed = (fn: () => unknown) => {
    const t = performance.now();
    fn();
    return performance.now() - t;
  };

  it.each([
    ['hyphen-space runs', `a${'- '.repeat(100_000)}b`],
    ['trailing hyphen-space run', `a${'- '.repeat(100_000)}`],
    ['whitespace runs with an extension', `a${' \t'.repeat(100_000)}x.pdf`],
    ['dots', '.'.repeat(200_000)],
    ['extension-like runs', `${'.pdf '.repeat(50_000)}x`],
  ])('%s: a 200 KB hostile name is sanitised quickly', (_label, raw) => {
    let out = '';
    expect(elapsed(() => (out = sanitizeDocumentName(raw)))).toBeLessThan(200);
    expect(out.length).toBeLessThanOrEqual(64);
    expect(out).not.toMatch(/^[\s-]|[\s-]$/);
  });

  it('a 200 KB hostile filename on a file part is handled quickly', () => {
    const data = `data:;base64,${Buffer.from(PDF).toString('base64')}`;
    for (const filename of [`a${'- '.repeat(100_000)}b`, `x.${'a'.repeat(100_000)}${' '.repeat(100_000)}!`]) {
      expect(elapsed(() => mapFilePart(file({ filename, file_data: data }), new DocumentNames(), 'p'))).toBeLessThan(200);
    }
  });

  it('still strips the extension and trims hyphens after cutting a long name', () => {
    expect(sanitizeDocumentName(`  -- ${'report'} --  .pdf`)).toBe('report');
    expect(sanitizeDocumentName(`${' '.repeat(500)}report.pdf`)).toBe('report');
  });
});

describe('DocumentNames', () => {
  it('makes names unique within a request and falls back to document-N', () => {
    const names = new DocumentNames();
    expect(names.claim('report.pdf')).toBe('report');
    expect(names.claim('report.docx')).toBe('report (2)');
    expect(names.claim(undefined)).toBe('document-3');
    expect(names.claim('报告')).toBe('document-4');
    expect(names.claim('Report')).toBe('Report (3)'); // compared case-insensitively, to be safe
  });
});

describe('mapDocPart (seed doc part)', () => {
  it.each([
    ['an index→byte map', asIndexMap(PDF)],
    ['a byte array', [...PDF]],
    ['base64', Buffer.from(PDF).toString('base64')],
  ])('decodes bytes given as %s', (_, bytes) => {
    const block = mapDocPart(doc({ name: 'spec.pdf', format: 'pdf', source: { bytes } }), new DocumentNames(), 'p');
    expect(block).toEqual({ document: { format: 'pdf', name: 'spec', source: { bytes: PDF } } });
  });

  it('takes the format from doc.format, else the name, else the PDF signature', () => {
    expect(mapDocPart(doc({ format: 'Markdown' }), new DocumentNames(), 'p').document?.format).toBe('md');
    expect(mapDocPart(doc({ name: 'table.csv' }), new DocumentNames(), 'p').document?.format).toBe('csv');
    expect(mapDocPart(doc({}), new DocumentNames(), 'p').document).toMatchObject({ format: 'pdf', name: 'document-1' });
  });

  it.each([
    ['an unsupported format', doc({ format: 'exe' })],
    ['no recognisable format', doc({ source: { bytes: [1, 2, 3] } })],
    ['a gap in the index map', doc({ format: 'txt', source: { bytes: { 0: 65, 2: 66 } } })],
    ['a value that is not a byte', doc({ format: 'txt', source: { bytes: [65, 300] } })],
    ['empty bytes', doc({ format: 'txt', source: { bytes: [] } })],
    ['text that is not base64', doc({ format: 'txt', source: { bytes: 'hello world!' } })],
  ])('refuses %s with a 400', (_, part) => {
    expect(() => mapDocPart(part, new DocumentNames(), 'messages[0].content[0]')).toThrow(expect.objectContaining({ status: 400 }));
  });
});

describe('mapFilePart (OpenAI file part)', () => {
  const b64 = Buffer.from(PDF).toString('base64');

  it('reads a data URL and takes the format from its media type', () => {
    const block = mapFilePart(file({ file_data: `data:text/csv;base64,${b64}`, filename: 'data.csv' }), new DocumentNames(), 'p');
    expect(block).toEqual({ document: { format: 'csv', name: 'data', source: { bytes: PDF } } });
  });

  it('reads bare base64, format from the filename extension, PDF by default', () => {
    expect(mapFilePart(file({ file_data: b64, filename: 'sheet.xlsx' }), new DocumentNames(), 'p').document?.format).toBe('xlsx');
    expect(mapFilePart(file({ file_data: b64 }), new DocumentNames(), 'p').document).toMatchObject({ format: 'pdf', name: 'document-1' });
  });

  it('refuses file_id, a non-document media type and undecodable data', () => {
    const names = new DocumentNames();
    expect(() => mapFilePart(file({ file_id: 'file-abc' }), names, 'p')).toThrow(/file_id/);
    expect(() => mapFilePart(file({ file_data: `data:image/png;base64,${b64}` }), names, 'p')).toThrow(/unsupported document format/);
    expect(() => mapFilePart(file({ file_data: '%%%' }), names, 'p')).toThrow(expect.objectContaining({ status: 400 }));
  });
});
