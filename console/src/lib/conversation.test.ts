import { describe, expect, it } from 'vitest';
import { answeredTurns, toChatMessages, type Turn } from './conversation';

const user = (text: string, images: string[] = []): Turn => ({ role: 'user', text, images });
const answer = (text: string, extra: Partial<Turn> = {}): Turn => ({ role: 'assistant', text, images: [], ...extra });

describe('the playground conversation', () => {
  it('sends the system prompt first, then the turns', () => {
    expect(toChatMessages(' Be brief. ', [user('hi'), answer('hello'), user('again')])).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
      { role: 'user', content: 'again' },
    ]);
    expect(toChatMessages('', [user('hi')])).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('sends images as data URL parts after the text', () => {
    expect(toChatMessages('', [user('what is this?', ['data:image/png;base64,AAAA'])])).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
        ],
      },
    ]);
  });

  it('leaves a failed or stopped exchange out of the history, question and all', () => {
    const turns = [user('one'), answer('1'), user('two'), answer('', { error: 'Quota used up.' }), user('three'), answer('3')];
    expect(answeredTurns(turns).map((t) => t.text)).toEqual(['one', '1', 'three', '3']);
  });
});
