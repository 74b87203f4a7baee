import type { ToolSpecification } from '@aws-sdk/client-bedrock-runtime';
import type { ResponseFormat } from '../../chat/request.js';
import type { JsonObject } from '../../json.js';

/**
 * How a JSON response format is obtained from Converse, which has no JSON mode:
 * - forced-tool: a single tool whose input schema is the requested schema, forced with toolChoice; its input is
 *   returned as the message text. Reliable, but needs an object-rooted schema, no client tools and no thinking.
 * - instruction: a system instruction asking for JSON only (best effort) in every other case.
 */
export type StructuredOutput = { mode: 'forced-tool'; tool: ToolSpecification & { name: string } } | { mode: 'instruction'; text: string };

export interface StructuredOutputInputs {
  clientHasTools: boolean;
  thinking: boolean;
}

const ANY_OBJECT: JsonObject = { type: 'object', additionalProperties: true };

export function planStructuredOutput(format: ResponseFormat | undefined, inputs: StructuredOutputInputs): StructuredOutput | undefined {
  if (!format) return undefined;
  const schema = format.type === 'json_schema' ? (format.schema ?? ANY_OBJECT) : ANY_OBJECT;
  const name = format.type === 'json_schema' ? structuredToolName(format.name) : 'json_object';
  const description =
    format.type === 'json_schema'
      ? format.description?.trim() || 'Return the final answer as JSON matching this schema.'
      : 'Return the final answer as a JSON object.';

  const objectRooted = schema.type === undefined || schema.type === 'object';
  if (!inputs.clientHasTools && !inputs.thinking && objectRooted) {
    return { mode: 'forced-tool', tool: { name, description, inputSchema: { json: { type: 'object', ...schema } } } };
  }
  return {
    mode: 'instruction',
    text:
      format.type === 'json_object'
        ? 'Respond only with a valid JSON object, with no other text.'
        : `Respond only with JSON that conforms to this JSON schema, with no other text:\n${JSON.stringify(schema)}`,
  };
}

/** json_schema.name → a valid Bedrock tool name (^[a-zA-Z0-9_-]{1,64}$). */
export function structuredToolName(name: string | undefined): string {
  return (name ?? '').replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64) || 'json_response';
}
