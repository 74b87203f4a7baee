import { describe, expect, it } from 'vitest';
import { StreamedStringField } from '../../../../lambdas/core/wire/openai-responses/streamed-string-field.js';

/** Feeds `json` in pieces of `size` characters (code units, so pairs and escapes split anywhere) and joins the output. */
function streamed(json: string, size: number, field = 'input') {
  const reader = new StreamedStringField(field);
  const pieces: string[] = [];
  for (let i = 0; i < json.length; i += size) pieces.push(reader.push(json.slice(i, i + size)));
  return { text: pieces.join(''), pieces, reader };
}

const PATCH = '*** Begin Patch\n*** Add File: héllo "world".txt\n+tab\there \\ back\\slash 😀 \u2028\n*** End Patch\n';

describe('StreamedStringField', () => {
  it('decodes the property exactly as JSON.parse does, whatever the fragment size', () => {
    const json = JSON.stringify({ input: PATCH });
    for (const size of [1, 2, 3, 5, 7, 10, 64, json.length]) {
      const { text, reader } = streamed(json, size);
      expect(text).toBe(PATCH);
      expect(reader.value).toBe(PATCH);
      expect(reader.found).toBe(true);
    }
  });

  it('decodes \\u escapes, also when split across fragments, and keeps surrogate pairs together', () => {
    const json = '{"input":"caf\\u00e9 \\ud83d\\ude00!"}';
    for (const size of [1, 2, 4, 9]) {
      const { text, pieces } = streamed(json, size);
      expect(text).toBe('café 😀!');
      // no piece ever ends in half a surrogate pair
      for (const p of pieces) expect(/[\ud800-\udbff]$/.test(p)).toBe(false);
    }
  });

  it('skips other properties, nested values and strings that look like the key', () => {
    const json = JSON.stringify({ meta: { input: 'nested, not this' }, list: ['input', { input: 'no' }], n: 1.5, ok: true, input: 'yes' });
    expect(streamed(json, 3).text).toBe('yes');
  });

  it('hands text out as it arrives, not at the end', () => {
    const reader = new StreamedStringField('input');
    expect(reader.push('{"input": "ab')).toBe('ab');
    expect(reader.push('cd')).toBe('cd');
    expect(reader.push('\\')).toBe('');
    expect(reader.push('n"}')).toBe('\n');
    expect(reader.value).toBe('abcd\n');
  });

  it('reports nothing when the property is missing or not a string', () => {
    for (const json of ['{"other":"x"}', '{"input":42}', '{"input":{"a":"b"}}', '"input"', '[]']) {
      const { text, reader } = streamed(json, 2);
      expect(text).toBe('');
      expect(reader.found).toBe(false);
    }
  });
});
