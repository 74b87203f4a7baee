import { describe, expect, it } from 'vitest';
import { titleFrom } from '../../../lambdas/core/records/sessions.js';

describe('session titles', () => {
  it('skip the context blocks agents put before the user’s words', () => {
    const claude = '<system-reminder>\nAs you answer, use this context:\n# claudeMd\n…\n</system-reminder>\nSay hello to the gateway';
    expect(titleFrom(claude)).toBe('Say hello to the gateway');
    const codex =
      '<user_instructions>\nBe brief.\n</user_instructions>\n<environment_context>\n  <cwd>/tmp/x</cwd>\n</environment_context>\nGreet me.';
    expect(titleFrom(codex)).toBe('Greet me.');
    expect(titleFrom('<command-name>/review</command-name> <command-args/> Look at main.ts')).toBe('Look at main.ts');
  });

  it('keep HTML and prompts that are nothing but a block', () => {
    expect(titleFrom('Why is <b>this</b> bold?')).toBe('Why is <b>this</b> bold?');
    expect(titleFrom('<system-reminder>only this</system-reminder>')).toBe('<system-reminder>only this</system-reminder>');
    expect(titleFrom('  ')).toBe('(untitled)');
  });

  it('are one line of at most 80 characters', () => {
    const title = titleFrom(`first\nsecond ${'x'.repeat(200)}`);
    expect(title).toHaveLength(80);
    expect(title).toMatch(/^first second x+…$/);
  });
});
