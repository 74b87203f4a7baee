import { readFileSync } from 'node:fs';
import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import type { ChatEvent } from '../../../../lambdas/core/chat/events.js';
import { GatewayError } from '../../../../lambdas/core/errors.js';
import { ConverseStreamState } from '../../../../lambdas/core/providers/bedrock-converse/stream-state.js';
import { ResponsesEncoder, type ResponseEcho } from '../../../../lambdas/core/wire/openai-responses/encode.js';
import type { SealedReasoning } from '../../../../lambdas/core/wire/openai-responses/reasoning-seal.js';
import type { ResponseEvent } from '../../../../lambdas/core/wire/openai-responses/types.js';

/** The core events the Converse provider makes of test/fixtures/converse/<name>.json. */
function coreEvents(name: string): ChatEvent[] {
  const raw: ConverseStreamOutput[] = JSON.parse(readFileSync(new URL(`../../../fixtures/converse/${name}.json`, import.meta.url), 'utf8'));
  const state = new ConverseStreamState();
  return [...raw.flatMap((e) => state.next(e)), ...state.end()];
}

const ECHO: ResponseEcho = {
  id: 'resp_test',
  object: 'response',
  created_at: 1_700_000_000,
  instructions: null,
  max_output_tokens: null,
  model: 'claude',
  parallel_tool_calls: true,
  previous_response_id: null,
  reasoning: { effort: null, summary: null },
  store: false,
  temperature: null,
  text: { format: { type: 'text' }, verbosity: 'medium' },
  tool_choice: 'auto',
  tools: [],
  top_p: null,
  truncation: 'disabled',
  user: null,
  metadata: {},
  background: false,
};

const sealed: SealedReasoning[] = [];
function encoder(opts: { custom?: string[]; include?: boolean } = {}) {
  return new ResponsesEncoder({
    echo: ECHO,
    customTools: new Set(opts.custom ?? []),
    includeEncrypted: opts.include ?? true,
    seal: (r) => {
      sealed.push(r);
      return `sealed-${sealed.length}`;
    },
  });
}

function run(events: ChatEvent[], enc = encoder()) {
  const out: ResponseEvent[] = [...enc.start()];
  for (const ev of events) out.push(...enc.encode(ev));
  const end = enc.end();
  out.push(...end.events);
  return { events: out, response: end.response };
}

