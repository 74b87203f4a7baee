import { describe, expect, it } from 'vitest';
import {
  DocumentNames,
  formatFromFilename,
  isPdf,
  normalizeDocumentFormat,
  sanitizeDocumentName,
} from '../../../lambdas/core/content/documents.js';

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

  it('a 200 KB hostile filename yields its format (or none) quickly', () => {
    for (const filename of [`a${'- '.repeat(100_000)}b`, `x.${'a'.repeat(100_000)}${' '.repeat(100_000)}!`, `${'.'.repeat(200_000)}pdf`]) {
      expect(elapsed(() => formatFromFilename(filename))).toBeLessThan(200);
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

describe('document formats', () => {
  it.each([
    ['PDF', 'pdf'],
    ['.docx', 'docx'],
    ['markdown', 'md'],
    ['htm', 'html'],
    ['text', 'txt'],
    ['application/pdf', 'pdf'],
    ['text/csv; charset=utf-8', 'csv'],
    ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'xlsx'],
    ['text/x-markdown', 'md'],
  ])('normalizeDocumentFormat(%j) → %s', (value, format) => {
    expect(normalizeDocumentFormat(value)).toBe(format);
  });

  it.each(['exe', 'image/png', '', undefined])('normalizeDocumentFormat(%j) → undefined', (value) => {
    expect(normalizeDocumentFormat(value)).toBeUndefined();
  });

  it('formatFromFilename reads the last extension, ignoring trailing whitespace', () => {
    expect(formatFromFilename('a.b.CSV ')).toBe('csv');
    expect(formatFromFilename('notes.markdown')).toBe('md');
    expect(formatFromFilename('archive.zip')).toBeUndefined();
    expect(formatFromFilename('README')).toBeUndefined();
    expect(formatFromFilename(undefined)).toBeUndefined();
  });

  it('isPdf checks the %PDF signature', () => {
    expect(isPdf(new TextEncoder().encode('%PDF-1.4'))).toBe(true);
    expect(isPdf(new TextEncoder().encode('PDF'))).toBe(false);
  });
});
