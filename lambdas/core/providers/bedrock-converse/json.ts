import type { ToolUseBlock } from '@aws-sdk/client-bedrock-runtime';

/** A JSON value as the SDK types it (toolUse input, toolResult json, tool input schemas). */
export type JsonDocument = NonNullable<ToolUseBlock['input']>;
export type JsonObject = { [key: string]: JsonDocument };

/** Values from JSON.parse or a request body are JSON by construction; this only checks for an object. */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
