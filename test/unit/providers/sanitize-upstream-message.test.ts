import { describe, expect, it } from 'vitest';
import { MAX_UPSTREAM_MESSAGE, sanitizeUpstreamMessage } from '../../../lambdas/core/providers/sanitize-upstream-message.js';

describe('sanitizeUpstreamMessage', () => {
  it('redacts ARNs of any partition', () => {
    const out = sanitizeUpstreamMessage(
      'Invalid model arn:aws:bedrock:us-east-1:123456789012:inference-profile/x and arn:aws-cn:iam::210987654321:role/gw, retry',
    );
    expect(out).toBe('Invalid model arn:… and arn:…, retry');
  });

  it('redacts bare 12-digit account ids but keeps other numbers', () => {
    const out = sanitizeUpstreamMessage('Account 123456789012 has no access; max_tokens 4096 exceeds 9876543210987 limit');
    expect(out).not.toContain('123456789012');
    expect(out).toContain('4096');
    expect(out).toContain('9876543210987');
  });

  it('redacts URLs, bearer tokens, API keys and AWS access key ids an upstream echoes', () => {
    const out = sanitizeUpstreamMessage(
      'bad key sk-LEAKED-upstream-123456789 (Bearer abc.def-ghi) at http://10.0.0.5/internal?x=1, AKIAABCDEFGHIJKLMNOP, br-AbCdEf123456',
    );
    for (const leaked of ['sk-LEAKED', 'abc.def', '10.0.0.5', 'AKIAABCD', 'br-AbCdEf']) expect(out).not.toContain(leaked);
    expect(out).toBe('bad key **** (Bearer ****) at <url>, ****, ****');
  });

  it('keeps an ordinary validation message as it is', () => {
    const msg = 'The model returned the following errors: temperature: range: 0..1';
    expect(sanitizeUpstreamMessage(msg)).toBe(msg);
  });

  it('collapses whitespace and truncates long messages', () => {
    expect(sanitizeUpstreamMessage('  a \n\t b  ')).toBe('a b');
    const out = sanitizeUpstreamMessage(`x${' y'.repeat(5000)}`);
    expect(out.length).toBeLessThanOrEqual(MAX_UPSTREAM_MESSAGE + 1);
    expect(out.endsWith('…')).toBe(true);
  });

  it('does not leak an account id cut in half by the truncation', () => {
    const msg = `${'x'.repeat(MAX_UPSTREAM_MESSAGE - 20)} arn:aws:bedrock:us-east-1:123456789012:foundation-model/y`;
    expect(sanitizeUpstreamMessage(msg)).not.toMatch(/1234567/);
  });

  it('stays fast on hostile input', () => {
    const hostile = `${'arn:aws'.repeat(30_000)}${' 1'.repeat(50_000)}`;
    const t = performance.now();
    sanitizeUpstreamMessage(hostile);
    expect(performance.now() - t).toBeLessThan(200);
  });
});
