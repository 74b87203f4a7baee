import { createHash } from 'node:crypto';

const VALID = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Bedrock tool-use ids must match ^[a-zA-Z0-9_-]{1,64}$ (Converse and Claude on InvokeModel alike); ids minted by
 * other providers or clients may not. A valid id is kept as it is. Any other id becomes its cleaned-up first 51
 * characters, `_` and 12 hex characters of its SHA-256, so two different ids never meet in one (`a.1` and `a_1`,
 * or two long ids alike in their first 64 characters). The same rewrite is applied to a call and to its result, so
 * they still pair.
 */
export function toBedrockToolUseId(id: string): string {
  if (VALID.test(id)) return id;
  const digest = createHash('sha256').update(id).digest('hex').slice(0, 12);
  return `${id.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 51)}_${digest}`;
}
