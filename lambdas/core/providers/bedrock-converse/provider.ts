import { randomUUID } from 'node:crypto';
import {
  ConverseCommand,
  type ConverseCommandOutput,
  type ConverseStreamCommandInput,
  ConverseStreamCommand,
  type ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { GatewayError } from '../../openai/errors.js';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../../openai/types.js';
// One cached client per region, shared with the embeddings provider (clients hold no per-request state).
import { bedrockClientFor as clientFor } from '../bedrock-runtime-client.js';
import type { CallContext, ChatProvider, ChatStream, ResolvedModel } from '../types.js';
import { buildConverseRequest } from './build-request.js';
import type { CompletionMeta } from './completion-meta.js';
import { parseConverseConfig } from './config.js';
import { mapBedrockError } from './map-error.js';
import { mapConverseResponse } from './map-response.js';
import { ConverseStreamState } from './stream-state.js';

/** The two Bedrock calls the provider makes; swapped for a fake in tests. */
export interface ConverseTransport {
  converse(input: ConverseStreamCommandInput, region: string | undefined, signal?: AbortSignal): Promise<ConverseCommandOutput>;
  /** Resolves once Bedrock has accepted the request and the event stream has begun. */
  converseStream(
    input: ConverseStreamCommandInput,
    region: string | undefined,
    signal?: AbortSignal,
  ): Promise<{ stream?: AsyncIterable<ConverseStreamOutput> }>;
}

export const sdkTransport: ConverseTransport = {
  converse: (input, region, signal) => clientFor(region).send(new ConverseCommand(input), { abortSignal: signal }),
  converseStream: (input, region, signal) => clientFor(region).send(new ConverseStreamCommand(input), { abortSignal: signal }),
};

export function createBedrockConverseProvider(transport: ConverseTransport = sdkTransport): ChatProvider {
  async function prepare(req: ChatCompletionRequest, model: ResolvedModel, ctx: CallContext) {
    const config = parseConverseConfig(model.config);
    const plan = await buildConverseRequest(req, config, ctx);
    const meta: CompletionMeta = {
      id: `chatcmpl-${ctx.requestId || randomUUID()}`,
      created: Math.floor(Date.now() / 1000),
      model: model.name,
      structuredToolName: plan.structuredToolName,
    };
    return { config, plan, meta };
  }

  return {
    kind: 'chat',

    async complete(req, model, ctx) {
      const { config, plan, meta } = await prepare(req, model, ctx);
      const res = await transport.converse(plan.input, config.region, ctx.signal).catch((e: unknown) => {
        throw mapBedrockError(e);
      });
      return mapConverseResponse(res, meta);
    },

    async stream(req, model, ctx): Promise<ChatStream> {
      const { config, plan, meta } = await prepare(req, model, ctx);
      // Awaited here so that refusals before the first event still become a real HTTP error status.
      const res = await transport.converseStream(plan.input, config.region, ctx.signal).catch((e: unknown) => {
        throw mapBedrockError(e);
      });
      if (!res.stream) throw new GatewayError(502, 'Bedrock returned no event stream.', { code: 'upstream_error' });
      const state = new ConverseStreamState({ ...meta, includeUsage: req.stream_options?.include_usage === true });
      return { chunks: relay(res.stream, state), outcome: () => state.outcome() };
    },
  };
}

async function* relay(events: AsyncIterable<ConverseStreamOutput>, state: ConverseStreamState): AsyncGenerator<ChatCompletionChunk> {
  try {
    for await (const event of events) yield* state.next(event);
  } catch (e) {
    throw mapBedrockError(e);
  }
  yield* state.end();
}

export const bedrockConverseProvider: ChatProvider = createBedrockConverseProvider();
