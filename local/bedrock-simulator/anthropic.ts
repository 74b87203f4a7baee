/**
 * Claude on the simulator's InvokeModel, InvokeModelWithResponseStream and CountTokens: the Anthropic Messages body
 * Bedrock takes (`anthropic_version: "bedrock-2023-05-31"`, betas as `anthropic_beta`), checked the way Bedrock
 * checks it, and answered from the same scripts as Converse (`script.text`, `script.toolCalls`, `script.reasoning`,
 * usage with cache reads and writes, failures). A stream is `chunk` events whose bytes are one Anthropic SSE event's
 * JSON each, the last carrying `amazon-bedrock-invocationMetrics`, as Bedrock sends them.
 *
 * The checks mirror the refusals a gateway bug would meet on the real service: an unknown beta ("invalid beta
 * flag"), `stream` or `model` in the body, fields Bedrock's schema does not have (thinking.display, defer_loading,
 * eager_input_streaming, cache_control.scope, an unknown ttl, metadata beyond user_id, output_config on a model
 * without effort, context_management without its beta), a `system` role in messages, tool_use without its
 * tool_result, and — with thinking on — a tool-use turn that lost its thinking block or a thinking block whose
 * simulated signature does not match its text.
 */
import { randomBytes } from 'node:crypto';
import { validationError } from './errors.js';
import {
  chunk,
  fakeSignature,
  type JsonObject,
  type RawEvent,
  type Script,
  type ScriptBlock,
  type ScriptRequest,
  type StreamEvent,
} from './scenario.js';

const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

/** The betas this simulated Bedrock knows; any other is refused as Bedrock refuses it. */
const SIMULATED_BETAS: ReadonlySet<string> = new Set([
  'computer-use-2024-10-22',
  'computer-use-2025-01-24',
  'computer-use-2025-11-24',
  'token-efficient-tools-2025-02-19',
  'interleaved-thinking-2025-05-14',
  'output-128k-2025-02-19',
  'dev-full-thinking-2025-05-14',
  'fine-grained-tool-streaming-2025-05-14',
  'context-1m-2025-08-07',
  'context-management-2025-06-27',
  'effort-2025-11-24',
  'tool-search-tool-2025-10-19',
  'tool-examples-2025-10-29',
  'compact-2026-01-12',
]);

const TOP_LEVEL = new Set([
  'anthropic_version',
  'anthropic_beta',
  'system',
  'messages',
  'max_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop_sequences',
  'tools',
  'tool_choice',
  'thinking',
  'metadata',
  'context_management',
  'output_config',
]);

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const TOOL_ID = /^[a-zA-Z0-9_-]+$/;

/** A call the simulator answers as Claude's Messages API: an InvokeModel body with `anthropic_version`. */
export function isAnthropicInvoke(req: ScriptRequest): boolean {
  return (
    (req.operation === 'InvokeModel' || req.operation === 'InvokeModelWithResponseStream') && typeof req.body.anthropic_version === 'string'
  );
}

/** Models with `output_config.effort` and adaptive thinking, by their ids (Claude Opus 4.5 has effort only). */
const EFFORT_MODEL = /claude-(?:opus-4-5|(?:opus|sonnet|haiku)-(?:4-[6-9]|[5-9]-\d))/i;
const ADAPTIVE_MODEL = /claude-(?:opus|sonnet|haiku)-(?:4-[6-9]|[5-9]-\d)/i;
/** Strict tool use (Bedrock's structured outputs): Claude Sonnet, Haiku and Opus 4.5 and later. */
const STRICT_TOOLS_MODEL = /claude-(?:opus|sonnet|haiku)-(?:4-[5-9]|[5-9]-\d)/i;

const extraInputs = (where: string, key: string) => validationError(`${where}.${key}: Extra inputs are not permitted`);

function onlyKeys(o: JsonObject, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(o)) if (!allowed.includes(key)) throw extraInputs(where, key);
}

function checkCacheControl(block: JsonObject, where: string): void {
  const c: unknown = block.cache_control;
  if (c === undefined || c === null) return;
  if (!isObject(c) || c.type !== 'ephemeral') throw validationError(`${where}.cache_control: Input tag does not match 'ephemeral'`);
  onlyKeys(c, ['type', 'ttl'], `${where}.cache_control.ephemeral`);
  if (c.ttl !== undefined && c.ttl !== '5m' && c.ttl !== '1h') {
    throw validationError(`${where}.cache_control.ephemeral.ttl: Input should be '5m' or '1h'`);
  }
}

