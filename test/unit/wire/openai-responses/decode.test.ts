import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeResponses, type PlacedItem } from '../../../../lambdas/core/wire/openai-responses/decode.js';
import { openReasoning, sealReasoning } from '../../../../lambdas/core/wire/openai-responses/reasoning-seal.js';
import { responsesRequestSchema } from '../../../../lambdas/core/wire/openai-responses/schemas.js';
import type { ConversationItem, ResponsesRequest } from '../../../../lambdas/core/wire/openai-responses/types.js';
import { parse } from '../../../../lambdas/core/validate.js';

const KEY = randomBytes(32);
const ctx = { openReasoning: (token: string, path: string) => openReasoning(KEY, 7, 'claude', token, path) };

function decode(body: Record<string, unknown>) {
  const req: ResponsesRequest = parse(responsesRequestSchema, { model: 'claude', ...body });
  const input = typeof req.input === 'string' ? [{ type: 'message', role: 'user', content: req.input }] : (req.input ?? []);
  const items: PlacedItem[] = input.map((item, i) => ({ item: item as ConversationItem, path: `input[${i}]` }));
  return decodeResponses(req, items, ctx);
}

describe('decodeResponses', () => {
  it('instructions and every system/developer message become system text, in order', () => {
    const { request } = decode({
      instructions: 'Top.',
      input: [
        {
          role: 'developer',
          content: [
            { type: 'input_text', text: 'Dev 1.' },
            { type: 'input_text', text: 'Dev 2.' },
          ],
        },
        { role: 'user', content: 'hi' },
        { role: 'system', content: 'Late system.' },
      ],
    });
    expect(request.system.map((b) => b.text)).toEqual(['Top.', 'Dev 1.', 'Dev 2.', 'Late system.']);
    expect(request.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hi' }], path: 'input[1]' }]);
  });

  it('consecutive items of one role are one turn: reasoning, text and tool calls; parallel results', () => {
    const blob = sealReasoning(KEY, 7, 'claude', { type: 'reasoning', text: 'think', signature: 'sig' });
    const { request } = decode({
      input: [
        { role: 'user', content: 'go' },
        { type: 'reasoning', summary: [], encrypted_content: blob },
        { role: 'assistant', content: [{ type: 'output_text', text: 'Calling.' }] },
        { type: 'function_call', call_id: 'c1', name: 'a', arguments: '{"x":1}' },
        { type: 'custom_tool_call', call_id: 'c2', name: 'apply_patch', input: 'raw\n' },
        { type: 'function_call_output', call_id: 'c1', output: 'one' },
        { type: 'custom_tool_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'two' }] },
      ],
    });
    expect(request.messages.map((m) => [m.role, m.content.map((b) => b.type)])).toEqual([
      ['user', ['text']],
      ['assistant', ['reasoning', 'text', 'tool_use', 'tool_use']],
      ['user', ['tool_result', 'tool_result']],
    ]);
    expect(request.messages[1].content[0]).toEqual({ type: 'reasoning', text: 'think', signature: 'sig' });
    expect(request.messages[1].content[3]).toEqual({ type: 'tool_use', id: 'c2', name: 'apply_patch', input: { input: 'raw\n' } });
  });

  it('a custom tool is a tool with one required string property, its grammar in the description', () => {
    const { request, customTools, offeredTools } = decode({
      input: 'x',
      tools: [
        { type: 'custom', name: 'apply_patch', format: { type: 'grammar', syntax: 'lark', definition: 'start: "x"' } },
        { type: 'custom', name: 'free' },
        { type: 'function', name: 'f', parameters: { type: 'object', properties: { a: { type: 'string' } } } },
      ],
    });
    expect(request.tools[0].inputSchema).toEqual({
      type: 'object',
      properties: { input: { type: 'string', description: expect.stringContaining('lark grammar:\nstart: "x"') } },
      required: ['input'],
      additionalProperties: false,
    });
    expect(request.tools[1].description).toMatch(/free/);
    expect(request.tools[2].inputSchema).toEqual({ type: 'object', properties: { a: { type: 'string' } } });
    expect([...customTools]).toEqual(['apply_patch', 'free']);
    expect(offeredTools.map((t) => t.name)).toEqual(['apply_patch', 'free', 'f']);
  });

  it('tool_choice: auto, none, required → any, named function/custom → tool; hosted → 400', () => {
    const tools = [{ type: 'function', name: 'f' }, { type: 'custom', name: 'c' }, { type: 'web_search' }];
    expect(decode({ input: 'x', tools, tool_choice: 'auto' }).request.toolChoice).toEqual({ type: 'auto' });
    expect(decode({ input: 'x', tools, tool_choice: 'none' }).request.toolChoice).toEqual({ type: 'none' });
    expect(decode({ input: 'x', tools, tool_choice: 'required' }).request.toolChoice).toEqual({ type: 'any' });
    expect(decode({ input: 'x', tools, tool_choice: { type: 'function', name: 'f' } }).request.toolChoice).toEqual({
      type: 'tool',
      name: 'f',
    });
    expect(decode({ input: 'x', tools, tool_choice: { type: 'custom', name: 'c' } }).request.toolChoice).toEqual({
      type: 'tool',
      name: 'c',
    });
    expect(() => decode({ input: 'x', tools, tool_choice: { type: 'function', name: 'c' } })).toThrow(/not in tools/);
    expect(() => decode({ input: 'x', tools, tool_choice: { type: 'web_search' } })).toThrow(/hosted tool 'web_search'/);
    expect(() => decode({ input: 'x', tools: [{ type: 'web_search' }], tool_choice: 'required' })).toThrow(/not run by this gateway/);
    expect(decode({ input: 'x', tools }).ignoredTools).toEqual([{ type: 'web_search' }]);
  });

  it('reasoning.effort maps to the core reasoning request (none → off, xhigh → high); text.format to the response format', () => {
    expect(decode({ input: 'x', reasoning: { effort: 'none' } }).request.reasoning).toEqual({ mode: 'off' });
    expect(decode({ input: 'x', reasoning: { effort: 'low' } }).request.reasoning).toEqual({ mode: 'on', effort: 'low' });
    expect(decode({ input: 'x', reasoning: { effort: 'xhigh' } }).request.reasoning).toEqual({ mode: 'on', effort: 'high' });
    expect(decode({ input: 'x', reasoning: { summary: 'auto' } }).request.reasoning).toBeUndefined();
    const schema = { type: 'object', properties: { a: { type: 'number' } } };
    expect(
      decode({ input: 'x', text: { format: { type: 'json_schema', name: 'out', schema, strict: true } } }).request.responseFormat,
    ).toEqual({
      type: 'json_schema',
      name: 'out',
      schema,
      strict: true,
    });
    expect(decode({ input: 'x', text: { format: { type: 'text' } } }).request.responseFormat).toBeUndefined();
  });

  it('sampling and limits are carried over', () => {
    const { request } = decode({ input: 'x', temperature: 0, top_p: 0.5, max_output_tokens: 99, parallel_tool_calls: false, stream: true });
    expect(request).toMatchObject({
      temperature: 0,
      topP: 0.5,
      maxTokens: 99,
      maxTokensIncludesReasoning: true,
      parallelToolCalls: false,
      stream: true,
    });
  });

  it('refuses a conversation that starts with assistant output, bad arguments, and a history without a user turn', () => {
    expect(() => decode({ input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }] })).toThrow(
      /start with a user message/,
    );
    expect(() =>
      decode({
        input: [
          { role: 'user', content: 'x' },
          { type: 'function_call', call_id: 'c', name: 'f', arguments: '{' },
        ],
      }),
    ).toThrow(/arguments is not valid JSON/);
    expect(() => decode({ input: [{ role: 'developer', content: 'only rules' }] })).toThrow(/at least one user message/);
  });

  it('reasoning: skipped without encrypted_content, dropped when sealed for another model, 400 when forged', () => {
    const other = sealReasoning(KEY, 7, 'another-model', { type: 'reasoning', text: 't', signature: 's' });
    const { request } = decode({
      input: [
        { role: 'user', content: 'x' },
        { type: 'reasoning', summary: [], encrypted_content: null },
        { type: 'reasoning', summary: [], encrypted_content: other },
        { role: 'assistant', content: 'a' },
      ],
    });
    expect(request.messages[1].content).toEqual([{ type: 'text', text: 'a' }]);
    expect(() =>
      decode({
        input: [
          { role: 'user', content: 'x' },
          { type: 'reasoning', summary: [], encrypted_content: 'forged' },
        ],
      }),
    ).toThrow(expect.objectContaining({ status: 400, code: 'invalid_encrypted_content', param: 'input[1].encrypted_content' }));
  });
});

