/**
 * The Converse request checks the real service is known to make, so a gateway bug that Bedrock would reject also
 * fails against the simulator. Only well-established rules are here; anything model-specific beyond Claude's
 * thinking/temperature rule is left out. Messages mimic the service's wording.
 */
import { validationError } from './errors.js';
import type { JsonObject } from './scenario.js';

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
// Alphanumerics, whitespace (never two in a row), hyphens, parentheses, square brackets.
const DOCUMENT_NAME = /^[a-zA-Z0-9\s\-()[\]]+$/;
const IMAGE_FORMATS = ['png', 'jpeg', 'gif', 'webp'];
const DOCUMENT_FORMATS = ['pdf', 'csv', 'doc', 'docx', 'xls', 'xlsx', 'html', 'txt', 'md'];

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Throws a SimulatedBedrockError (ValidationException, 400) on the first problem found. */
export function validateConverseRequest(body: JsonObject, operation: 'Converse' | 'ConverseStream' = 'ConverseStream'): void {
  validateServiceOptions(body, operation);
  const messages: unknown = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw validationError('A conversation must start with a user message. Try again with a conversation that starts with a user message.');
  }

  let previousToolUseIds: string[] = [];
  messages.forEach((m: unknown, i: number) => {
    if (!isObject(m) || (m.role !== 'user' && m.role !== 'assistant')) {
      throw validationError(
        `1 validation error detected: Value at 'messages.${i + 1}.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]`,
      );
    }
    if (i === 0 && m.role !== 'user') {
      throw validationError(
        'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
      );
    }
    if (i > 0 && (messages[i - 1] as JsonObject).role === m.role) {
      throw validationError(
        'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.',
      );
    }
    if (!Array.isArray(m.content) || m.content.length === 0) {
      throw validationError(
        `The content field in the Message object at messages.${i} is empty. Add a ContentBlock object to the content field and try again.`,
      );
    }

    const toolUseIds: string[] = [];
    const toolResultIds: string[] = [];
    m.content.forEach((block: unknown, j: number) => {
      const where = `messages.${i}.content.${j}`;
      if (!isObject(block)) throw validationError(`The ContentBlock object at ${where} is invalid.`);
      if ('text' in block && (typeof block.text !== 'string' || block.text.trim() === '')) {
        throw validationError(`The text field in the ContentBlock object at ${where} is blank. Add text to the text field, and try again.`);
      }
      if (isObject(block.image)) {
        if (!IMAGE_FORMATS.includes(block.image.format)) {
          throw validationError(`The format of the image at ${where} is not supported. Supported formats: ${IMAGE_FORMATS.join(', ')}.`);
        }
        if (!isObject(block.image.source) || (!block.image.source.bytes && !block.image.source.s3Location)) {
          throw validationError(`The image source at ${where} is missing. Provide the image bytes and try again.`);
        }
      }
      if (isObject(block.document)) {
        const { format, name } = block.document;
        if (!DOCUMENT_FORMATS.includes(format)) {
          throw validationError(
            `The format of the document at ${where} is not supported. Supported formats: ${DOCUMENT_FORMATS.join(', ')}.`,
          );
        }
        if (typeof name !== 'string' || !DOCUMENT_NAME.test(name) || /\s\s/.test(name)) {
          throw validationError(
            `The document file name can only contain alphanumeric characters, whitespace characters, hyphens, parentheses, and square brackets. The name can't contain more than one consecutive whitespace character.`,
          );
        }
      }
      if (isObject(block.toolUse)) {
        if (m.role !== 'assistant') throw validationError(`The toolUse block at ${where} is only allowed in an assistant message.`);
        toolUseIds.push(String(block.toolUse.toolUseId));
      }
      if (isObject(block.toolResult)) {
        if (m.role !== 'user') throw validationError(`The toolResult block at ${where} is only allowed in a user message.`);
        toolResultIds.push(String(block.toolResult.toolUseId));
      }
    });

    // Every toolUse of an assistant turn must be answered by a toolResult in the next user turn, and a toolResult
    // must answer a toolUse of the turn before it.
    if (m.role === 'user' && (previousToolUseIds.length > 0 || toolResultIds.length > 0)) {
      const missing = previousToolUseIds.filter((id) => !toolResultIds.includes(id));
      const unknown = toolResultIds.filter((id) => !previousToolUseIds.includes(id));
      if (missing.length > 0 || unknown.length > 0) {
        throw validationError(
          `Expected toolResult blocks at messages.${i}.content for the following Ids: ${previousToolUseIds.join(', ')}, but found: ${toolResultIds.join(', ')}`,
        );
      }
    }
    previousToolUseIds = m.role === 'assistant' ? toolUseIds : [];
  });

  validateToolConfig(body.toolConfig);
  validateInference(body);
}

