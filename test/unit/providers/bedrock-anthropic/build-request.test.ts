import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../../../lambdas/core/chat/request.js';
import { buildInvokeBody, type ClaudeTarget } from '../../../../lambdas/core/providers/bedrock-anthropic/build-request.js';
import { mergeSameRoleTurns, toMessagesBody } from '../../../../lambdas/core/providers/bedrock-anthropic/map-request.js';

const target: ClaudeTarget = { modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: undefined, maxTokens: undefined };
const req = (over: Partial<ChatRequest>): ChatRequest => ({
  system: [],
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
  tools: [],
  stream: false,
  extensions: { anthropic: { betas: [], fields: {} } },
  ...over,
});
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

describe('toMessagesBody: the core request back as the Messages body', () => {
  it('reproduces thinking, signatures, redacted thinking, tool ids and cache marks exactly', () => {
    const body = toMessagesBody(
      req({
        system: [
          { type: 'text', text: 'billing header' },
          { type: 'text', text: 'Long rules', cache: { type: 'ephemeral', ttl: '1h' } },
        ],
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'find x', cache: { type: 'ephemeral' } }] },
          {
            role: 'assistant',
            content: [
              { type: 'reasoning', text: 'Let me think.\n\n', signature: 'EqQBCkgIARAB/+sig==' },
              { type: 'redacted_reasoning', data: 'EmwKAhgBEgy3' },
              { type: 'text', text: 'Looking.', anthropic: { citations: null } },
              { type: 'tool_use', id: 'toolu_bdrk_01ABC', name: 'lookup', input: { q: 'x', n: [1, 2] } },
            ],
          },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                toolUseId: 'toolu_bdrk_01ABC',
                content: [
                  { type: 'text', text: '42', cache: { type: 'ephemeral' } },
                  { type: 'image', mediaType: 'image/png', data: PNG },
                ],
                isError: true,
                cache: { type: 'ephemeral', anthropic: { scope: 'global' } },
              },
            ],
          },
        ],
        maxTokens: 1000,
      }),
    );
    expect(body).toEqual({
      system: [
        { type: 'text', text: 'billing header' },
        { type: 'text', text: 'Long rules', cache_control: { type: 'ephemeral', ttl: '1h' } },
      ],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'find x', cache_control: { type: 'ephemeral' } }] },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'Let me think.\n\n', signature: 'EqQBCkgIARAB/+sig==' },
            { type: 'redacted_thinking', data: 'EmwKAhgBEgy3' },
            { type: 'text', text: 'Looking.', citations: null },
            { type: 'tool_use', id: 'toolu_bdrk_01ABC', name: 'lookup', input: { q: 'x', n: [1, 2] } },
          ],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_bdrk_01ABC',
              content: [
                { type: 'text', text: '42', cache_control: { type: 'ephemeral' } },
                { type: 'image', source: { type: 'base64', media_type: 'image/png', data: Buffer.from(PNG).toString('base64') } },
              ],
              is_error: true,
              cache_control: { type: 'ephemeral', scope: 'global' },
            },
          ],
        },
      ],
      max_tokens: 1000,
    });
  });

  it('unsigned reasoning (another model’s) is not replayed: Claude would refuse it', () => {
    const body = toMessagesBody(
      req({
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'q' }] },
          {
            role: 'assistant',
            content: [
              { type: 'reasoning', text: 'unsigned' },
              { type: 'text', text: 'a' },
            ],
          },
          { role: 'user', content: [{ type: 'text', text: 'q2' }] },
        ],
      }),
    );
    expect((body.messages as Array<{ content: unknown[] }>)[1].content).toEqual([{ type: 'text', text: 'a' }]);
  });

  it('tools: custom tools with their own fields, server tools without an input schema; tool_choice and parallelism', () => {
    const body = toMessagesBody(
      req({
        tools: [
          { name: 'Read', description: 'Read', inputSchema: { type: 'object' }, anthropic: { strict: true }, cache: { type: 'ephemeral' } },
          { name: 'web_search', inputSchema: { type: 'object' }, anthropic: { type: 'web_search_20250305', max_uses: 3 } },
        ],
        toolChoice: { type: 'tool', name: 'Read' },
        parallelToolCalls: false,
      }),
    );
    expect(body.tools).toEqual([
      { name: 'Read', description: 'Read', input_schema: { type: 'object' }, strict: true, cache_control: { type: 'ephemeral' } },
      { type: 'web_search_20250305', max_uses: 3, name: 'web_search' },
    ]);
    expect(body.tool_choice).toEqual({ type: 'tool', name: 'Read', disable_parallel_tool_use: true });
    expect(toMessagesBody(req({ parallelToolCalls: false })).tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    expect(toMessagesBody(req({ toolChoice: { type: 'none' } })).tool_choice).toEqual({ type: 'none' });
  });

  it('thinking from the core request, with its Claude-only fields; sampling and stops; extension fields last', () => {
    const body = toMessagesBody(
      req({
        reasoning: { mode: 'on', budgetTokens: 4096, anthropic: { display: 'omitted' } },
        temperature: 1,
        topK: 5,
        stopSequences: ['END'],
        extensions: { anthropic: { betas: [], fields: { metadata: { user_id: 'u' }, max_tokens: 7 } } },
      }),
    );
    expect(body).toMatchObject({
      thinking: { type: 'enabled', budget_tokens: 4096, display: 'omitted' },
      temperature: 1,
      top_k: 5,
      stop_sequences: ['END'],
      metadata: { user_id: 'u' },
      max_tokens: 4096, // the default; an extension field never overrides a modelled one
    });
    expect(toMessagesBody(req({ reasoning: { mode: 'on', adaptive: true } })).thinking).toEqual({ type: 'adaptive' });
    expect(toMessagesBody(req({ reasoning: { mode: 'off' } })).thinking).toEqual({ type: 'disabled' });
  });

  it('documents: PDF as base64, text as text; formats Claude cannot read are a 400', () => {
    const pdf = new TextEncoder().encode('%PDF-1.4 x');
    const body = toMessagesBody(
      req({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'document', format: 'pdf', name: 'a', data: pdf, anthropic: { title: 'A', citations: { enabled: true } } },
              { type: 'document', format: 'txt', name: 'b', data: new TextEncoder().encode('plain') },
            ],
          },
        ],
      }),
    );
    expect((body.messages as Array<{ content: unknown[] }>)[0].content).toEqual([
      {
        type: 'document',
        source: { type: 'base64', media_type: 'application/pdf', data: Buffer.from(pdf).toString('base64') },
        title: 'A',
        citations: { enabled: true },
      },
      { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain' } },
    ]);
    expect(() =>
      toMessagesBody(
        req({
          messages: [
            { role: 'user', content: [{ type: 'document', format: 'docx', name: 'c', data: Uint8Array.from([0x50, 0x4b, 3, 4]) }] },
          ],
        }),
      ),
    ).toThrow(/PDF and plain-text/);
  });

  it('mergeSameRoleTurns: neighbours of one role become one turn', () => {
    const merged = mergeSameRoleTurns([
      { role: 'user', content: [{ type: 'text', text: 'a' }] },
      { role: 'user', content: [{ type: 'text', text: 'b' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'c' }] },
    ]);
    expect(merged.map((m) => [m.role, m.content.length])).toEqual([
      ['user', 2],
      ['assistant', 1],
    ]);
  });
});

