import { describe, expect, it } from 'vitest';
import { toBedrockToolUseId } from '../../../lambdas/core/providers/bedrock-ids.js';

const BEDROCK_ID = /^[a-zA-Z0-9_-]{1,64}$/;

describe('toBedrockToolUseId', () => {
  it('keeps a valid id as it is', () => {
    for (const id of ['call_abc', 'tooluse_Xy-1', 'a'.repeat(64)]) expect(toBedrockToolUseId(id)).toBe(id);
  });

  it('makes any other id valid, the same every time', () => {
    for (const id of ['', 'a.1', 'fc:1/2', 'x'.repeat(200), 'call_日本']) {
      expect(toBedrockToolUseId(id)).toMatch(BEDROCK_ID);
      expect(toBedrockToolUseId(id)).toBe(toBedrockToolUseId(id));
    }
  });

  it('never maps two different ids to one (they would pair a result with the wrong call)', () => {
    const long = `call_${'x'.repeat(90)}`;
    const pairs = [
      ['a.1', 'a_1'],
      ['a.1', 'a:1'],
      [`${long}A`, `${long}B`],
    ];
    for (const [a, b] of pairs) expect(toBedrockToolUseId(a)).not.toBe(toBedrockToolUseId(b));
  });
});
