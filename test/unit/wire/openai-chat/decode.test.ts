import { describe, expect, it } from 'vitest';
import { decodeChatCompletion } from '../../../../lambdas/core/wire/openai-chat/decode.js';
import type { ChatCompletionRequest, ToolDef } from '../../../../lambdas/core/wire/openai-chat/types.js';

const req = (over: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
  model: 'm',
  messages: [{ role: 'user', content: 'hi' }],
  ...over,
});
const weather: ToolDef = { type: 'function', function: { name: 'get_weather', description: 'w', parameters: { type: 'object' } } };

describe('decodeChatCompletion', () => {
  it('a plain request: one user text turn, no tools, not streamed', () => {
    expect(decodeChatCompletion(req())).toEqual({
      system: [],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }], path: 'messages[0]' }],
      tools: [],
      stream: false,
    });
    expect(decodeChatCompletion(req({ stream: true })).stream).toBe(true);
  });

  it('sampling and limits: max_completion_tokens over max_tokens, stop as a list without empty entries', () => {
    expect(decodeChatCompletion(req({ max_tokens: 20, max_completion_tokens: 10, temperature: 0, top_p: 0.5, stop: 'END' }))).toMatchObject(
      {
        maxTokens: 10,
        temperature: 0,
        topP: 0.5,
        stopSequences: ['END'],
      },
    );
    const nothing = decodeChatCompletion(req({ temperature: null, top_p: null, stop: ['', ''], max_tokens: null }));
    for (const k of ['temperature', 'topP', 'stopSequences', 'maxTokens'] as const) expect(nothing).not.toHaveProperty(k);
  });

  it('tools: parameters as the input schema (an empty object schema when missing), tool_choice, parallel_tool_calls', () => {
    const out = decodeChatCompletion(
      req({ tools: [weather, { type: 'function', function: { name: 'ping' } }], tool_choice: 'required', parallel_tool_calls: false }),
    );
    expect(out.tools).toEqual([
      { name: 'get_weather', description: 'w', inputSchema: { type: 'object' } },
      { name: 'ping', inputSchema: { type: 'object', properties: {} } },
    ]);
    expect(out.toolChoice).toEqual({ type: 'any' });
    expect(out.parallelToolCalls).toBe(false);
  });

  it.each([
    ['auto', { type: 'auto' }],
    ['none', { type: 'none' }],
    ['required', { type: 'any' }],
    [
      { type: 'function', function: { name: 'get_weather' } },
      { type: 'tool', name: 'get_weather' },
    ],
  ] as const)('tool_choice %j → %j', (choice, expected) => {
    expect(decodeChatCompletion(req({ tools: [weather], tool_choice: choice })).toolChoice).toEqual(expected);
  });

  it('forcing a tool needs tools, and a named tool must be one of them', () => {
    expect(() => decodeChatCompletion(req({ tool_choice: 'required' }))).toThrow(
      expect.objectContaining({ status: 400, param: 'tool_choice' }),
    );
    expect(() => decodeChatCompletion(req({ tools: [weather], tool_choice: { type: 'function', function: { name: 'nope' } } }))).toThrow(
      /not in tools/,
    );
    expect(decodeChatCompletion(req({ tool_choice: 'none' })).toolChoice).toEqual({ type: 'none' });
  });

  it.each([
    [{ thinking: { type: 'disabled' as const }, reasoning_effort: 'high' as const }, { mode: 'off' }],
    [{ thinking: { type: 'enabled' as const, budget_tokens: 5000 } }, { mode: 'on', budgetTokens: 5000 }],
    [{ thinking: { type: 'enabled' as const } }, { mode: 'on' }],
    [{ reasoning_effort: 'low' as const }, { mode: 'on', effort: 'low' }],
    [{ reasoning_effort: 'none' as const }, { mode: 'off' }],
    [{ reasoning_effort: 'xhigh' as const }, { mode: 'on', effort: 'high' }],
    [{}, undefined],
  ])('reasoning: %j → %j', (over, reasoning) => {
    expect(decodeChatCompletion(req(over)).reasoning).toEqual(reasoning);
  });

  it('response_format: text is nothing, json_object and json_schema are decoded', () => {
    expect(decodeChatCompletion(req({ response_format: { type: 'text' } }))).not.toHaveProperty('responseFormat');
    expect(decodeChatCompletion(req({ response_format: { type: 'json_object' } })).responseFormat).toEqual({ type: 'json_object' });
    expect(
      decodeChatCompletion(
        req({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' }, strict: true } } }),
      ).responseFormat,
    ).toEqual({ type: 'json_schema', name: 'x', schema: { type: 'object' }, strict: true });
    expect(() => decodeChatCompletion(req({ response_format: { type: 'json_schema' } }))).toThrow(
      expect.objectContaining({ status: 400, param: 'response_format.json_schema' }),
    );
  });

  it('system and developer text becomes system blocks; assistant turns keep signed reasoning, text and tool calls in order', () => {
    const out = decodeChatCompletion(
      req({
        messages: [
          { role: 'developer', content: 'd' },
          { role: 'user', content: 'go' },
          {
            role: 'assistant',
            content: 'Calling.',
            reasoning_content: 'r',
            reasoning_signature: 's',
            tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
          },
          {
            role: 'tool',
            tool_call_id: 'c1',
            content: [
              { type: 'text', text: 'o' },
              { type: 'text', text: 'k' },
            ],
          },
        ],
      }),
    );
    expect(out.system).toEqual([{ type: 'text', text: 'd' }]);
    expect(out.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'go' }], path: 'messages[1]' },
      {
        role: 'assistant',
        path: 'messages[2]',
        content: [
          { type: 'reasoning', text: 'r', signature: 's' },
          { type: 'text', text: 'Calling.' },
          { type: 'tool_use', id: 'c1', name: 'f', input: { a: 1 } },
        ],
      },
      { role: 'user', path: 'messages[3]', content: [{ type: 'tool_result', toolUseId: 'c1', content: [{ type: 'text', text: 'ok' }] }] },
    ]);
  });

  it('refuses an unknown role, an empty messages list, and a tool call without an id', () => {
    expect(() => decodeChatCompletion(req({ messages: [{ role: 'robot' as never, content: 'x' }] }))).toThrow(
      expect.objectContaining({ status: 400, param: 'messages[0].role' }),
    );
    expect(() => decodeChatCompletion(req({ messages: [] }))).toThrow(expect.objectContaining({ status: 400, param: 'messages' }));
    expect(() =>
      decodeChatCompletion(
        req({
          messages: [
            { role: 'user', content: 'go' },
            { role: 'assistant', tool_calls: [{ id: '', type: 'function', function: { name: 'f', arguments: '{}' } }] },
          ],
        }),
      ),
    ).toThrow(expect.objectContaining({ status: 400, param: 'messages[1].tool_calls[0]' }));
  });

  it('names the wire parts when a request carries too many attachments, before decoding any', () => {
    const parts = Array.from({ length: 6 }, () => ({ type: 'file' as const, file: { file_data: 'not even base64!' } }));
    expect(() => decodeChatCompletion(req({ messages: [{ role: 'user', content: parts }] }))).toThrow(
      'A request may carry at most 5 documents (doc and file parts); this one has 6.',
    );
  });

  it('document names are unique across the whole request', () => {
    const pdf = `data:application/pdf;base64,${Buffer.from('%PDF-1.7\n').toString('base64')}`;
    const out = decodeChatCompletion(
      req({
        messages: [
          { role: 'user', content: [{ type: 'file', file: { file_data: pdf, filename: 'a.pdf' } }] },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: [{ type: 'file', file: { file_data: pdf, filename: 'a.pdf' } }] },
        ],
      }),
    );
    expect(out.messages.flatMap((m) => m.content.flatMap((b) => (b.type === 'document' ? [b.name] : [])))).toEqual(['a', 'a (2)']);
  });
});
