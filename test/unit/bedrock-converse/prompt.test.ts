import { describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from '../../../lambdas/core/openai/types.js';
import { contentText, lastUserPrompt } from '../../../lambdas/core/llm/prompt.js';

const elapsed = (fn: () => unknown) => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};
const image = (url: string) => [{ type: 'image_url' as const, image_url: { url } }];

describe('prompt descriptors for image_url parts', () => {
  it('describes a data URL by media type and decoded size, never by its bytes', () => {
    const payload = Buffer.alloc(3 * 1024).toString('base64');
    expect(contentText(image(`data:image/png;base64,${payload}`))).toBe('[image/png, 3 KB]');
    expect(contentText(image(`data:image/jpeg,${'x'.repeat(4096)}`))).toBe('[image/jpeg, 3 KB]');
  });

  it('falls back to a generic media type when the data URL header names none', () => {
    expect(contentText(image(`data:;base64,${Buffer.alloc(2048).toString('base64')}`))).toMatch(/^\[[^\]]*, 2 KB\]$/);
  });

  it('a comma-less hostile data URL is described in linear time', () => {
    const hostile = `data:${'a'.repeat(200_000)}`;
    const req = { model: 'm', messages: [{ role: 'user', content: image(hostile) }] } as ChatCompletionRequest;
    let out = '';
    expect(elapsed(() => (out = lastUserPrompt(req)))).toBeLessThan(200);
    expect(out.length).toBeLessThan(1000);
    expect(out).not.toContain('a'.repeat(1000));
  });

  it('a data URL with a long ;-heavy header is described in linear time', () => {
    const hostile = `data:image/png${';a'.repeat(100_000)}`;
    expect(elapsed(() => contentText(image(hostile)))).toBeLessThan(200);
  });

  it('still describes http(s) URLs without their query string', () => {
    expect(contentText(image('https://example.com/cat.png?sig=secret'))).toBe('[image https://example.com/cat.png]');
  });
});

describe('prompt descriptors never copy attachment bytes', () => {
  it('a malformed data URL becomes a bare [image]', () => {
    expect(contentText(image(`data:${'a'.repeat(5000)}`))).toBe('[image]');
  });

  it('a very long image URL path is cut', () => {
    expect(contentText(image(`https://example.com/${'p'.repeat(5000)}`)).length).toBeLessThan(300);
  });

  it('file parts: media type from the header, size from the payload, also for hostile input', () => {
    const part = (file_data: string) => [{ type: 'file' as const, file: { filename: 'r.pdf', file_data } }];
    expect(contentText(part(`data:application/pdf;base64,${Buffer.alloc(2048).toString('base64')}`))).toBe(
      '[file r.pdf [application/pdf, 2 KB]]',
    );
    const t = performance.now();
    expect(contentText(part(`data:${'a;'.repeat(100_000)}`))).toMatch(/^\[file r\.pdf \[application\/octet-stream, \d+ KB\]\]$/);
    expect(performance.now() - t).toBeLessThan(200);
  });
});