function validateToolConfig(toolConfig: unknown): void {
  if (toolConfig === undefined) return;
  if (!isObject(toolConfig)) throw validationError('The toolConfig field is invalid.');
  const tools: unknown = toolConfig.tools;
  if (!Array.isArray(tools) || tools.length === 0) {
    throw validationError(
      "1 validation error detected: Value '[]' at 'toolConfig.tools' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  }
  const names: string[] = [];
  tools.forEach((t: unknown, i: number) => {
    if (!isObject(t) || (!isObject(t.toolSpec) && !isObject(t.cachePoint) && !isObject(t.systemTool))) {
      throw validationError(`The tool at toolConfig.tools.${i} is invalid.`);
    }
    if (!isObject(t.toolSpec)) return;
    const { name, description, inputSchema } = t.toolSpec;
    if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
      throw validationError(
        `1 validation error detected: Value '${String(name)}' at 'toolConfig.tools.${i + 1}.member.toolSpec.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+`,
      );
    }
    if (description !== undefined && (typeof description !== 'string' || description.length === 0)) {
      throw validationError(
        `1 validation error detected: Value '' at 'toolConfig.tools.${i + 1}.member.toolSpec.description' failed to satisfy constraint: Member must have length greater than or equal to 1`,
      );
    }
    if (!isObject(inputSchema) || !isObject(inputSchema.json)) {
      throw validationError(`The inputSchema of tool ${name} is missing. Provide a JSON schema and try again.`);
    }
    if (names.includes(name)) throw validationError(`The toolConfig contains duplicate tool name ${name}.`);
    names.push(name);
  });
  const choice: unknown = toolConfig.toolChoice;
  if (choice !== undefined) {
    if (!isObject(choice) || Object.keys(choice).length !== 1 || !('auto' in choice || 'any' in choice || 'tool' in choice)) {
      throw validationError('The toolChoice field must contain exactly one of auto, any, tool.');
    }
    if (isObject(choice.tool) && !names.includes(choice.tool.name)) {
      throw validationError(`The tool ${String(choice.tool.name)} named in toolChoice is not in toolConfig.tools.`);
    }
  }
}

function validateInference(body: JsonObject): void {
  const cfg: unknown = body.inferenceConfig;
  if (cfg === undefined) return;
  if (!isObject(cfg)) throw validationError('The inferenceConfig field is invalid.');
  const { maxTokens, temperature, topP } = cfg;
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1)) {
    throw validationError(
      `1 validation error detected: Value '${maxTokens}' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1`,
    );
  }
  for (const [name, v] of [
    ['temperature', temperature],
    ['topP', topP],
  ] as const) {
    if (v !== undefined && (typeof v !== 'number' || v < 0 || v > 1)) {
      throw validationError(
        `1 validation error detected: Value '${v}' at 'inferenceConfig.${name}' failed to satisfy constraint: Member must have value less than or equal to 1`,
      );
    }
  }
  const thinking = body.additionalModelRequestFields?.thinking;
  if (isObject(thinking) && thinking.type === 'enabled' && temperature !== undefined && temperature !== 1) {
    throw validationError(
      'The model returned the following errors: `temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking#important-considerations-when-using-extended-thinking',
    );
  }
  const choice = body.toolConfig?.toolChoice;
  if (isObject(thinking) && thinking.type === 'enabled' && isObject(choice) && ('any' in choice || 'tool' in choice)) {
    throw validationError('The model returned the following errors: Thinking may not be enabled when tool_choice forces tool use.');
  }
}

const enumError = (value: unknown, at: string, allowed: string[]) =>
  validationError(
    `1 validation error detected: Value '${String(value)}' at '${at}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`,
  );

/** guardrailConfig, performanceConfig and serviceTier as the service checks them. */
function validateServiceOptions(body: JsonObject, operation: 'Converse' | 'ConverseStream'): void {
  const g: unknown = body.guardrailConfig;
  if (g !== undefined) {
    if (!isObject(g) || typeof g.guardrailIdentifier !== 'string' || typeof g.guardrailVersion !== 'string')
      throw validationError('The guardrailConfig needs a guardrailIdentifier and a guardrailVersion.');
    if (!/^(DRAFT|[1-9][0-9]{0,7})$/.test(g.guardrailVersion))
      throw validationError(
        `1 validation error detected: Value '${g.guardrailVersion}' at 'guardrailConfig.guardrailVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (([1-9][0-9]{0,7})|(DRAFT))`,
      );
    if (g.trace !== undefined && !['enabled', 'disabled', 'enabled_full'].includes(String(g.trace)))
      throw enumError(g.trace, 'guardrailConfig.trace', ['enabled', 'disabled', 'enabled_full']);
    if (g.streamProcessingMode !== undefined) {
      if (operation !== 'ConverseStream') throw validationError('streamProcessingMode is only accepted by ConverseStream.');
      if (!['sync', 'async'].includes(String(g.streamProcessingMode)))
        throw enumError(g.streamProcessingMode, 'guardrailConfig.streamProcessingMode', ['sync', 'async']);
    }
  }
  const p: unknown = body.performanceConfig;
  if (p !== undefined && (!isObject(p) || !['standard', 'optimized'].includes(String(p.latency))))
    throw enumError(isObject(p) ? p.latency : p, 'performanceConfig.latency', ['standard', 'optimized']);
  const t: unknown = body.serviceTier;
  if (t !== undefined && (!isObject(t) || !['default', 'priority', 'flex', 'reserved'].includes(String(t.type))))
    throw enumError(isObject(t) ? t.type : t, 'serviceTier.type', ['default', 'priority', 'flex', 'reserved']);
}
