import type { ToolSpecification } from '@aws-sdk/client-bedrock-runtime';
import { errors } from '../../openai/errors.js';
import type { ResponseFormat } from '../../openai/types.js';
import type { JsonDocument } from './json.js';

/**
 * How a JSON response_format is obtained from Converse, which has no JSON mode:
 * - forced-tool: a single tool whose input schema is the requested schema, forced with toolChoice; its input is
 *   returned as the message content. Reliable, but needs an object-rooted schema, no client tools and no thinking.
 * - instruction: a system instruction asking for JSON only (best effort) in every other case.
 */
export type StructuredOutput = { mode: 'forced-tool'; tool: ToolSpecification & { name: string } } | { mode: 'instruction'; text: string };

export interface StructuredOutputInputs {
  clientHasTools: boolean;
  thinking: boolean;
}

const ANY_OBJECT = { type: 'object', additionalProperties: true } as const;

export function planStructuredOutput(format: ResponseFormat | undefined, inputs: StructuredOutputInputs): StructuredOutput | undefined {
  if (!format || format.type === 'text') return undefined;
  let schema: Record<string, unknown>;
  let name: string;
  let description: string;
  if (format.type === 'json_schema') {
    if (!format.json_schema) {
      throw errors.badRequest('response_format.json_schema is required.', 'response_format.json_schema');
    }
    schema = format.json_schema.schema ?? ANY_OBJECT;
    name = structuredToolName(format.json_schema.name);
    description = format.json_schema.description?.trim() || 'Return the final answer as JSON matching this schema.';
  } else if (format.type === 'json_object') {
    schema = ANY_OBJECT;
    name = 'json_object';
    description = 'Return the final answer as a JSON object.';
  } else {
    throw errors.badRequest(`response_format.type '${String(format.type)}' is not supported.`, 'response_format.type');
  }

  const objectRooted = schema.type === undefined || schema.type === 'object';
  if (!inputs.clientHasTools && !inputs.thinking && objectRooted) {
    return { mode: 'forced-tool', tool: { name, description, inputSchema: { json: { type: 'object', ...schema } as JsonDocument } } };
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
