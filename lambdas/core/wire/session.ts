import { errors } from '../errors.js';

/** Longest session header value accepted (CONTRACT: ≤ 256 characters). */
export const MAX_SESSION_KEY = 256;

/**
 * The session a call belongs to, named by the client: `Session-Id` (every wire API), Claude Code's
 * `x-claude-code-session-id`, Codex's `session-id`. Trimmed; an over-long value is a 400, never silently cut.
 */
export function sessionKeyOf(headers: Record<string, string | undefined>, names: readonly string[] = ['session-id']): string | undefined {
  for (const name of names) {
    const v = headers[name]?.trim();
    if (!v) continue;
    if (v.length > MAX_SESSION_KEY)
      throw errors.badRequest(`The ${name} header may be at most ${MAX_SESSION_KEY} characters.`, name, 'session_id_too_long');
    return v;
  }
  return undefined;
}
