import { describe, expect, it } from 'vitest';
import {
  betasOf,
  decodeCountTokensRequest,
  decodeMessagesRequest,
  foldSystemMessages,
} from '../../../../lambdas/core/wire/anthropic-messages/decode.js';
import { countTokensRequestSchema, messagesRequestSchema } from '../../../../lambdas/core/wire/anthropic-messages/schemas.js';
import { parse } from '../../../../lambdas/core/validate.js';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]).toString('base64');
const decode = (body: Record<string, unknown>, betas: string[] = []) =>
  decodeMessagesRequest(
    parse(messagesRequestSchema, { model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], ...body }),
    betas,
  );

describe('decodeMessagesRequest', () => {
  it('always carries extensions.anthropic (betas and the unmodelled fields, even when both are empty)', () => {
    expect(decode({}).extensions).toEqual({ anthropic: { betas: [], fields: {} } });
    const req = decode(
      { metadata: { user_id: 'u' }, context_management: { edits: [] }, output_config: { effort: 'high' }, brand_new: [1] },
      ['claude-code-20250219'],
    );
    expect(req.extensions).toEqual({
      anthropic: {
        betas: ['claude-code-20250219'],
        fields: { metadata: { user_id: 'u' }, context_management: { edits: [] }, output_config: { effort: 'high' }, brand_new: [1] },
      },
    });
  });

  it('max_tokens is a ceiling; `stream` absent or false means JSON; sampling and stops as sent', () => {
    expect(decode({})).toMatchObject({ maxTokens: 100, maxTokensIsCeiling: true, stream: false });
    expect(decode({ stream: true }).stream).toBe(true);
    expect(decode({ stream: false }).stream).toBe(false);
    expect(decode({ temperature: 0, top_p: 0.5, top_k: 3, stop_sequences: ['A', ''] })).toMatchObject({
      temperature: 0,
      topP: 0.5,
      topK: 3,
      stopSequences: ['A'],
    });
  });

  it('system as a string or text blocks, with cache marks and their Claude-only fields', () => {
    expect(decode({ system: 'Be brief.' }).system).toEqual([{ type: 'text', text: 'Be brief.' }]);
    expect(
      decode({
        system: [{ type: 'text', text: 'rules', cache_control: { type: 'ephemeral', ttl: '1h', scope: 'global' }, citations: null }],
      }).system,
    ).toEqual([
      {
        type: 'text',
        text: 'rules',
        cache: { type: 'ephemeral', ttl: '1h', anthropic: { scope: 'global' } },
        anthropic: { citations: null },
      },
    ]);
  });

  it('foldSystemMessages: system messages inside messages[] join the system text, in order', () => {
    const text = (t: string) => [{ type: 'text' as const, text: t }];
    const { system, messages } = foldSystemMessages(text('top'), [
      { role: 'user', content: text('q') },
      { role: 'system', content: text('mid') },
      { role: 'system', content: text('blocks') },
      { role: 'assistant', content: text('a') },
    ]);
    expect(system.map((b) => b.text)).toEqual(['top', 'mid', 'blocks']);
    expect(messages.map((m) => [m.message.role, m.index])).toEqual([
      ['user', 0],
      ['assistant', 3],
    ]);
    const req = decode({
      messages: [
        { role: 'user', content: 'q' },
        { role: 'system', content: 'mid' },
        { role: 'user', content: 'more' },
      ],
    });
    expect(req.system).toEqual([{ type: 'text', text: 'mid' }]);
    expect(req.messages.map((m) => m.role)).toEqual(['user', 'user']);
  });

  it('content blocks: text, image (bytes checked), document, tool_use, tool_result, thinking with its signature, redacted thinking', () => {
    const req = decode({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'text', text: '   ' },
            { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: PNG } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'notes' }, title: 'My notes', context: 'ctx' },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm', signature: 'SIG==' },
            { type: 'redacted_thinking', data: 'RED' },
            { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 }, cache_control: { type: 'ephemeral' } },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'done', is_error: true }] },
      ],
    });
    expect(req.messages[0].content).toEqual([
      { type: 'text', text: 'look' },
      { type: 'image', source: { type: 'bytes', mediaType: 'image/png', data: expect.any(Uint8Array) } }, // the bytes decide the type
      { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
      {
        type: 'document',
        format: 'txt',
        name: 'My notes',
        data: new TextEncoder().encode('notes'),
        anthropic: { title: 'My notes', context: 'ctx' },
      },
    ]);
    expect(req.messages[1].content).toEqual([
      { type: 'reasoning', text: 'hmm', signature: 'SIG==' },
      { type: 'redacted_reasoning', data: 'RED' },
      { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 }, cache: { type: 'ephemeral' } },
    ]);
    expect(req.messages[2].content).toEqual([
      { type: 'tool_result', toolUseId: 'toolu_1', content: [{ type: 'text', text: 'done' }], isError: true },
    ]);
  });

  it('a cache mark inside a tool result is kept on its block', () => {
    const req = decode({
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'r', cache_control: { type: 'ephemeral' } }] },
          ],
        },
      ],
    });
    expect(req.messages[2].content).toEqual([
      { type: 'tool_result', toolUseId: 't1', content: [{ type: 'text', text: 'r', cache: { type: 'ephemeral' } }] },
    ]);
  });

  it('tools: custom tools keep their extra fields for Claude; server tools keep their type', () => {
    const req = decode({
      tools: [
        { name: 'Read', description: 'Read', input_schema: { type: 'object' }, defer_loading: true, cache_control: { type: 'ephemeral' } },
        { type: 'web_search_20250305', name: 'web_search', max_uses: 2 },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
    });
    expect(req.tools).toEqual([
      {
        name: 'Read',
        description: 'Read',
        inputSchema: { type: 'object' },
        cache: { type: 'ephemeral' },
        anthropic: { defer_loading: true },
      },
      { name: 'web_search', inputSchema: { type: 'object' }, anthropic: { type: 'web_search_20250305', max_uses: 2 } },
    ]);
    expect(req).toMatchObject({ toolChoice: { type: 'any' }, parallelToolCalls: false });
    expect(decode({ tools: [], tool_choice: { type: 'none' } }).toolChoice).toEqual({ type: 'none' });
    // Forcing a tool needs tools, and a named one must be among them (a 400, as Anthropic answers).
    expect(() => decode({ tool_choice: { type: 'tool', name: 'x' } })).toThrow(/requires tools/);
    expect(() => decode({ tools: [], tool_choice: { type: 'any' } })).toThrow(/requires tools/);
    expect(() => decode({ tools: [{ name: 'Read', input_schema: { type: 'object' } }], tool_choice: { type: 'tool', name: 'x' } })).toThrow(
      /not in tools/,
    );
    expect(
      decode({ tools: [{ name: 'Read', input_schema: { type: 'object' } }], tool_choice: { type: 'tool', name: 'Read' } }).toolChoice,
    ).toEqual({
      type: 'tool',
      name: 'Read',
    });
  });

  it('thinking: enabled with its budget and extra fields, adaptive with the effort, disabled', () => {
    expect(decode({ thinking: { type: 'enabled', budget_tokens: 2048, display: 'omitted' } }).reasoning).toEqual({
      mode: 'on',
      budgetTokens: 2048,
      anthropic: { display: 'omitted' },
    });
    expect(decode({ thinking: { type: 'adaptive' }, output_config: { effort: 'max' } }).reasoning).toEqual({
      mode: 'on',
      adaptive: true,
      effort: 'high',
    });
    expect(decode({ thinking: { type: 'disabled' } }).reasoning).toEqual({ mode: 'off' });
  });

  it('refuses, as 400s naming the place: an unknown block type, a block in the wrong role, bad image bytes, no messages', () => {
    expect(() => decode({ messages: [{ role: 'user', content: [{ type: 'hologram' }] }] })).toThrow(/unsupported content block type/);
    expect(() => decode({ messages: [{ role: 'user', content: [{ type: 'tool_use', id: 't', name: 'f', input: {} }] }] })).toThrow(
      /messages\[0\]\.content\[0\].*assistant/,
    );
    expect(() =>
      decode({ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', data: 'aGVsbG8=' } }] }] }),
    ).toThrow(/not a PNG/);
    expect(() => decode({ messages: [{ role: 'system', content: 'only system' }] })).toThrow(/at least one non-empty/);
    expect(() => decode({ tools: [{ name: 'no schema' }] })).toThrow(/input_schema is required/);
  });

  it('count_tokens: the same prompt, never streamed, no output limit', () => {
    const body = parse(countTokensRequestSchema, { model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    const req = decodeCountTokensRequest(body, ['token-counting-2024-11-01']);
    expect(req).toMatchObject({ stream: false, extensions: { anthropic: { betas: ['token-counting-2024-11-01'], fields: {} } } });
    expect(req.maxTokens).toBeUndefined();
  });

  it('betasOf: the anthropic-beta header, comma-separated', () => {
    expect(betasOf({ 'anthropic-beta': 'a, b,,c ' })).toEqual(['a', 'b', 'c']);
    expect(betasOf({})).toEqual([]);
  });
});
