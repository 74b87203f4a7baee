import {
  CountTokensCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  type ResponseStream,
} from '@aws-sdk/client-bedrock-runtime';
import type { ChatEvent } from '../../chat/events.js';
import type { ChatRequest } from '../../chat/request.js';
import { GatewayError } from '../../errors.js';
import type { JsonObject } from '../../json.js';
import { logger } from '../../log.js';
import { mapBedrockError } from '../bedrock-errors.js';
// One cached client per region, shared with the other Bedrock providers (clients hold no per-request state).
import { bedrockClientFor as clientFor, sendChat } from '../bedrock-runtime-client.js';
import type { ProviderContext } from '../types.js';
import { buildInvokeBody, type ClaudeInvokeOptions, type ClaudeTarget } from './build-request.js';
import { claudeMessageEvents } from './map-response.js';
import { ClaudeStreamState } from './stream-state.js';
import { messageSchema } from './wire-types.js';

/** The three Bedrock calls Claude's native path makes; swapped for a fake in tests. */
export interface ClaudeTransport {
  /** InvokeModel: the response body (the Anthropic message as JSON). */
  invoke(
    modelId: string,
    body: Uint8Array,
    region: string | undefined,
    signal?: AbortSignal,
    options?: ClaudeInvokeOptions,
  ): Promise<Uint8Array>;
  /** InvokeModelWithResponseStream: resolves once Bedrock has accepted the request and the event stream has begun. */
  invokeStream(
    modelId: string,
    body: Uint8Array,
    region: string | undefined,
    signal?: AbortSignal,
    options?: ClaudeInvokeOptions,
  ): Promise<AsyncIterable<ResponseStream> | undefined>;
  /** CountTokens with the InvokeModel-shaped input (the Converse-shaped one was reported to ignore tools). */
  countTokens(modelId: string, body: Uint8Array, region: string | undefined, signal?: AbortSignal): Promise<number | undefined>;
}

const sdkClaudeTransport: ClaudeTransport = {
  invoke: async (modelId, body, region, signal, options) => {
    const command = new InvokeModelCommand({ modelId, body, contentType: 'application/json', accept: 'application/json', ...options });
    return (await sendChat(command, signal, (c) => clientFor(region).send(c))).body;
  },
  invokeStream: async (modelId, body, region, signal, options) => {
    const command = new InvokeModelWithResponseStreamCommand({
      modelId,
      body,
      contentType: 'application/json',
      accept: 'application/json',
      ...options,
    });
    return (await sendChat(command, signal, (c) => clientFor(region).send(c))).body;
  },
  countTokens: async (modelId, body, region, signal) => {
    const command = new CountTokensCommand({ modelId, input: { invokeModel: { body } } });
    return (await sendChat(command, signal, (c) => clientFor(region).send(c))).inputTokens;
  },
};

/** Claude natively on Bedrock, for requests from Anthropic Messages clients (the bedrock-converse provider delegates). */
export interface ClaudeOnBedrock {
  chat(req: ChatRequest, target: ClaudeTarget, ctx: ProviderContext): Promise<AsyncIterable<ChatEvent>>;
  /** The request's input tokens as Claude counts them (Bedrock CountTokens); undefined when the model cannot count. */
  countTokens(req: ChatRequest, target: ClaudeTarget, ctx: ProviderContext): Promise<number | undefined>;
}

const encode = (body: JsonObject) => new TextEncoder().encode(JSON.stringify(body));

