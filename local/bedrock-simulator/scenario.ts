/**
 * Scripts: what the simulated model answers. One script describes one model response and is rendered either as a
 * Converse JSON body or as the ConverseStream event sequence, in the exact order Bedrock emits it:
 *
 *   messageStart{role} → per content block: [contentBlockStart (toolUse only)] contentBlockDelta… contentBlockStop
 *   → messageStop{stopReason, additionalModelResponseFields?} → metadata{usage, metrics{latencyMs}}
 */
import { randomBytes } from 'node:crypto';
import type { BedrockErrorType, StreamExceptionType } from './errors.js';

/** A JSON object as parsed from a request body. */
export type JsonObject = Record<string, any>;

export type ScriptBlock =
  | { text: string }
  | { toolUse: { toolUseId?: string; name: string; input?: unknown } }
  | { reasoning: { text: string; signature?: string } }
  | { reasoning: { redactedContent: string | Uint8Array } };

interface ScriptUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

/** An HTTP error instead of a response (restJson1: status + `x-amzn-errortype` header + `{message}` body). */
export interface FailBefore {
  type: BedrockErrorType | (string & {});
  /** Defaults to the status the service model gives the type (429 for ThrottlingException, ...). */
  status?: number;
  message?: string;
  /** Extra body members, e.g. `{originalStatusCode: 500, resourceName: '...'}` for ModelErrorException. */
  extra?: Record<string, unknown>;
}

/** An exception frame sent in the middle of an event stream, after `count` events. The stream then ends. */
interface FailAfterEvents {
  count: number;
  exception: StreamExceptionType | (string & {});
  message?: string;
  /** modelStreamErrorException members. */
  originalStatusCode?: number;
  originalMessage?: string;
}

/** A raw stream event in the SDK's shape: a single key naming the event, e.g. `{messageStart: {role: 'assistant'}}`. */
export type RawEvent = Record<string, unknown>;

export interface ScriptOptions {
  /** Default: `tool_use` when the script has tool blocks, else `end_turn`. */
  stopReason?: string;
  additionalModelResponseFields?: Record<string, unknown>;
  /** Merged over an estimate (input ≈ request chars / 4, output ≈ generated chars / 4); totalTokens derived. */
  usage?: Partial<ScriptUsage>;
  /** metrics.latencyMs; default: the real elapsed time. */
  latencyMs?: number;
  /** Characters per text / reasoning delta and per tool-input JSON fragment. Default 10. */
  chunkSize?: number;
  /** Pause between stream events. Default 0. */
  delayMs?: number;
  /**
   * Pause before the first event (stream) or before the response (non-stream). For streams the 200 headers are sent
   * first, as Bedrock does: the SDK call resolves, then the iterator waits.
   */
  firstEventDelayMs?: number;
  failBefore?: FailBefore;
  failAfterEvents?: FailAfterEvents;
  /**
   * End the stream cleanly after this many events (no messageStop / metadata). This is what a dropped connection
   * looks like through the SDK: its iterator just finishes, without an error.
   */
  endAfterEvents?: number;
  /** Stream these events verbatim instead of rendering `content` (ConverseStream / InvokeModelWithResponseStream). */
  rawEvents?: RawEvent[];
  /** Send this JSON body verbatim (Converse / InvokeModel) instead of rendering `content` or computing embeddings. */
  rawResponse?: unknown;
}

export interface Script extends ScriptOptions {
  content?: ScriptBlock[];
}

/** What the simulator knows about a request when it picks or builds a script. */
export interface ScriptRequest {
  operation: Operation;
  modelId: string;
  body: JsonObject;
}

/** A script, or a function building one from the request (for dynamic answers). */
export type ScriptSource = Script | ((req: ScriptRequest) => Script);

export type Operation = 'Converse' | 'ConverseStream' | 'InvokeModel' | 'InvokeModelWithResponseStream' | 'CountTokens';

// ---------------------------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------------------------

