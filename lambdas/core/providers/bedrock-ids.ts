/**
 * Bedrock tool-use ids must match ^[a-zA-Z0-9_-]{1,64}$ (Converse and Claude on InvokeModel alike); ids minted by
 * other providers or clients may not. The same rewrite is applied to a call and to its result, so they still pair.
 */
export function toBedrockToolUseId(id: string): string {
  return id.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
}
