import { describe, expect, it, vi } from 'vitest';
import { type ImageFetcher, resolveAttachments } from '../../../../lambdas/core/chat/attachments.js';
import type { ChatRequest } from '../../../../lambdas/core/chat/request.js';
import { mapMessages, toolResultContent } from '../../../../lambdas/core/providers/bedrock-converse/map-messages.js';
import { decodeChatCompletion } from '../../../../lambdas/core/wire/openai-chat/decode.js';
import type { ChatMessage } from '../../../../lambdas/core/wire/openai-chat/types.js';

/** OpenAI messages → core request (decodeChatCompletion) → Converse system and turns. */
const map = (messages: ChatMessage[], includeReasoning = false) =>
  mapMessages(decodeChatCompletion({ model: 'm', messages }), { includeReasoning });
/** The same, with image URLs resolved first (the pipeline's step before the provider). */
const mapResolved = async (messages: ChatMessage[], fetchImage: ImageFetcher) =>
  mapMessages(await resolveAttachments(decodeChatCompletion({ model: 'm', messages }), fetchImage), { includeReasoning: false });
const call = (id: string, name: string, args: string) => ({ id, type: 'function' as const, function: { name, arguments: args } });

describe('mapMessages', () => {
  it('collects every system and developer message, in order, wherever it appears', () => {
    const out = map([
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

  it('merges consecutive same-role messages without adding text', () => {
    const out = map([
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

  it('refuses a conversation that starts with the assistant', () => {
    expect(() =>
      map([
        { role: 'system', content: 's' },
        { role: 'assistant', content: 'hello' },
        { role: 'user', content: 'hi' },
      ]),
    ).toThrow(expect.objectContaining({ status: 400, message: expect.stringMatching(/must start with a user message/) }));
  });

  it('refuses a request with only system messages', () => {
    expect(() => map([{ role: 'system', content: 's' }])).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => map([])).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('drops blank text blocks and refuses a user message left with nothing', () => {
    const out = map([
      {
        role: 'user',
        content: [
          { type: 'text', text: '' },
          { type: 'text', text: 'real' },
          { type: 'text', text: ' \n' },
        ],
      },
    ]);
    expect(out.messages[0].content).toEqual([{ text: 'real' }]);
    expect(() => map([{ role: 'user', content: '' }])).toThrow(
      expect.objectContaining({ status: 400, param: 'messages[0]', message: expect.stringMatching(/no content/) }),
    );
  });

  it('leaves out an empty assistant turn (valid OpenAI, refused by Bedrock); the user turns around it join', () => {
    const out = map([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: '   ' },
      { role: 'user', content: 'x' },
    ]);
    expect(out.messages).toEqual([{ role: 'user', content: [{ text: 'hi' }, { text: 'x' }] }]);
    const nul = map([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: null },
      { role: 'user', content: 'x' },
    ]);
    expect(nul.messages).toHaveLength(1);
  });

  it('maps tool calls and results; consecutive tool results and a following user message share one user turn', () => {
    const out = map([
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

  it('puts tool results first in their user turn', () => {
    const out = map([
      { role: 'user', content: 'go' },
      { role: 'assistant', tool_calls: [call('c1', 'f', '{}')] },
      { role: 'user', content: 'note' },
      { role: 'tool', tool_call_id: 'c1', content: 'done' },
    ]);
    expect(out.messages[2].content).toEqual([{ toolResult: { toolUseId: 'c1', content: [{ text: 'done' }] } }, { text: 'note' }]);
  });

  it('rewrites tool-use ids Bedrock would reject, identically on the call and its result', () => {
    const out = map([
      { role: 'user', content: 'go' },
      { role: 'assistant', tool_calls: [call('functions.f:0', 'f', '{}')] },
      { role: 'tool', tool_call_id: 'functions.f:0', content: 'ok' },
    ]);
    const id = out.messages[1].content![0].toolUse!.toolUseId!;
    expect(id).toMatch(/^functions_f_0_[0-9a-f]{12}$/);
    expect(out.messages[2].content![0].toolResult!.toolUseId).toBe(id);
  });

  it.each([
    ['invalid JSON', '{"city": Paris}', /not valid JSON/],
    ['a JSON array', '[1,2]', /must be a JSON object/],
  ])('refuses tool call arguments that are %s', (_, args, message) => {
    expect(() =>
      map([
        { role: 'user', content: 'go' },
        { role: 'assistant', tool_calls: [call('c1', 'f', args)] },
      ]),
    ).toThrow(
      expect.objectContaining({
        status: 400,
        param: 'messages[1].tool_calls[0].function.arguments',
        message: expect.stringMatching(message),
      }),
    );
  });

  it('refuses a tool message without tool_call_id', () => {
    expect(() =>
      map([
        { role: 'user', content: 'go' },
        { role: 'tool', content: 'x' },
      ]),
    ).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('sends signed reasoning back first in its assistant turn, only when thinking is on', () => {
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
    const on = map(history, true);
    expect(on.messages[1].content![0]).toEqual({ reasoningContent: { reasoningText: { text: 'I should call f.', signature: 'sig-1' } } });
    expect(on.messages[1].content![1]).toEqual({ text: 'Calling.' });
    const off = map(history, false);
    expect(off.messages[1].content!.some((b) => b.reasoningContent)).toBe(false);
    const unsigned = map([history[0], { ...history[1], reasoning_signature: null }, history[2]], true);
    expect(unsigned.messages[1].content!.some((b) => b.reasoningContent)).toBe(false);
  });

  it('trims trailing whitespace from a final assistant prefill', () => {
    const out = map([
      { role: 'user', content: 'Write JSON' },
      { role: 'assistant', content: '{"a": ' },
    ]);
    expect(out.messages[1].content).toEqual([{ text: '{"a":' }]);
  });

  it('maps user images and documents, with http(s) images fetched before the mapping', async () => {
    const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]);
    const fetchImage = vi.fn<ImageFetcher>().mockResolvedValue({ bytes: jpeg, mediaType: 'image/jpeg' });
    const out = await mapResolved(
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
      fetchImage,
    );
    expect(fetchImage).toHaveBeenCalledTimes(1);
    expect(fetchImage.mock.calls[0][0]).toBe('https://example.com/a.jpg');
    expect(out.messages[0].content).toEqual([
      { text: 'Compare' },
      { image: { format: 'jpeg', source: { bytes: jpeg } } },
      { document: { format: 'txt', name: 'a', source: { bytes: Uint8Array.from([104, 105]) } } },
      { document: { format: 'txt', name: 'a (2)', source: { bytes: Uint8Array.from([104, 105]) } } },
    ]);
  });

  it('an image URL the pipeline did not resolve never reaches Converse', () => {
    const req = decodeChatCompletion({
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }],
    });
    expect(() => mapMessages(req, { includeReasoning: false })).toThrow(/unresolved/);
  });

  it('refuses non-text parts outside user messages and unknown part types', () => {
    expect(() =>
      map([
        { role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
        { role: 'user', content: 'hi' },
      ]),
    ).toThrow(expect.objectContaining({ status: 400, param: 'messages[0].content[0]' }));
    expect(() => map([{ role: 'user', content: [{ type: 'input_audio' } as never] }])).toThrow(expect.objectContaining({ status: 400 }));
  });
});

describe('mapMessages on core blocks (what other wire APIs decode into)', () => {
  const req = (over: Partial<ChatRequest>): ChatRequest => ({ system: [], messages: [], tools: [], stream: false, ...over });

  it('a block marked for caching is followed by a cache point, in system and in turns', () => {
    const out = mapMessages(
      req({
        system: [{ type: 'text', text: 'rules', cache: { type: 'ephemeral' } }],
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'long doc', cache: { type: 'ephemeral', ttl: '1h' } },
              { type: 'text', text: 'q' },
            ],
          },
        ],
      }),
      { includeReasoning: false },
    );
    const cp = { cachePoint: { type: 'default' } };
    expect(out.system).toEqual([{ text: 'rules' }, cp]);
    expect(out.messages[0].content).toEqual([{ text: 'long doc' }, cp, { text: 'q' }]);
  });

  it('tool results carry their images and error status; redacted reasoning is replayed only when thinking', () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const r = req({
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'go' }] },
        {
          role: 'assistant',
          content: [
            { type: 'redacted_reasoning', data: 'AQID' },
            { type: 'tool_use', id: 't1', name: 'shot', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              toolUseId: 't1',
              isError: true,
              content: [
                { type: 'text', text: 'partial' },
                { type: 'image', mediaType: 'image/png', data: png },
              ],
            },
          ],
        },
      ],
    });
    const on = mapMessages(r, { includeReasoning: true });
    expect(on.messages[1].content![0]).toEqual({ reasoningContent: { redactedContent: Buffer.from([1, 2, 3]) } });
    expect(on.messages[2].content).toEqual([
      {
        toolResult: {
          toolUseId: 't1',
          status: 'error',
          content: [{ text: 'partial' }, { image: { format: 'png', source: { bytes: png } } }],
        },
      },
    ]);
    const off = mapMessages(r, { includeReasoning: false });
    expect(off.messages[1].content).toEqual([{ toolUse: { toolUseId: 't1', name: 'shot', input: {} } }]);
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
    expect(toolResultContent([{ type: 'text', text }])).toEqual([block]);
  });

  it('joins text parts before deciding, and an empty result is an empty JSON object', () => {
    expect(
      toolResultContent([
        { type: 'text', text: '{"a":' },
        { type: 'text', text: '1}' },
      ]),
    ).toEqual([{ json: { a: 1 } }]);
    expect(toolResultContent([])).toEqual([{ json: {} }]);
  });
});