/** Throws a SimulatedBedrockError (ValidationException, 400) on the first problem, worded like Bedrock's. */
export function validateAnthropicRequest(body: JsonObject, modelId: string): void {
  if (body.anthropic_version !== BEDROCK_ANTHROPIC_VERSION) {
    throw validationError(`Invalid API version: ${String(body.anthropic_version)}. Expected ${BEDROCK_ANTHROPIC_VERSION}.`);
  }
  for (const key of Object.keys(body)) {
    if (!TOP_LEVEL.has(key))
      throw validationError(
        `Malformed input request: #: extraneous key [${key}] is not permitted, please reformat your input and try again.`,
      );
  }
  const betas: unknown = body.anthropic_beta ?? [];
  if (!Array.isArray(betas)) throw validationError('anthropic_beta: Input should be a valid list');
  for (const beta of betas) if (typeof beta !== 'string' || !SIMULATED_BETAS.has(beta)) throw validationError('invalid beta flag');
  if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) {
    throw validationError('Malformed input request: #: required key [max_tokens] not found, please reformat your input and try again.');
  }
  if (isObject(body.metadata)) onlyKeys(body.metadata, ['user_id'], 'metadata');
  if (body.context_management !== undefined && !betas.includes('context-management-2025-06-27')) {
    throw validationError('context_management: Extra inputs are not permitted');
  }
  if (body.output_config !== undefined && !EFFORT_MODEL.test(modelId))
    throw validationError('output_config: Extra inputs are not permitted');

  const thinking = validateThinking(body, modelId);
  if (body.system !== undefined && typeof body.system !== 'string') {
    if (!Array.isArray(body.system)) throw validationError('system: Input should be a valid list');
    body.system.forEach((b: unknown, i: number) => {
      if (!isObject(b) || b.type !== 'text' || typeof b.text !== 'string')
        throw validationError(`system.${i}: Input should be a text block`);
      checkCacheControl(b, `system.${i}`);
    });
  }
  validateTools(body, modelId);
  const choice: unknown = body.tool_choice;
  if (thinking && isObject(choice) && (choice.type === 'any' || choice.type === 'tool')) {
    throw validationError('Thinking may not be enabled when tool_choice forces tool use.');
  }
  validateMessages(body, thinking);
}

function validateThinking(body: JsonObject, modelId: string): boolean {
  const t: unknown = body.thinking;
  if (t === undefined) return false;
  if (!isObject(t)) throw validationError('thinking: Input should be an object');
  if (t.type === 'disabled') return false;
  if (t.type === 'adaptive') {
    if (!ADAPTIVE_MODEL.test(modelId)) throw validationError("thinking.type: Input should be 'enabled' or 'disabled'");
    onlyKeys(t, ['type'], 'thinking.adaptive');
  } else if (t.type === 'enabled') {
    onlyKeys(t, ['type', 'budget_tokens'], 'thinking.enabled');
    if (!Number.isInteger(t.budget_tokens) || t.budget_tokens < 1024) {
      throw validationError('thinking.enabled.budget_tokens: Input should be greater than or equal to 1024');
    }
    if (t.budget_tokens >= body.max_tokens) throw validationError('`max_tokens` must be greater than `thinking.budget_tokens`.');
  } else throw validationError(`thinking.type: Input tag '${String(t.type)}' does not match 'enabled', 'adaptive' or 'disabled'`);
  if (body.temperature !== undefined && body.temperature !== 1) {
    throw validationError('`temperature` may only be set to 1 when thinking is enabled.');
  }
  if (body.top_k !== undefined) throw validationError('`top_k` must be unset when thinking is enabled.');
  return true;
}

