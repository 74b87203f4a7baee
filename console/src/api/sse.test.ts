import { describe, expect, it } from 'vitest';
import { readSse, SseDecoder } from './sse';

describe('SseDecoder', () => {
  it('yields one event per blank line and skips keep-alive comments', () => {
    const d = new SseDecoder();
    expect(d.push(': keep-alive\n\ndata: {"a":1}\n\ndata: [DONE]\n\n')).toEqual([
      { event: 'message', data: '{"a":1}' },
      { event: 'message', data: '[DONE]' },
    ]);
  });

  it('joins multi-line data and reads event names and ids', () => {
    const d = new SseDecoder();
    expect(d.push('event: ping\nid: 7\ndata: one\ndata:two\n\n')).toEqual([{ event: 'ping', data: 'one\ntwo', id: '7' }]);
  });

  it('handles events split anywhere across chunks, including inside a CRLF', () => {
    const text = 'data: {"x":"héllo"}\r\n\r\ndata: second\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      const d = new SseDecoder();
      const events = [...d.push(text.slice(0, cut)), ...d.push(text.slice(cut)), ...d.end()];
      expect(
        events.map((e) => e.data),
        `cut at ${cut}`,
      ).toEqual(['{"x":"héllo"}', 'second']);
    }
  });

  it('drops an event that the stream cut off before its blank line', () => {
    const d = new SseDecoder();
    expect([...d.push('data: partial'), ...d.end()]).toEqual([]);
  });
});

describe('readSse', () => {
  it('decodes UTF-8 split across byte chunks', async () => {
    const bytes = new TextEncoder().encode('data: 你好\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const b of bytes) c.enqueue(new Uint8Array([b]));
        c.close();
      },
    });
    const events = [];
    for await (const e of readSse(body)) events.push(e);
    expect(events).toEqual([{ event: 'message', data: '你好' }]);
  });
});
