import { describe, expect, it } from 'vitest';
import {
  planStructuredOutput,
  type StructuredOutputInputs,
  structuredToolName,
} from '../../../../lambdas/core/providers/bedrock-converse/map-response-format.js';
import type { ResponseFormat } from '../../../../lambdas/core/wire/openai-chat/types.js';
import { decoded } from './openai-input.js';

const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const free = { clientHasTools: false, thinking: false };
/** OpenAI's response_format, decoded into the core format, then planned. */
const plan = (format: ResponseFormat | undefined, inputs: StructuredOutputInputs) =>
  planStructuredOutput(decoded({ response_format: format }).responseFormat, inputs);

describe('planStructuredOutput', () => {
  it('nothing to do for text or no response_format', () => {
    expect(plan(undefined, free)).toBeUndefined();
    expect(plan({ type: 'text' }, free)).toBeUndefined();
  });

  it('json_schema → a forced tool named after the schema, whose input schema is the schema', () => {
    expect(plan({ type: 'json_schema', json_schema: { name: 'city.info v2', schema } }, free)).toEqual({
      mode: 'forced-tool',
      tool: { name: 'city_info_v2', description: expect.any(String), inputSchema: { json: schema } },
    });
  });

  it('json_object → a forced tool taking any object', () => {
    expect(plan({ type: 'json_object' }, free)).toEqual({
      mode: 'forced-tool',
      tool: { name: 'json_object', description: expect.any(String), inputSchema: { json: { type: 'object', additionalProperties: true } } },
    });
  });

  it('json_schema without a schema → a forced tool taking any object; its description is kept', () => {
    expect(planStructuredOutput({ type: 'json_schema', name: 'free', description: ' Any answer. ' }, free)).toEqual({
      mode: 'forced-tool',
      tool: { name: 'free', description: 'Any answer.', inputSchema: { json: { type: 'object', additionalProperties: true } } },
    });
  });

  it.each([
    ['the client has tools', { clientHasTools: true, thinking: false }, schema],
    ['thinking is on (Claude cannot think under a forced tool)', { clientHasTools: false, thinking: true }, schema],
    ['the schema root is not an object', free, { type: 'array', items: { type: 'string' } }],
  ])('falls back to a system instruction when %s', (_, inputs, s) => {
    const planned = plan({ type: 'json_schema', json_schema: { name: 'x', schema: s } }, inputs);
    expect(planned).toEqual({ mode: 'instruction', text: expect.stringContaining(JSON.stringify(s)) });
  });

  it('refuses json_schema without its schema object', () => {
    expect(() => plan({ type: 'json_schema' }, free)).toThrow(
      expect.objectContaining({ status: 400, param: 'response_format.json_schema' }),
    );
  });

  it('sanitises tool names', () => {
    expect(structuredToolName('')).toBe('json_response');
    expect(structuredToolName('x'.repeat(80))).toHaveLength(64);
  });
});