describe('reasoning seal', () => {
  it('round-trips text and signature, and redacted data, only for the key it was sealed for', () => {
    const blob = sealReasoning(KEY, 1, 'm', { type: 'reasoning', text: 'secret thoughts', signature: 'sig' });
    expect(blob).not.toContain('secret');
    expect(openReasoning(KEY, 1, 'm', blob, 'p')).toEqual({ type: 'reasoning', text: 'secret thoughts', signature: 'sig' });
    const redacted = sealReasoning(KEY, 1, 'm', { type: 'redacted_reasoning', data: 'b64==' });
    expect(openReasoning(KEY, 1, 'm', redacted, 'p')).toEqual({ type: 'redacted_reasoning', data: 'b64==' });
    // another API key, another gateway key, a flipped byte: never opens
    expect(() => openReasoning(KEY, 2, 'm', blob, 'p')).toThrow(/not issued to this API key/);
    expect(() => openReasoning(randomBytes(32), 1, 'm', blob, 'p')).toThrow(/not issued/);
    const raw = Buffer.from(blob, 'base64url');
    raw[20] ^= 1;
    expect(() => openReasoning(KEY, 1, 'm', raw.toString('base64url'), 'p')).toThrow(/not issued/);
    // two seals of the same reasoning differ (random IV)
    expect(sealReasoning(KEY, 1, 'm', { type: 'reasoning', text: 'x' })).not.toBe(
      sealReasoning(KEY, 1, 'm', { type: 'reasoning', text: 'x' }),
    );
  });
});