export function createClaudeOnBedrock(transport: ClaudeTransport = sdkClaudeTransport): ClaudeOnBedrock {
  return {
    async chat(req, target, ctx) {
      const plan = buildInvokeBody(req, target);
      logDroppedOnce(plan.droppedBetas, plan.droppedFields, ctx.requestId);
      const body = encode(plan.body);
      if (!req.stream) {
        const bytes = await transport.invoke(target.modelId, body, target.region, ctx.signal, target.options).catch((e: unknown) => {
          throw mapBedrockError(e);
        });
        return replay(claudeMessageEvents(parseMessage(bytes)));
      }
      // Awaited here so that refusals before the first event still become a real HTTP error status.
      const stream = await transport.invokeStream(target.modelId, body, target.region, ctx.signal, target.options).catch((e: unknown) => {
        throw mapBedrockError(e);
      });
      if (!stream) throw new GatewayError(502, 'Bedrock returned no event stream.', { kind: 'upstream', code: 'upstream_error' });
      return relay(stream, new ClaudeStreamState());
    },

    async countTokens(req, target, ctx) {
      const { body } = buildInvokeBody({ ...req, stream: false }, target);
      try {
        return await transport.countTokens(
          countTokensModelId(target.modelId),
          encode(withRoomForThinking(body)),
          target.region,
          ctx.signal,
        );
      } catch (e) {
        const err = mapBedrockError(e);
        // A model (or region) without CountTokens: the caller estimates instead. Anything else is a real failure.
        if (err.kind === 'invalid_request' || err.kind === 'not_found') {
          logger.info('CountTokens unavailable for this model; estimating', { requestId: ctx.requestId, modelId: target.modelId });
          return undefined;
        }
        throw err;
      }
    },
  };
}

/**
 * CountTokens takes a foundation model id: a cross-region profile (`us.anthropic.claude-…`) is counted on the model
 * it names (the tokenizer is the model's, not the region's).
 */
export function countTokensModelId(modelId: string): string {
  return modelId.replace(/^(?:us|eu|apac|global|jp|au|ca|us-gov)\.(?=anthropic\.)/, '');
}

/** A counted body still has to be a valid InvokeModel body: max_tokens above any thinking budget. */
function withRoomForThinking(body: JsonObject): JsonObject {
  const thinking = body.thinking;
  const budget = thinking && typeof thinking === 'object' && !Array.isArray(thinking) ? thinking.budget_tokens : undefined;
  const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens : 0;
  return typeof budget === 'number' && maxTokens <= budget ? { ...body, max_tokens: budget + 1 } : body;
}

function parseMessage(bytes: Uint8Array) {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    json = undefined;
  }
  const parsed = messageSchema.safeParse(json);
  if (!parsed.success)
    throw new GatewayError(502, 'Bedrock returned a Claude response the gateway cannot read.', { code: 'upstream_error' });
  // A guardrail that intervened replaced the answer with its blocked message: a refusal, whatever stop_reason says.
  return guardrailIntervened(json) ? { ...parsed.data, stop_reason: 'refusal' } : parsed.data;
}

/** Bedrock marks a body (or stream chunk) its guardrail intervened in with `amazon-bedrock-guardrailAction`. */
const guardrailIntervened = (json: unknown) =>
  typeof json === 'object' && json !== null && (json as Record<string, unknown>)['amazon-bedrock-guardrailAction'] === 'INTERVENED';

const EXCEPTION_MEMBERS = [
  'internalServerException',
  'modelStreamErrorException',
  'validationException',
  'throttlingException',
  'modelTimeoutException',
  'serviceUnavailableException',
] as const;

// eslint-disable-next-line @typescript-eslint/require-await -- an async generator, so the pipeline reads both paths alike
async function* replay(events: ChatEvent[]): AsyncGenerator<ChatEvent> {
  yield* events;
}

async function* relay(events: AsyncIterable<ResponseStream>, state: ClaudeStreamState): AsyncGenerator<ChatEvent> {
  try {
    for await (const event of events) {
      for (const member of EXCEPTION_MEMBERS) {
        const failure = (event as Partial<Record<(typeof EXCEPTION_MEMBERS)[number], object>>)[member];
        if (failure) throw mapBedrockError(Object.assign({}, failure, { name: member }));
      }
      if (event.chunk?.bytes) yield* state.nextChunk(event.chunk.bytes);
    }
  } catch (e) {
    throw mapBedrockError(e);
  }
  yield* state.end();
}

const logged = new Set<string>();

/** Betas and fields Bedrock refuses are dropped silently for the client; the operator hears of each once per instance. */
function logDroppedOnce(betas: string[], fields: string[], requestId: string): void {
  const fresh = [...betas.map((b) => `beta:${b}`), ...fields.map((f) => `field:${f}`)].filter((k) => !logged.has(k));
  if (fresh.length === 0) return;
  for (const k of fresh) logged.add(k);
  logger.info('Dropped what Bedrock does not accept for Claude (logged once per instance)', { requestId, dropped: fresh });
}

export const claudeOnBedrock: ClaudeOnBedrock = createClaudeOnBedrock();
