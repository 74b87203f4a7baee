import { describe, expect, it } from 'vitest';
import { MAX_SESSION_KEY, sessionKeyOf } from '../../../lambdas/core/wire/session.js';

describe('sessionKeyOf', () => {
  it('the session-id header, trimmed; none when absent or blank', () => {
    expect(sessionKeyOf({ 'session-id': '  chat-1 ' })).toBe('chat-1');
    expect(sessionKeyOf({ 'session-id': '   ' })).toBeUndefined();
    expect(sessionKeyOf({})).toBeUndefined();
  });

  it('the first of the given header names that is set wins', () => {
    const headers = { 'x-claude-code-session-id': 'cc', 'session-id': 'plain' };
    expect(sessionKeyOf(headers, ['x-claude-code-session-id', 'session-id'])).toBe('cc');
    expect(sessionKeyOf({ 'session-id': 'plain' }, ['x-claude-code-session-id', 'session-id'])).toBe('plain');
  });

  it(`at most ${MAX_SESSION_KEY} characters: a longer value is a 400, never silently cut`, () => {
    expect(sessionKeyOf({ 'session-id': 'x'.repeat(MAX_SESSION_KEY) })).toHaveLength(MAX_SESSION_KEY);
    expect(() => sessionKeyOf({ 'session-id': 'x'.repeat(MAX_SESSION_KEY + 1) })).toThrow(
      expect.objectContaining({ status: 400, param: 'session-id', code: 'session_id_too_long' }),
    );
  });
});
