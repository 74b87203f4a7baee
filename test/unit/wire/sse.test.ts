import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { SseStream } from '../../../lambdas/core/wire/sse.js';

/** What a reader of the stream gets, chunk by chunk. */
function reader(stream: SseStream): string[] {
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  return chunks;
}

describe('SseStream', () => {
  it('frames made in one turn leave in one write; a later turn is a write of its own', async () => {
    const s = new SseStream(0);
    const chunks = reader(s);
    s.data({ a: 1 });
    s.event('e', { b: 2 });
    s.comment('c');
    expect(chunks).toEqual([]); // nothing leaves before the turn ends
    await nextTurn();
    expect(chunks).toEqual(['data: {"a":1}\n\nevent: e\ndata: {"b":2}\n\n: c\n\n']);
    s.data('[DONE]');
    await nextTurn();
    expect(chunks).toHaveLength(2);
    expect(chunks[1]).toBe('data: [DONE]\n\n');
  });

  it('close() writes what is pending before it ends the stream, and nothing is written after', async () => {
    const s = new SseStream(0);
    const chunks = reader(s);
    const ended = new Promise((r) => s.on('end', r));
    s.data({ last: true });
    s.close();
    s.data({ late: true });
    await ended;
    expect(chunks.join('')).toBe('data: {"last":true}\n\n');
  });

  it('sends its keep-alive while the model is silent', async () => {
    const s = new SseStream(20);
    const chunks = reader(s);
    await new Promise((r) => setTimeout(r, 70));
    s.close();
    expect(chunks.join('')).toContain(': keep-alive\n\n');
  });
});
