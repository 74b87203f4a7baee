import { describe, expect, it } from 'vitest';
import { promptScript } from '../local/bedrock-simulator/prompt-scripts.js';
import type { JsonObject, ScriptRequest } from '../local/bedrock-simulator/index.js';

const APPLY_PATCH = {
  toolSpec: { name: 'apply_patch', inputSchema: { json: { type: 'object', properties: { input: { type: 'string' } } } } },
};
const EXEC = {
  toolSpec: {
    name: 'exec_command',
    inputSchema: { json: { type: 'object', properties: { cmd: { type: 'string' }, login: { type: 'boolean' } } } },
  },
};
const req = (messages: JsonObject[], extra: JsonObject = {}): ScriptRequest => ({
  operation: 'ConverseStream',
  modelId: 'm',
  body: { messages, toolConfig: { tools: [APPLY_PATCH, EXEC] }, ...extra },
});
const PROMPT = {
  role: 'user',
  content: [
    { text: '<environment_context/>' },
    { text: 'go\nsim:tool apply_patch "*** Begin Patch\\n*** End Patch\\n"\nsim:tool exec_command {"cmd":"ls"}\nsim:say All done.' },
  ],
};
const round = (n: number) =>
  Array.from({ length: n }, (_, i) => [
    { role: 'assistant', content: [{ toolUse: { toolUseId: `t${i}`, name: 'x', input: {} } }] },
    {
      role: 'user',
      content: [{ toolResult: { toolUseId: `t${i}`, content: [{ text: 'sim:tool exec_command {} (printed by a tool)' }] } }],
    },
  ]).flat();

describe('prompt scripts (sim: lines)', () => {
  it('plays the tool lines turn by turn, then the final answer', () => {
    expect(promptScript(req([PROMPT]))?.content).toEqual([
      { toolUse: { name: 'apply_patch', input: { input: '*** Begin Patch\n*** End Patch\n' } } },
    ]);
    expect(promptScript(req([PROMPT, ...round(1)]))?.content).toEqual([{ toolUse: { name: 'exec_command', input: { cmd: 'ls' } } }]);
    expect(promptScript(req([PROMPT, ...round(2)]))?.content).toEqual([{ text: 'All done.' }]);
  });

  it('starts with signed reasoning when the request thinks or a reason line asks for it', () => {
    const thinking = { additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } } };
    const first = promptScript(req([PROMPT], thinking))!.content![0];
    expect(first).toMatchObject({ reasoning: { text: expect.any(String), signature: expect.any(String) } });
    const reasoned = promptScript(req([{ role: 'user', content: [{ text: 'sim:reason Pondering.\nsim:say Hi.' }] }]));
    expect(reasoned?.content?.[0]).toMatchObject({ reasoning: { text: 'Pondering.' } });
  });

  it('leaves requests without sim: lines (or with only used-up tool lines and no say) to the default', () => {
    expect(promptScript(req([{ role: 'user', content: [{ text: 'hello' }] }]))).toBeUndefined();
    expect(promptScript(req([{ role: 'user', content: [{ text: 'sim:tool exec_command {}' }] }, ...round(1)]))).toBeUndefined();
  });

  it('says so when the scripted tool is not offered', () => {
    const r = promptScript(req([{ role: 'user', content: [{ text: 'sim:tool missing {}' }] }]));
    expect(r?.content).toEqual([{ text: expect.stringContaining('missing is not offered') }]);
  });
});

describe('prompt scripts on a Claude InvokeModel body (Anthropic shape)', () => {
  const claude = (messages: JsonObject[], extra: JsonObject = {}): ScriptRequest => ({
    operation: 'InvokeModelWithResponseStream',
    modelId: 'anthropic.claude-sonnet-4-5',
    body: {
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 1024,
      messages,
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      ...extra,
    },
  });
  const prompt = { role: 'user', content: [{ type: 'text', text: 'sim:tool get_weather "Paris"\nsim:say It is sunny.' }] };

  it('finds the tool among the body’s tools, then answers; thinking comes first when the body asks for it', () => {
    expect(promptScript(claude([prompt]))?.content).toEqual([{ toolUse: { name: 'get_weather', input: { city: 'Paris' } } }]);
    const after = [
      prompt,
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }] },
    ];
    expect(promptScript(claude(after))?.content).toEqual([{ text: 'It is sunny.' }]);
    const thinking = promptScript(claude([prompt], { thinking: { type: 'enabled', budget_tokens: 1024 } }))!.content!;
    expect(thinking[0]).toMatchObject({ reasoning: { text: expect.any(String) } });
    expect(promptScript(claude([{ role: 'user', content: 'sim:say Plain string content.' }]))?.content).toEqual([
      { text: 'Plain string content.' },
    ]);
  });
});
