import { describe, expect, it } from 'vitest';
import { applyPromptCache, type CacheableParts } from '../../../../lambdas/core/providers/bedrock-converse/apply-prompt-cache.js';

const CP = { cachePoint: { type: 'default' } };
const parts: CacheableParts = {
  system: [{ text: 'sys' }],
  toolConfig: { tools: [{ toolSpec: { name: 'f', description: 'f', inputSchema: { json: {} } } }], toolChoice: { auto: {} } },
  messages: [
    { role: 'user', content: [{ text: 'q1' }] },
    { role: 'assistant', content: [{ text: 'a1' }] },
    { role: 'user', content: [{ text: 'q2' }] },
    { role: 'assistant', content: [{ text: 'prefill' }] },
  ],
};

describe('applyPromptCache', () => {
  it('adds cache points after system, after tools and after the last user turn', () => {
    const out = applyPromptCache(parts, { system: true, tools: true, messages: true });
    expect(out.system).toEqual([{ text: 'sys' }, CP]);
    expect(out.toolConfig).toEqual({ tools: [...parts.toolConfig!.tools!, CP], toolChoice: { auto: {} } });
    expect(out.messages[2].content).toEqual([{ text: 'q2' }, CP]);
    expect(out.messages[0].content).toEqual([{ text: 'q1' }]);
    expect(out.messages[3].content).toEqual([{ text: 'prefill' }]);
  });

  it('only where configured, never on empty parts, without mutating the input', () => {
    const out = applyPromptCache({ ...parts, system: [], toolConfig: undefined }, { system: true, tools: true, messages: false });
    expect(out).toEqual({ ...parts, system: [], toolConfig: undefined });
    expect(parts.messages[2].content).toEqual([{ text: 'q2' }]);
  });
});
