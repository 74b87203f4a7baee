import { describe, expect, it, vi } from 'vitest';
import type { ChatMessage } from '../../../lambdas/core/openai/types.js';
import { mapMessages, toolResultContent } from '../../../lambdas/core/providers/bedrock-converse/map-messages.js';

const noFetch = () => Promise.reject(new Error('no fetch expected'));
const map = (messages: ChatMessage[], includeReasoning = false) => mapMessages(messages, { fetchImage: noFetch, includeReasoning });
const call = (id: string, name: string, args: string) => ({ id, type: 'function' as const, function: { name, arguments: args } });

describe('mapMessages', () => {
  it('collects every system and developer message, in order, wherever it appears', async () => {
    const out = await map([
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'hi' },
      {
        role: 'developer',
        content: [
          { type: 'text', text: 'Answer in French.' },
          { type: 'text', text: '  ' },
        ],
      },
      { role: 'system', content: 'Be kind.' },
    ]);
    expect(out.system).toEqual([{ text: 'You are terse.' }, { text: 'Answer in French.' }, { text: 'Be kind.' }]);
    expect(out.messages).toEqual([{ role: 'user', content: [{ text: 'hi' }] }]);
  });

  it('merges consecutive same-role messages without adding text', async () => {
    const out = await map([
      { role: 'user', content: 'one' },
      { role: 'user', content: [{ type: 'text', text: 'two' }] },
      { role: 'assistant', content: 'three' },
      { role: 'assistant', content: 'four' },
      { role: 'user', content: 'five' },
    ]);
    expect(out.messages).toEqual([
      { role: 'user', content: [{ text: 'one' }, { text: 'two' }] },
      { role: 'assistant', content: [{ text: 'three' }, { text: 'four' }] },
      { role: 'user', content: [{ text: 'five' }] },
    ]);
  });

  it('refuses a conversation that starts with the assistant', async () => {
    await expect(
      map([
        { role: 'system', content: 's' },
        { role: 'assistant', content: 'hello' },
        { role: 'user', content: 'hi' },
      ]),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/must start with a user message/),
    });
  });

  it('refuses a request with only system messages', async () => {
    await expect(map([{ role: 'system', content: 's' }])).rejects.toMatchObject({ status: 400 });
    await expect(map([])).rejects.toMatchObject({ status: 400 });
  });

  it('drops blank text blocks and refuses a user message left with nothing', async () => {
    const out = await map([
      {
        role: 'user',
        content: [
          { type: 'text', text: '' },
          { type: 'text', text: 'real' },
          { type: 'text', text: ' \n' },
        ],
      },
    ]);
    expect(out.messages[0]!.content).toEqual([{ text: 'real' }]);
    await expect(map([{ role: 'user', content: '' }])).rejects.toMatchObject({
      status: 400,
      param: 'messages[0]',
      message: expect.stringMatching(/no content/),
    });
  });

  it('leaves out an empty assistant turn (valid OpenAI, refused by Bedrock); the user turns around it join', async () => {
    const out = await map([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: '   ' },
      { role: 'user', content: 'x' },
    ]);
    expect(out.messages).toEqual([{ role: 'user', content: [{ text: 'hi' }, { text: 'x' }] }]);
    const nul = await map([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: null },
      { role: 'user', content: 'x' },
    ]);
    expect(nul.messages).toHaveLength(1);
  });

  it('maps tool calls and results; consecutive tool results and a following user message share one user turn', async () => {
    const out = await map([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [call('call_1', 'get_weather', '{"city":"Paris"}'), call('call_2', 'get_weather', '')],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
      { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'sunny' }] },
      { role: 'user', content: 'And tomorrow?' },
    ]);
    expect(out.messages).toEqual([
      { role: 'user', content: [{ text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { text: 'Checking.' },
          { toolUse: { toolUseId: 'call_1', name: 'get_weather', input: { city: 'Paris' } } },
          { toolUse: { toolUseId: 'call_2', name: 'get_weather', input: {} } },
        ],
      },
      {
        role: 'user',
        content: [
          { toolResult: { toolUseId: 'call_1', content: [{ json: { temp: 21 } }] } },
          { toolResult: { toolUseId: 'call_2', content: [{ text: 'sunny' }] } },
          { text: 'And tomorrow?' },
        ],
      },
    ]);
    expect(out).toMatchObject({ historyToolNames: ['get_weather'], hasToolBlocks: true });
  });

  it('puts tool results first in their user turn', async () => {
    const out = await map([
      { role: 'user', content: 'go' },
      { role: 'assistant', tool_calls: [call('c1', 'f', '{}')] },
      { role: 'user', content: 'note' },
      { role: 'tool', tool_call_id: 'c1', content: 'done' },
    ]);
    expect(out.messages[2]!.content).toEqual([{ toolResult: { toolUseId: 'c1', content: [{ text: 'done' }] } }, { text: 'note' }]);
  });

  it('rewrites tool-use ids Bedrock would reject, identically on the call and its result', async () => {
    const out = await map([
      { role: 'user', content: 'go' },
      { role: 'assistant', tool_calls: [call('functions.f:0', 'f', '{}')] },
      { role: 'tool', tool_call_id: 'functions.f:0', content: 'ok' },
    ]);
    expect(out.messages[1]!.content![0]!.toolUse!.toolUseId).toBe('functions_f_0');
    expect(out.messages[2]!.content![0]!.toolResult!.toolUseId).toBe('functions_f_0');
  });

  it.each([
    ['invalid JSON', '{"city": Paris}', /not valid JSON/],
    ['a JSON array', '[1,2]', /must be a JSON object/],
  ])('refuses tool call arguments that are %s', async (_, args, message) => {
    await expect(
      map([
        { role: 'user', content: 'go' },
        { role: 'assistant', tool_calls: [call('c1', 'f', args)] },
      ]),
    ).rejects.toMatchObject({
      status: 400,
      param: 'messages[1].tool_calls[0].function.arguments',
      message: expect.stringMatching(message),
    });
  });

  it('refuses a tool message without tool_call_id', async () => {
    await expect(
      map([
        { role: 'user', content: 'go' },
        { role: 'tool', content: 'x' },
      ]),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('sends signed reasoning back first in its assistant turn, only when thinking is on', async () => {
    const history: ChatMessage[] = [
      { role: 'user', content: 'go' },
      {
        role: 'assistant',
        content: 'Calling.',
        reasoning_content: 'I should call f.',
        reasoning_signature: 'sig-1',
        tool_calls: [call('c1', 'f', '{}')],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'ok' },
    ];
    const on = await map(history, true);
    expect(on.messages[1]!.content![0]).toEqual({ reasoningContent: { reasoningText: { text: 'I should call f.', signature: 'sig-1' } } });
    expect(on.messages[1]!.content![1]).toEqual({ text: 'Calling.' });
    const off = await map(history, false);
    expect(off.messages[1]!.content!.some((b) => b.reasoningContent)).toBe(false);
    const unsigned = await map([history[0]!, { ...history[1]!, reasoning_signature: null }, history[2]!], true);
    expect(unsigned.messages[1]!.content!.some((b) => b.reasoningContent)).toBe(false);
  });

  it('trims trailing whitespace from a final assistant prefill', async () => {
    const out = await map([
      { role: 'user', content: 'Write JSON' },
      { role: 'assistant', content: '{"a": ' },
    ]);
    expect(out.messages[1]!.content).toEqual([{ text: '{"a":' }]);
  });

  it('maps user images and documents, fetching http(s) images via the context', async () => {
    const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]);
    const fetchImage = vi.fn().mockResolvedValue({ bytes: jpeg, mediaType: 'image/jpeg' });
    const out = await mapMessages(
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image_url', image_url: { url: 'https://example.com/a.jpg' } },
            { type: 'doc', doc: { name: 'a.txt', format: 'txt', source: { bytes: { 0: 104, 1: 105 } } } },
            { type: 'doc', doc: { name: 'a.txt', format: 'txt', source: { bytes: [104, 105] } } },
          ],
        },
      ],
      { fetchImage, includeReasoning: false },
    );
    expect(out.messages[0]!.content).toEqual([
      { text: 'Compare' },
      { image: { format: 'jpeg', source: { bytes: jpeg } } },
      { document: { format: 'txt', name: 'a', source: { bytes: Uint8Array.from([104, 105]) } } },
      { document: { format: 'txt', name: 'a (2)', source: { bytes: Uint8Array.from([104, 105]) } } },
    ]);
  });

  it('refuses non-text parts outside user messages and unknown part types', async () => {
    await expect(
      map([
        { role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
        { role: 'user', content: 'hi' },
      ]),
    ).rejects.toMatchObject({ status: 400, param: 'messages[0].content[0]' });
    await expect(map([{ role: 'user', content: [{ type: 'input_audio' } as never] }])).rejects.toMatchObject({ status: 400 });
  });
});

describe('toolResultContent', () => {
  it.each([
    ['{"a":1}', { json: { a: 1 } }],
    ['  {"a":[1,2]} ', { json: { a: [1, 2] } }],
    ['[1,2]', { text: '[1,2]' }],
    ['{not json', { text: '{not json' }],
    ['42', { text: '42' }],
    ['', { json: {} }],
    ['  ', { json: {} }],
  ])('%j → %j', (text, block) => {
    expect(toolResultContent(text)).toEqual(block);
  });
});