export interface ToolCallSpec {
  name: string;
  input?: unknown;
  /** Default: a random `tooluse_…` id like Bedrock's. */
  id?: string;
}

/** Small helpers so tests read well: `sim.enqueue(script.text('hi'))`. */
export const script = {
  /** A plain text answer. */
  text(text: string, opts: ScriptOptions = {}): Script {
    return { ...opts, content: [{ text }] };
  },

  /** One or more (parallel) tool calls, optionally preceded by text. stopReason defaults to tool_use. */
  toolCalls(calls: ToolCallSpec[], opts: ScriptOptions & { precedingText?: string } = {}): Script {
    const { precedingText, ...rest } = opts;
    const content: ScriptBlock[] = precedingText ? [{ text: precedingText }] : [];
    for (const c of calls) content.push({ toolUse: { toolUseId: c.id, name: c.name, input: c.input ?? {} } });
    return { ...rest, content };
  },

  /**
   * A reasoning block followed by an optional answer. `reasoning` is the thinking text (signed with `signature`,
   * default a fake one) or `{redactedContent}` for redacted thinking.
   */
  reasoning(
    reasoning: string | { redactedContent: string | Uint8Array },
    answer?: string,
    opts: ScriptOptions & { signature?: string } = {},
  ): Script {
    const { signature, ...rest } = opts;
    const block: ScriptBlock =
      typeof reasoning === 'string'
        ? { reasoning: { text: reasoning, signature: signature ?? fakeSignature(reasoning) } }
        : { reasoning: { redactedContent: reasoning.redactedContent } };
    return { ...rest, content: answer === undefined ? [block] : [block, { text: answer }] };
  },

  /** An HTTP error response, e.g. `script.error('ThrottlingException')`. */
  error(type: FailBefore['type'], message?: string, status?: number): Script {
    return { failBefore: { type, message, status } };
  },

  /** Stream exactly these events (ConverseStream / InvokeModelWithResponseStream). */
  raw(events: RawEvent[], opts: ScriptOptions = {}): Script {
    return { ...opts, rawEvents: events };
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Default answer when nothing is queued
// ---------------------------------------------------------------------------------------------------------------

const MAX_ECHO = 200;

/**
 * The reply used when no script is queued and no default is set: an obviously simulated echo of the last user text.
 * A forced tool choice (`any` / `tool`) is honoured with an empty input so forced-tool flows work offline, and a
 * request with Claude-style thinking enabled gets a signed reasoning block first (so multi-turn thinking flows must
 * send it back, as on the real service).
 */
export function defaultScript(req: ScriptRequest): Script {
  const body = req.body;
  const content: ScriptBlock[] = [];
  const thinking = body.additionalModelRequestFields?.thinking;
  if (thinking && typeof thinking === 'object' && thinking.type === 'enabled') {
    const text = '[simulated reasoning] Considering the request.';
    content.push({ reasoning: { text, signature: fakeSignature(text) } });
  }

  const toolChoice = body.toolConfig?.toolChoice;
  const tools: JsonObject[] = Array.isArray(body.toolConfig?.tools) ? body.toolConfig.tools : [];
  let forcedTool: string | undefined;
  if (toolChoice?.tool?.name) forcedTool = String(toolChoice.tool.name);
  else if (toolChoice?.any) forcedTool = tools.find((t) => t?.toolSpec?.name)?.toolSpec.name;
  if (forcedTool) {
    content.push({ toolUse: { name: forcedTool, input: {} } });
    return { content };
  }

  content.push({ text: `[simulated Bedrock] ${describeLastUserTurn(body)}` });
  return { content };
}

function describeLastUserTurn(body: JsonObject): string {
  const messages: JsonObject[] = Array.isArray(body.messages) ? body.messages : [];
  const last = [...messages].reverse().find((m) => m?.role === 'user');
  const blocks: JsonObject[] = Array.isArray(last?.content) ? last.content : [];
  const text = blocks
    .filter((b) => typeof b?.text === 'string')
    .map((b) => b.text as string)
    .join(' ')
    .trim();
  if (text) {
    const chars = Array.from(text);
    return `You said: ${chars.length > MAX_ECHO ? chars.slice(0, MAX_ECHO).join('') + '…' : text}`;
  }
  const results = blocks.filter((b) => b?.toolResult).length;
  if (results > 0) return `Received ${results} tool result${results === 1 ? '' : 's'}.`;
  return 'Hello! Your last message had no text.';
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------------------------

/** A Bedrock-looking tool use id: `tooluse_` + 22 url-safe characters. */
const newToolUseId = (): string => `tooluse_${randomBytes(16).toString('base64url')}`;

/** A stand-in for Claude's opaque thinking signature (deterministic, base64). */
export const fakeSignature = (text: string): string =>
  Buffer.from(`simulated-signature:${text.length}:${text.slice(0, 32)}`).toString('base64');

const toBase64 = (v: string | Uint8Array): string => (typeof v === 'string' ? v : Buffer.from(v).toString('base64'));

/** Splits on code points (never inside a surrogate pair), like a tokenizer would. */
export function chunk(text: string, size: number): string[] {
  const chars = Array.from(text);
  const n = Math.max(1, Math.floor(size));
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += n) out.push(chars.slice(i, i + n).join(''));
  return out.length ? out : [''];
}

const estimateTokens = (chars: number): number => Math.max(1, Math.ceil(chars / 4));

/** Rough count of the characters a Converse request sends the model. */
function requestChars(body: JsonObject): number {
  let chars = 0;
  const visit = (value: unknown): void => {
    if (typeof value === 'string') chars += value.length;
    else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        // Image / document bytes are not text: count a flat amount instead of the base64 length.
        if (k === 'bytes') chars += 400;
        else visit(v);
      }
    }
  };
  visit(body.system);
  visit(body.messages);
  visit(body.toolConfig);
  return chars;
}