describe('buildInvokeBody: what Bedrock gets', () => {
  it('anthropic_version first, betas filtered into anthropic_beta, no model or stream, rules applied; drops reported', () => {
    const plan = buildInvokeBody(
      req({
        stream: true,
        maxTokens: 32000,
        reasoning: { mode: 'on', budgetTokens: 31999, anthropic: { display: 'summarized' } },
        extensions: {
          anthropic: {
            betas: ['claude-code-20250219', 'interleaved-thinking-2025-05-14', 'context-management-2025-06-27'],
            fields: { context_management: { edits: [] }, speed: 'fast', metadata: { user_id: 'u' } },
          },
        },
      }),
      target,
    );
    expect(Object.keys(plan.body)[0]).toBe('anthropic_version');
    expect(plan.body).toEqual({
      anthropic_version: 'bedrock-2023-05-31',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      max_tokens: 32000,
      thinking: { type: 'enabled', budget_tokens: 31999 },
      context_management: { edits: [] },
      metadata: { user_id: 'u' },
      anthropic_beta: ['interleaved-thinking-2025-05-14', 'context-management-2025-06-27'],
    });
    expect(plan.droppedBetas).toEqual(['claude-code-20250219']);
    expect(plan.droppedFields).toEqual(['speed']);
  });

  it('max_tokens: the request’s, else the model config’s, else 4096', () => {
    expect(buildInvokeBody(req({}), { ...target, maxTokens: 2000 }).body.max_tokens).toBe(2000);
    expect(buildInvokeBody(req({}), target).body.max_tokens).toBe(4096);
    expect(buildInvokeBody(req({ maxTokens: 10 }), { ...target, maxTokens: 2000 }).body.max_tokens).toBe(10);
    expect(buildInvokeBody(req({}), target).body).not.toHaveProperty('anthropic_beta');
  });
});