function validateTools(body: JsonObject, modelId: string): void {
  if (body.tools === undefined) return;
  if (!Array.isArray(body.tools)) throw validationError('tools: Input should be a valid list');
  const names = new Set<string>();
  body.tools.forEach((t: unknown, i: number) => {
    if (!isObject(t) || typeof t.name !== 'string') throw validationError(`tools.${i}.name: Field required`);
    if (t.type === undefined || t.type === 'custom') {
      const fields = ['type', 'name', 'description', 'input_schema', 'cache_control'];
      onlyKeys(t, STRICT_TOOLS_MODEL.test(modelId) ? [...fields, 'strict'] : fields, `tools.${i}.custom`);
      if (!isObject(t.input_schema)) throw validationError(`tools.${i}.custom.input_schema: Field required`);
    }
    checkCacheControl(t, `tools.${i}`);
    if (names.has(t.name)) throw validationError('tools: Tool names must be unique.');
    names.add(t.name);
  });
  const choice: unknown = body.tool_choice;
  if (choice !== undefined && (!isObject(choice) || !['auto', 'any', 'tool', 'none'].includes(String(choice.type)))) {
    throw validationError("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'");
  }
}

function validateMessages(body: JsonObject, thinking: boolean): void {
  const messages: unknown = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw validationError('messages: at least one message is required');
  let pendingToolUse: string[] = [];
  let lastToolTurn = -1;
  messages.forEach((m: unknown, i: number) => {
    if (!isObject(m) || (m.role !== 'user' && m.role !== 'assistant')) {
      throw validationError(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    }
    const content: unknown[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
    if (!Array.isArray(content) || content.length === 0) throw validationError(`messages.${i}: all messages must have non-empty content`);
    const toolUses: string[] = [];
    const toolResults: string[] = [];
    content.forEach((b: unknown, j: number) => {
      const where = `messages.${i}.content.${j}`;
      if (!isObject(b)) throw validationError(`${where}: Input should be a valid content block`);
      checkCacheControl(b, where);
      switch (b.type) {
        case 'text':
          if (typeof b.text !== 'string' || b.text.trim() === '')
            throw validationError(`${where}: text content blocks must contain non-whitespace text`);
          break;
        case 'image':
        case 'document':
          if (!isObject(b.source)) throw validationError(`${where}.source: Field required`);
          break;
        case 'tool_use':
          if (m.role !== 'assistant') throw validationError(`${where}: tool_use blocks are only allowed in assistant messages`);
          if (typeof b.id !== 'string' || !TOOL_ID.test(b.id))
            throw validationError(`${where}.id: String should match pattern '^[a-zA-Z0-9_-]+$'`);
          if (!isObject(b.input)) throw validationError(`${where}.input: Input should be a valid dictionary`);
          toolUses.push(b.id);
          break;
        case 'tool_result':
          if (m.role !== 'user') throw validationError(`${where}: tool_result blocks are only allowed in user messages`);
          toolResults.push(String(b.tool_use_id));
          if (Array.isArray(b.content))
            b.content.forEach((c: unknown, k: number) => isObject(c) && checkCacheControl(c, `${where}.content.${k}`));
          break;
        case 'thinking':
          if (m.role !== 'assistant' || typeof b.thinking !== 'string' || typeof b.signature !== 'string') {
            throw validationError(`${where}: thinking blocks need thinking and signature, in assistant messages`);
          }
          if (!signatureMatches(b.thinking, b.signature)) throw validationError(`${where}: Invalid \`signature\` in \`thinking\` block`);
          break;
        case 'redacted_thinking':
          if (typeof b.data !== 'string') throw validationError(`${where}.data: Field required`);
          break;
        default:
          throw validationError(`${where}.type: Input tag '${String(b.type)}' found using 'type' does not match any of the expected tags`);
      }
    });
    if (m.role === 'user' && (pendingToolUse.length > 0 || toolResults.length > 0)) {
      const missing = pendingToolUse.filter((id) => !toolResults.includes(id));
      if (missing.length > 0) {
        throw validationError(
          `messages.${i - 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
        );
      }
      const unknown = toolResults.filter((id) => !pendingToolUse.includes(id));
      if (unknown.length > 0) {
        throw validationError(
          `messages.${i}.content.0: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${unknown.join(', ')}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
        );
      }
    }
    if (m.role === 'assistant' && toolUses.length > 0) lastToolTurn = i;
    pendingToolUse = m.role === 'assistant' ? toolUses : [];
  });
  // With thinking on, the assistant turn whose tool calls the conversation is answering must open with its thinking.
  if (thinking && lastToolTurn >= 0 && lastToolTurn === messages.length - 2) {
    const turn = messages[lastToolTurn] as JsonObject;
    const first = (Array.isArray(turn.content) ? turn.content[0] : undefined) as JsonObject | undefined;
    if (first?.type !== 'thinking' && first?.type !== 'redacted_thinking') {
      throw validationError(
        `messages.${lastToolTurn}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(first?.type)}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`.`,
      );
    }
  }
}

const SIMULATED_PREFIX = 'simulated-signature:';

/** A signature the simulator issued must belong to its text (as Claude's are checked); others are taken on trust. */
function signatureMatches(thinking: string, signature: string): boolean {
  if (signature === '') return false;
  const decoded = Buffer.from(signature, 'base64').toString('utf8');
  return !decoded.startsWith(SIMULATED_PREFIX) || signature === fakeSignature(thinking);
}

// ---------------------------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------------------------

/** Claude's tool-use ids on Bedrock look like `toolu_bdrk_` + 24 base62-ish characters. */
const newClaudeToolId = (): string => `toolu_bdrk_${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}`;
const newMessageId = (): string => `msg_bdrk_${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}`;

const MAX_ECHO = 200;

/**
 * The reply when no script is queued: a signed thinking block when thinking is on, a forced tool's call when
 * tool_choice forces one, else an obviously simulated echo of the last user text block (Claude Code puts its
 * reminders first and the prompt last) or a note of the tool results received.
 */
export function defaultAnthropicScript(req: ScriptRequest): Script {
  const body = req.body;
  const content: ScriptBlock[] = [];
  const thinking: unknown = body.thinking;
  if (isObject(thinking) && (thinking.type === 'enabled' || thinking.type === 'adaptive')) {
    const text = '[simulated reasoning] Considering the request.';
    content.push({ reasoning: { text, signature: fakeSignature(text) } });
  }
  const choice: unknown = body.tool_choice;
  const tools: JsonObject[] = Array.isArray(body.tools) ? body.tools : [];
  const forced = isObject(choice)
    ? choice.type === 'tool'
      ? String(choice.name)
      : choice.type === 'any'
        ? tools[0]?.name
        : undefined
    : undefined;
  if (typeof forced === 'string') {
    content.push({ toolUse: { name: forced, input: {} } });
    return { content };
  }
  content.push({ text: `[simulated Bedrock] ${describeLastUserTurn(body)}` });
  return { content };
}

function describeLastUserTurn(body: JsonObject): string {
  const messages: JsonObject[] = Array.isArray(body.messages) ? body.messages : [];
  const last = [...messages].reverse().find((m) => m?.role === 'user');
  const blocks: JsonObject[] =
    typeof last?.content === 'string' ? [{ type: 'text', text: last.content }] : Array.isArray(last?.content) ? last.content : [];
  const text = [...blocks].reverse().find((b) => b?.type === 'text' && typeof b.text === 'string' && b.text.trim() !== '')?.text as
    string | undefined;
  if (text) {
    const chars = Array.from(text.trim());
    return `You said: ${chars.length > MAX_ECHO ? chars.slice(0, MAX_ECHO).join('') + '…' : chars.join('')}`;
  }
  const results = blocks.filter((b) => b?.type === 'tool_result').length;
  if (results > 0) return `Received ${results} tool result${results === 1 ? '' : 's'}.`;
  return 'Hello! Your last message had no text.';
}

/** Characters of the prompt a Messages body sends (image and document bytes count a flat 400). */
export function anthropicRequestChars(body: JsonObject): number {
  let chars = 0;
  const visit = (value: unknown, key?: string): void => {
    if (typeof value === 'string') chars += key === 'data' ? 400 : value.length;
    else if (Array.isArray(value)) value.forEach((v) => visit(v));
    else if (isObject(value)) for (const [k, v] of Object.entries(value)) visit(v, k);
  };
  visit(body.system);
  visit(body.messages);
  visit(body.tools);
  return chars;
}

const estimateTokens = (chars: number): number => Math.max(1, Math.ceil(chars / 4));

interface Resolved {
  blocks: ScriptBlock[];
  usage: { input: number; output: number; cacheRead: number; cacheWrite: number };
  stopReason: string;
  /** The script says a guardrail intervened (`stopReason: 'guardrail_intervened'`, Converse's word for it). */
  intervened: boolean;
}

function resolve(s: Script, req: ScriptRequest): Resolved {
  const blocks = (s.content ?? []).map((b) =>
    'toolUse' in b ? { toolUse: { ...b.toolUse, toolUseId: b.toolUse.toolUseId ?? newClaudeToolId() } } : b,
  );
  let outChars = 0;
  for (const b of blocks) {
    if ('text' in b) outChars += b.text.length;
    else if ('toolUse' in b) outChars += b.toolUse.name.length + JSON.stringify(b.toolUse.input ?? {}).length;
    else if ('text' in b.reasoning) outChars += b.reasoning.text.length;
    else outChars += 40;
  }
  const u = s.usage ?? {};
  return {
    blocks,
    usage: {
      input: u.inputTokens ?? estimateTokens(anthropicRequestChars(req.body)),
      output: u.outputTokens ?? estimateTokens(outChars),
      cacheRead: u.cacheReadInputTokens ?? 0,
      cacheWrite: u.cacheWriteInputTokens ?? 0,
    },
    // On InvokeModel a guardrail's intervention is no stop reason: Claude's answer is replaced by the blocked
    // message and Bedrock adds `amazon-bedrock-guardrailAction: INTERVENED`.
    stopReason:
      s.stopReason === 'guardrail_intervened'
        ? 'end_turn'
        : (s.stopReason ?? (blocks.some((b) => 'toolUse' in b) ? 'tool_use' : 'end_turn')),
    intervened: s.stopReason === 'guardrail_intervened',
  };
}

const toBase64 = (v: string | Uint8Array): string => (typeof v === 'string' ? v : Buffer.from(v).toString('base64'));

function contentBlock(b: ScriptBlock): JsonObject {
  if ('text' in b) return { type: 'text', text: b.text };
  if ('toolUse' in b) return { type: 'tool_use', id: b.toolUse.toolUseId, name: b.toolUse.name, input: b.toolUse.input ?? {} };
  if ('redactedContent' in b.reasoning) return { type: 'redacted_thinking', data: toBase64(b.reasoning.redactedContent) };
  return { type: 'thinking', thinking: b.reasoning.text, signature: b.reasoning.signature ?? '' };
}

function invocationMetrics(r: Resolved, latencyMs: number): JsonObject {
  const m: JsonObject = {
    inputTokenCount: r.usage.input,
    outputTokenCount: r.usage.output,
    invocationLatency: latencyMs,
    firstByteLatency: latencyMs,
  };
  if (r.usage.cacheRead) m.cacheReadInputTokenCount = r.usage.cacheRead;
  if (r.usage.cacheWrite) m.cacheWriteInputTokenCount = r.usage.cacheWrite;
  return m;
}

/** The InvokeModel response: the Anthropic message, and the token-count headers Bedrock adds. */
export function renderAnthropicMessage(
  s: Script,
  req: ScriptRequest,
  latencyMs: number,
): { body: JsonObject; headers: Record<string, string> } {
  const r = resolve(s, req);
  return {
    body: {
      id: newMessageId(),
      type: 'message',
      role: 'assistant',
      model: req.modelId,
      content: r.blocks.map(contentBlock),
      stop_reason: r.stopReason,
      stop_sequence: null,
      usage: {
        input_tokens: r.usage.input,
        cache_creation_input_tokens: r.usage.cacheWrite,
        cache_read_input_tokens: r.usage.cacheRead,
        output_tokens: r.usage.output,
      },
      ...(r.intervened ? { 'amazon-bedrock-guardrailAction': 'INTERVENED' } : {}),
    },
    headers: {
      'x-amzn-bedrock-input-token-count': String(r.usage.input),
      'x-amzn-bedrock-output-token-count': String(r.usage.output),
      'x-amzn-bedrock-invocation-latency': String(latencyMs),
    },
  };
}

/** One `chunk` stream event carrying an Anthropic event, as InvokeModelWithResponseStream frames it. */
function chunkEvent(event: JsonObject): StreamEvent {
  return { type: 'chunk', payload: { bytes: Buffer.from(JSON.stringify(event), 'utf8').toString('base64') } };
}

/** Anthropic events → raw stream events, to script an exact Claude stream: `script.raw(anthropicChunks([...]))`. */
export function anthropicChunks(events: JsonObject[]): RawEvent[] {
  return events.map((e) => ({ chunk: chunkEvent(e).payload }));
}

/**
 * The stream's events, in the order Claude emits them; the last (message_stop with the invocation metrics) is
 * rendered when its turn comes, because it carries the latency.
 */
export function renderAnthropicStream(s: Script, req: ScriptRequest): { events: StreamEvent[]; final: (latencyMs: number) => StreamEvent } {
  const r = resolve(s, req);
  const size = s.chunkSize ?? 10;
  const events: StreamEvent[] = [
    chunkEvent({
      type: 'message_start',
      message: {
        id: newMessageId(),
        type: 'message',
        role: 'assistant',
        model: req.modelId,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: r.usage.input,
          cache_creation_input_tokens: r.usage.cacheWrite,
          cache_read_input_tokens: r.usage.cacheRead,
          output_tokens: 1,
        },
      },
    }),
  ];
  r.blocks.forEach((b, index) => {
    const delta = (d: JsonObject) => events.push(chunkEvent({ type: 'content_block_delta', index, delta: d }));
    if ('text' in b) {
      events.push(chunkEvent({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }));
      for (const piece of chunk(b.text, size)) delta({ type: 'text_delta', text: piece });
    } else if ('toolUse' in b) {
      events.push(
        chunkEvent({
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id: b.toolUse.toolUseId, name: b.toolUse.name, input: {} },
        }),
      );
      for (const piece of chunk(JSON.stringify(b.toolUse.input ?? {}), size)) delta({ type: 'input_json_delta', partial_json: piece });
    } else if ('redactedContent' in b.reasoning) {
      events.push(chunkEvent({ type: 'content_block_start', index, content_block: contentBlock(b) }));
    } else {
      events.push(chunkEvent({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } }));
      for (const piece of chunk(b.reasoning.text, size)) delta({ type: 'thinking_delta', thinking: piece });
      if (b.reasoning.signature !== undefined) delta({ type: 'signature_delta', signature: b.reasoning.signature });
    }
    events.push(chunkEvent({ type: 'content_block_stop', index }));
  });
  events.push(
    chunkEvent({
      type: 'message_delta',
      delta: { stop_reason: r.stopReason, stop_sequence: null },
      usage: { output_tokens: r.usage.output },
      ...(r.intervened ? { 'amazon-bedrock-guardrailAction': 'INTERVENED' } : {}),
    }),
  );
  return {
    events,
    final: (latencyMs) => chunkEvent({ type: 'message_stop', 'amazon-bedrock-invocationMetrics': invocationMetrics(r, latencyMs) }),
  };
}

/**
 * CountTokens: `{input: {invokeModel: {body}}}` (the body base64, an InvokeModel body checked like one) or
 * `{input: {converse: {...}}}`, answered with ≈ characters / 4 — the same estimate the simulated answers report
 * as their input tokens. Only Claude models count, as on Bedrock.
 */
export function countTokensReply(modelId: string, body: JsonObject): JsonObject {
  if (!/anthropic\.claude/i.test(modelId)) throw validationError("The provided model doesn't support counting tokens.");
  const input: unknown = body.input;
  if (isObject(input) && isObject(input.invokeModel) && typeof input.invokeModel.body === 'string') {
    let inner: unknown;
    try {
      inner = JSON.parse(Buffer.from(input.invokeModel.body, 'base64').toString('utf8'));
    } catch {
      throw validationError('The provided request body is not valid JSON.');
    }
    if (!isObject(inner)) throw validationError('The provided request body is not a JSON object.');
    validateAnthropicRequest(inner, modelId);
    return { inputTokens: estimateTokens(anthropicRequestChars(inner)) };
  }
  if (isObject(input) && isObject(input.converse)) {
    const c = input.converse;
    return { inputTokens: estimateTokens(anthropicRequestChars({ system: c.system, messages: c.messages, tools: c.toolConfig })) };
  }
  throw validationError('input: exactly one of invokeModel or converse is required.');
}
