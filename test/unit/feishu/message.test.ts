import { describe, expect, it } from 'vitest';
import { FeishuMessageError, parseCommand, parseMessageEvent, shouldAnswer } from '../../../lambdas/core/feishu/message.js';

const BOT = 'ou_bot_1';

function ev(message: Record<string, unknown>, sender: Record<string, unknown> = {}) {
  return {
    sender: { sender_id: { open_id: 'ou_alice', user_id: 'u1', union_id: 'on_1' }, sender_type: 'user', tenant_key: 'tk', ...sender },
    message: {
      message_id: 'om_1',
      create_time: '1720000000000',
      chat_id: 'oc_1',
      chat_type: 'group',
      message_type: 'text',
      content: '{"text":"hi"}',
      ...message,
    },
  };
}

const botMention = { key: '@_user_1', id: { open_id: BOT, union_id: 'on_b' }, name: 'GPT Bot', tenant_key: 'tk' };
const bobMention = { key: '@_user_2', id: { open_id: 'ou_bob', union_id: 'on_bob', user_id: 'u2' }, name: 'Bob', tenant_key: 'tk' };

describe('parseMessageEvent', () => {
  it('text with mentions: the bot placeholder is stripped, others become @Name', () => {
    const msg = parseMessageEvent(
      ev({ content: JSON.stringify({ text: '@_user_1 ask @_user_2 about it' }), mentions: [botMention, bobMention] }),
      { botOpenId: BOT },
    );
    expect(msg).toMatchObject({
      messageId: 'om_1',
      chatId: 'oc_1',
      chatType: 'group',
      senderOpenId: 'ou_alice',
      senderType: 'user',
      messageType: 'text',
      text: 'ask @Bob about it',
      images: [],
      files: [],
      mentionedBot: true,
      supported: true,
      createTime: '1720000000000',
      tenantKey: 'tk',
    });
    expect(shouldAnswer(msg, { botOpenId: BOT })).toBe(true);
  });

  it('group message without a bot mention is not answered', () => {
    const msg = parseMessageEvent(ev({ content: JSON.stringify({ text: '@_user_2 lunch?' }), mentions: [bobMention] }), {
      botOpenId: BOT,
    });
    expect(msg.mentionedBot).toBe(false);
    expect(msg.text).toBe('@Bob lunch?');
    expect(shouldAnswer(msg, { botOpenId: BOT })).toBe(false);
    const plain = parseMessageEvent(ev({}), { botOpenId: BOT });
    expect(shouldAnswer(plain, { botOpenId: BOT })).toBe(false);
  });

  it('p2p is always answered', () => {
    const msg = parseMessageEvent(ev({ chat_type: 'p2p', content: '{"text":"hello"}' }), { botOpenId: BOT });
    expect(msg.chatType).toBe('p2p');
    expect(shouldAnswer(msg, { botOpenId: BOT })).toBe(true);
  });

  it("the bot's own messages (sender_type app) are ignored", () => {
    const own = parseMessageEvent(ev({ chat_type: 'p2p' }, { sender_id: { open_id: BOT }, sender_type: 'app' }), {
      botOpenId: BOT,
    });
    expect(own.senderType).toBe('app');
    expect(shouldAnswer(own, { botOpenId: BOT })).toBe(false);
    const sameId = parseMessageEvent(ev({ chat_type: 'p2p' }, { sender_id: { open_id: BOT } }), { botOpenId: BOT });
    expect(shouldAnswer(sameId, { botOpenId: BOT })).toBe(false);
  });

  it('mention detection without the open_id: by name, else any mention', () => {
    const content = JSON.stringify({ text: '@_user_1 hi' });
    const byName = parseMessageEvent(ev({ content, mentions: [botMention] }), { botName: 'GPT Bot' });
    expect(byName).toMatchObject({ mentionedBot: true, text: 'hi' });
    const otherName = parseMessageEvent(ev({ content, mentions: [botMention] }), { botName: 'Another' });
    expect(otherName.mentionedBot).toBe(false);
    const unknown = parseMessageEvent(ev({ content, mentions: [botMention] }));
    expect(unknown).toMatchObject({ mentionedBot: true, text: '@GPT Bot hi' });
  });

  it('post: text, links, code, mentions and images', () => {
    const content = JSON.stringify({
      title: 'Report',
      content: [
        [
          { tag: 'at', user_id: '@_user_1', user_name: 'GPT Bot' },
          { tag: 'text', text: ' summarise ' },
          { tag: 'a', text: 'this', href: 'https://example.com/x' },
        ],
        [{ tag: 'img', image_key: 'img_v2_a', width: 10, height: 10 }],
        [
          { tag: 'text', text: 'and ' },
          { tag: 'at', user_id: '@_user_2', user_name: 'Bob' },
          { tag: 'emotion', emoji_type: 'SMILE' },
        ],
        [{ tag: 'code_block', language: 'PYTHON', text: 'print(1)' }],
        [{ tag: 'img', image_key: 'img_v2_b' }],
      ],
    });
    const msg = parseMessageEvent(ev({ message_type: 'post', content, mentions: [botMention, bobMention] }), {
      botOpenId: BOT,
    });
    expect(msg.mentionedBot).toBe(true);
    expect(msg.images).toEqual([{ imageKey: 'img_v2_a' }, { imageKey: 'img_v2_b' }]);
    expect(msg.text).toBe('Report\nsummarise [this](https://example.com/x)\n\nand @Bob:SMILE:\n\n```python\nprint(1)\n```');
  });

  it('post in a locale wrapper', () => {
    const content = JSON.stringify({ zh_cn: { title: '', content: [[{ tag: 'text', text: '你好' }]] } });
    expect(parseMessageEvent(ev({ message_type: 'post', content })).text).toBe('你好');
  });

  it('image and file messages', () => {
    const img = parseMessageEvent(ev({ chat_type: 'p2p', message_type: 'image', content: '{"image_key":"img_v2_x"}' }));
    expect(img).toMatchObject({ text: '', images: [{ imageKey: 'img_v2_x' }], files: [], supported: true });
    const file = parseMessageEvent(
      ev({ chat_type: 'p2p', message_type: 'file', content: '{"file_key":"file_v2_y","file_name":"report.pdf"}' }),
    );
    expect(file).toMatchObject({ text: '', images: [], files: [{ fileKey: 'file_v2_y', fileName: 'report.pdf' }] });
  });

  it('unsupported types are flagged, malformed events throw', () => {
    expect(parseMessageEvent(ev({ message_type: 'sticker', content: '{"file_key":"x"}' })).supported).toBe(false);
    expect(() => parseMessageEvent({})).toThrow(FeishuMessageError);
    expect(() => parseMessageEvent(ev({ content: 'not json' }))).toThrow(FeishuMessageError);
  });
});

describe('parseCommand', () => {
  it('recognises commands', () => {
    expect(parseCommand('/reset')).toBe('reset');
    expect(parseCommand('  /CLEAR ')).toBe('reset');
    expect(parseCommand('/help')).toBe('help');
    expect(parseCommand('／help')).toBe('help');
    expect(parseCommand('/resetting')).toBeNull();
    expect(parseCommand('please /reset')).toBeNull();
    expect(parseCommand('hello')).toBeNull();
  });
});