/** Resolves the script's blocks: tool ids assigned, so Converse and ConverseStream render the same values. */
function resolvedBlocks(s: Script): ScriptBlock[] {
  return (s.content ?? []).map((b) =>
    'toolUse' in b ? { toolUse: { ...b.toolUse, toolUseId: b.toolUse.toolUseId ?? newToolUseId() } } : b,
  );
}

function outputChars(blocks: ScriptBlock[]): number {
  let chars = 0;
  for (const b of blocks) {
    if ('text' in b) chars += b.text.length;
    else if ('toolUse' in b) chars += b.toolUse.name.length + JSON.stringify(b.toolUse.input ?? {}).length;
    else if ('text' in b.reasoning) chars += b.reasoning.text.length;
    else chars += 40;
  }
  return chars;
}

function usageFor(s: Script, blocks: ScriptBlock[], req: ScriptRequest): ScriptUsage {
  const u = s.usage ?? {};
  const inputTokens = u.inputTokens ?? estimateTokens(requestChars(req.body));
  const outputTokens = u.outputTokens ?? estimateTokens(outputChars(blocks));
  const usage: ScriptUsage = {
    inputTokens,
    outputTokens,
    // Bedrock's totalTokens includes cache reads and writes.
    totalTokens: u.totalTokens ?? inputTokens + outputTokens + (u.cacheReadInputTokens ?? 0) + (u.cacheWriteInputTokens ?? 0),
  };
  if (u.cacheReadInputTokens !== undefined) usage.cacheReadInputTokens = u.cacheReadInputTokens;
  if (u.cacheWriteInputTokens !== undefined) usage.cacheWriteInputTokens = u.cacheWriteInputTokens;
  return usage;
}

const stopReasonFor = (s: Script, blocks: ScriptBlock[]): string =>
  s.stopReason ?? (blocks.some((b) => 'toolUse' in b) ? 'tool_use' : 'end_turn');