describe('ResponsesEncoder on Converse fixtures', () => {
  it('plain text: the full event sequence, numbered from 0', () => {
    const { events, response } = run(coreEvents('plain-text'));
    events.forEach((e, i) => expect(e.sequence_number).toBe(i));
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...events.filter((e) => e.type === 'response.output_text.delta').map(() => 'response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(response.status).toBe('completed');
    expect(response.completed_at).toEqual(expect.any(Number));
    expect(response.output).toHaveLength(1);
    expect(response.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('reasoning then text: a reasoning item (summary text, sealed text + signature) before the message', () => {
    sealed.length = 0;
    const { events, response } = run(coreEvents('reasoning-then-text'));
    expect(response.output.map((o) => o.type)).toEqual(['reasoning', 'message']);
    expect(response.output[0]).toMatchObject({
      summary: [{ type: 'summary_text', text: 'The user greets me. Reply briefly.' }],
      encrypted_content: 'sealed-1',
    });
    expect(sealed).toEqual([{ type: 'reasoning', text: 'The user greets me. Reply briefly.', signature: 'EqQBCkgIARABGAIiQL0sig==' }]);
    const summaryDeltas = events.filter((e) => e.type === 'response.reasoning_summary_text.delta');
    expect(summaryDeltas.map((e) => e.output_index)).toEqual([0, 0]);
    const added = events.filter((e) => e.type === 'response.output_item.added');
    // at added, nothing is sealed yet (the signature comes last)
    expect(added[0]).toMatchObject({ output_index: 0, item: { type: 'reasoning', summary: [] } });
    expect(added[0].type === 'response.output_item.added' && 'encrypted_content' in added[0].item).toBe(false);
  });

  it('without include, clients never see encrypted_content, while the stored output keeps it', () => {
    const enc = encoder({ include: false });
    const { events, response } = run(coreEvents('reasoning-then-text'), enc);
    expect(JSON.stringify(events)).not.toContain('encrypted_content');
    expect(response.output[0]).toHaveProperty('encrypted_content');
    expect(enc.forClient(response).output[0]).not.toHaveProperty('encrypted_content');
  });

  it('text then parallel tools: dense output indexes, function_call items with their arguments', () => {
    const { events, response } = run(coreEvents('text-then-parallel-tools'));
    expect(response.output.map((o) => o.type)).toEqual(['message', 'function_call', 'function_call']);
    const added = events.flatMap((e) => (e.type === 'response.output_item.added' ? [e.output_index] : []));
    expect(added).toEqual([0, 1, 2]);
    for (const item of response.output.slice(1)) {
      expect(item.type === 'function_call' && JSON.parse(item.arguments)).toBeTruthy();
    }
    const argDeltas = events.filter((e) => e.type === 'response.function_call_arguments.delta');
    const byItem = new Map<string, string>();
    for (const e of argDeltas)
      if (e.type === 'response.function_call_arguments.delta') byItem.set(e.item_id, (byItem.get(e.item_id) ?? '') + e.delta);
    for (const item of response.output.slice(1))
      if (item.type === 'function_call') expect(byItem.get(item.id) ?? '{}').toBe(item.arguments);
  });

  it('a call of a custom tool is a custom_tool_call whose deltas are the decoded string', () => {
    const input = 'line 1\nline "2"\n';
    const json = JSON.stringify({ input });
    const ev: ChatEvent[] = [
      { type: 'message_start' },
      { type: 'block_start', index: 0, block: { type: 'tool_use', id: 'tooluse_1', name: 'apply_patch', toolIndex: 0 } },
      ...[...json].map((c): ChatEvent => ({ type: 'tool_input_delta', index: 0, toolIndex: 0, json: c })),
      { type: 'block_stop', index: 0 },
      { type: 'finish', reason: 'tool_use' },
    ];
    const { events, response } = run(ev, encoder({ custom: ['apply_patch'] }));
    const deltas = events.flatMap((e) => (e.type === 'response.custom_tool_call_input.delta' ? [e.delta] : []));
    expect(deltas.join('')).toBe(input);
    expect(events.some((e) => e.type === 'response.function_call_arguments.delta')).toBe(false);
    expect(response.output[0]).toMatchObject({
      type: 'custom_tool_call',
      call_id: 'tooluse_1',
      name: 'apply_patch',
      input,
      status: 'completed',
    });
  });

  it('a custom call whose JSON names another property still gets its raw text', () => {
    const ev: ChatEvent[] = [
      { type: 'block_start', index: 0, block: { type: 'tool_use', id: 't', name: 'apply_patch', toolIndex: 0 } },
      { type: 'tool_input_delta', index: 0, toolIndex: 0, json: '{"patch":"raw text"}' },
      { type: 'block_stop', index: 0 },
    ];
    expect(run(ev, encoder({ custom: ['apply_patch'] })).response.output[0]).toMatchObject({ input: 'raw text' });
  });

  it('max tokens: response.incomplete with the reason', () => {
    const { events, response } = run(coreEvents('max-tokens'));
    expect(events[events.length - 1].type).toBe('response.incomplete');
    expect(response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    expect(response.completed_at).toBeNull(); // only a completed response has one
    // The cut message is incomplete too, in the final response and in its output_item.done.
    expect(response.output.at(-1)).toMatchObject({ type: 'message', status: 'incomplete' });
    const done = events.filter((e) => e.type === 'response.output_item.done');
    expect(done.at(-1)).toMatchObject({ item: { type: 'message', status: 'incomplete' } });
    expect(run(coreEvents('plain-text')).response.output.at(-1)).toMatchObject({ type: 'message', status: 'completed' });
  });

  it('guardrail: response.incomplete for the content filter', () => {
    expect(run(coreEvents('guardrail-intervened')).response.incomplete_details).toEqual({ reason: 'content_filter' });
  });

  it('cache usage: input tokens include cache reads and writes; cached_tokens are the reads', () => {
    const { response } = run(coreEvents('cache-usage'));
    const u = response.usage!;
    expect(u.input_tokens_details.cached_tokens).toBeGreaterThan(0);
    expect(u.total_tokens).toBe(u.input_tokens + u.output_tokens);
  });

  it('a failure closes the open items as incomplete, then error and response.failed', () => {
    const enc = encoder();
    const out = [
      ...enc.start(),
      ...enc.encode({ type: 'block_start', index: 0, block: { type: 'text' } }),
      ...enc.encode({ type: 'text_delta', index: 0, text: 'par' }),
    ];
    const failed = enc.fail(new GatewayError(429, 'Bedrock is throttling', { code: 'throttled' }));
    out.push(...failed.events);
    expect(out.slice(-5).map((e) => e.type)).toEqual([
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'error',
      'response.failed',
    ]);
    expect(failed.response).toMatchObject({ status: 'failed', error: { code: 'throttled', message: 'Bedrock is throttling' } });
    expect(failed.response.completed_at).toBeNull();
    expect(failed.response.output[0]).toMatchObject({ status: 'incomplete', content: [{ text: 'par' }] });
    out.forEach((e, i) => expect(e.sequence_number).toBe(i));
  });
});
