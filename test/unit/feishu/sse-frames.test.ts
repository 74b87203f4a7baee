import { describe, expect, it } from 'vitest';
import { readSseEvents, type SseEvent } from '../../../lambdas/core/feishu/sse-frames.js';

async function collect(pieces: Array<string | Uint8Array>): Promise<SseEvent[]> {
  async function* source() {
    for (const p of pieces) yield p;
  }
  const out: SseEvent[] = [];
  for await (const ev of readSseEvents(source())) out.push(ev);
  return out;
}

const chunk = (content: string) => ({
  id: 'c',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [{ index: 0, delta: { content }, finish_reason: null, logprobs: null }],
});

describe('readSseEvents (the gateway stream read back by the bot)', () => {
  it('yields chunks in order, skips keep-alive comments, ends at [DONE]', async () => {
    const text = `data: ${JSON.stringify(chunk('Hel'))}\n\n: keep-alive\n\ndata: ${JSON.stringify(chunk('lo'))}\n\ndata: [DONE]\n\n`;
    const events = await collect([text]);
    expect(events.map((e) => e.kind)).toEqual(['chunk', 'chunk', 'done']);
    expect(events.map((e) => (e.kind === 'chunk' ? e.chunk.choices[0].delta.content : null))).toEqual(['Hel', 'lo', null]);
  });

  it('reassembles frames split anywhere, including inside a multi-byte character', async () => {
    const text = `data: ${JSON.stringify(chunk('你好 👋'))}\r\n\r\ndata: [DONE]\n\n`;
    const bytes = Buffer.from(text, 'utf8');
    const pieces = [...bytes].map((b) => Uint8Array.of(b)); // one byte at a time
    const events = await collect(pieces);
    expect(events).toHaveLength(2);
    expect(events[0].kind === 'chunk' && events[0].chunk.choices[0].delta.content).toBe('你好 👋');
  });

  it('turns an in-band error frame into an error event', async () => {
    const err = { error: { message: 'stream broke', type: 'api_error', param: null, code: 'upstream_error' } };
    const events = await collect([`data: ${JSON.stringify(chunk('a'))}\n\n`, `data: ${JSON.stringify(err)}\n\n`]);
    expect(events[1]).toEqual({ kind: 'error', error: { message: 'stream broke', type: 'api_error', code: 'upstream_error' } });
  });

  it('reads a last frame without its blank line and ignores non-JSON data', async () => {
    const events = await collect(['data: not json\n\n', `data: ${JSON.stringify(chunk('x'))}`]);
    expect(events.map((e) => e.kind)).toEqual(['chunk']);
  });
});