/** The Converse (non-streaming) response body. */
export function renderConverse(s: Script, req: ScriptRequest, latencyMs: number): JsonObject {
  const blocks = resolvedBlocks(s);
  const content = blocks.map((b): JsonObject => {
    if ('text' in b) return { text: b.text };
    if ('toolUse' in b) return { toolUse: { toolUseId: b.toolUse.toolUseId, name: b.toolUse.name, input: b.toolUse.input ?? {} } };
    if ('redactedContent' in b.reasoning) return { reasoningContent: { redactedContent: toBase64(b.reasoning.redactedContent) } };
    const reasoningText: JsonObject = { text: b.reasoning.text };
    if (b.reasoning.signature !== undefined) reasoningText.signature = b.reasoning.signature;
    return { reasoningContent: { reasoningText } };
  });
  const out: JsonObject = {
    output: { message: { role: 'assistant', content } },
    stopReason: stopReasonFor(s, blocks),
    usage: usageFor(s, blocks, req),
    metrics: { latencyMs: s.latencyMs ?? latencyMs },
  };
  if (s.additionalModelResponseFields) out.additionalModelResponseFields = s.additionalModelResponseFields;
  return out;
}

/** One stream event: its `:event-type` and JSON payload. */
export interface StreamEvent {
  type: string;
  payload: unknown;
}

/**
 * The ConverseStream events for a script, except the trailing metadata event, whose latency is only known when it
 * is sent (see `metadataEvent`).
 */
export function renderStreamEvents(s: Script): { events: StreamEvent[]; blocks: ScriptBlock[] } {
  const blocks = resolvedBlocks(s);
  const size = s.chunkSize ?? 10;
  const events: StreamEvent[] = [{ type: 'messageStart', payload: { role: 'assistant' } }];
  blocks.forEach((b, contentBlockIndex) => {
    const delta = (d: JsonObject) => events.push({ type: 'contentBlockDelta', payload: { contentBlockIndex, delta: d } });
    if ('text' in b) {
      for (const piece of chunk(b.text, size)) delta({ text: piece });
    } else if ('toolUse' in b) {
      events.push({
        type: 'contentBlockStart',
        payload: { contentBlockIndex, start: { toolUse: { toolUseId: b.toolUse.toolUseId, name: b.toolUse.name } } },
      });
      for (const piece of chunk(JSON.stringify(b.toolUse.input ?? {}), size)) delta({ toolUse: { input: piece } });
    } else if ('redactedContent' in b.reasoning) {
      delta({ reasoningContent: { redactedContent: toBase64(b.reasoning.redactedContent) } });
    } else {
      for (const piece of chunk(b.reasoning.text, size)) delta({ reasoningContent: { text: piece } });
      if (b.reasoning.signature !== undefined) delta({ reasoningContent: { signature: b.reasoning.signature } });
    }
    events.push({ type: 'contentBlockStop', payload: { contentBlockIndex } });
  });
  const stop: JsonObject = { stopReason: stopReasonFor(s, blocks) };
  if (s.additionalModelResponseFields) stop.additionalModelResponseFields = s.additionalModelResponseFields;
  events.push({ type: 'messageStop', payload: stop });
  return { events, blocks };
}

export function metadataEvent(s: Script, blocks: ScriptBlock[], req: ScriptRequest, latencyMs: number): StreamEvent {
  return { type: 'metadata', payload: { usage: usageFor(s, blocks, req), metrics: { latencyMs: s.latencyMs ?? latencyMs } } };
}

/** Raw events (`{eventName: payload}`) to stream events. */
export function rawToStreamEvents(raw: RawEvent[]): StreamEvent[] {
  return raw.map((e) => {
    const keys = Object.keys(e);
    if (keys.length !== 1) throw new Error(`raw event must have exactly one key (the event type), got ${keys.join(', ')}`);
    return { type: keys[0], payload: e[keys[0]] };
  });
}
