import {
  ConverseCommand,
  type ConverseCommandOutput,
  ConverseStreamCommand,
  type ConverseStreamCommandInput,
  type ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime';
import type { ChatEvent } from '../../chat/events.js';
import { GatewayError } from '../../errors.js';
// One cached client per region, shared with the other Bedrock providers (clients hold no per-request state).
import { bedrockClientFor as clientFor, sendChat } from '../bedrock-runtime-client.js';
import { mapBedrockError } from '../bedrock-errors.js';
import { type ClaudeOnBedrock, claudeOnBedrock } from '../bedrock-anthropic/provider.js';
import type { ClaudeTarget } from '../bedrock-anthropic/build-request.js';
import type { ChatProvider } from '../types.js';
import { buildConverseRequest } from './build-request.js';
import { type ConverseConfig, parseConverseConfig } from './config.js';
import { converseResponseEvents } from './map-response.js';
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

const sdkTransport: ConverseTransport = {
  converse: (input, region, signal) => sendChat(new ConverseCommand(input), signal, (c) => clientFor(region).send(c)),
  converseStream: (input, region, signal) => sendChat(new ConverseStreamCommand(input), signal, (c) => clientFor(region).send(c)),
};

/**
 * Chat over Bedrock Converse (non-streaming clients) and ConverseStream (streaming clients), for every chat model.
 * A request from an Anthropic Messages client (it carries `extensions.anthropic`) to a Claude model goes to Claude
 * natively instead (InvokeModel, the bedrock-anthropic provider): thinking blocks, betas and cache marks exactly as
 * the client sent them. Every other request to Claude — chat completions, the Feishu bot — stays on Converse.
 */
export function createBedrockConverseProvider(
  transport: ConverseTransport = sdkTransport,
  claude: ClaudeOnBedrock = claudeOnBedrock,
): ChatProvider {
  return {
    kind: 'chat',
    async chat(req, model, ctx) {
      const config = parseConverseConfig(model.config);
      if (config.claudeFamily && req.extensions?.anthropic) return claude.chat(req, claudeTarget(config), ctx);
      const plan = buildConverseRequest(req, config);
      const events = {
        structuredToolName: plan.structuredToolName,
        singleToolCall: req.parallelToolCalls === false,
        stopSequences: req.stopSequences,
      };
      if (!req.stream) {
        const res = await transport.converse(plan.input, config.region, ctx.signal).catch((e: unknown) => {
          throw mapBedrockError(e);
        });
        return replay(converseResponseEvents(res, events));
      }
      // Awaited here so that refusals before the first event still become a real HTTP error status.
      const res = await transport.converseStream(plan.input, config.region, ctx.signal).catch((e: unknown) => {
        throw mapBedrockError(e);
      });
      if (!res.stream) throw new GatewayError(502, 'Bedrock returned no event stream.', { kind: 'upstream', code: 'upstream_error' });
      return relay(res.stream, new ConverseStreamState(events));
    },

    // Bedrock counts tokens for Claude only; for other models the caller estimates.
    async countTokens(req, model, ctx) {
      const config = parseConverseConfig(model.config);
      return config.claudeFamily ? claude.countTokens(req, claudeTarget(config), ctx) : undefined;
    },
  };
}

const claudeTarget = (config: ConverseConfig): ClaudeTarget => {
  const g = config.guardrail;
  const options: NonNullable<ClaudeTarget['options']> = {};
  if (g) {
    options.guardrailIdentifier = g.identifier;
    options.guardrailVersion = g.version;
    if (g.trace) options.trace = g.trace.toUpperCase() as 'ENABLED' | 'DISABLED' | 'ENABLED_FULL';
  }
  if (config.performance) options.performanceConfigLatency = config.performance;
  if (config.serviceTier) options.serviceTier = config.serviceTier;
  return { modelId: config.modelId, region: config.region, maxTokens: config.maxTokens, options };
};

// eslint-disable-next-line @typescript-eslint/require-await -- an async generator, so the pipeline reads both paths alike
async function* replay(events: ChatEvent[]): AsyncGenerator<ChatEvent> {
  yield* events;
}

async function* relay(events: AsyncIterable<ConverseStreamOutput>, state: ConverseStreamState): AsyncGenerator<ChatEvent> {
  try {
    for await (const event of events) yield* state.next(event);
  } catch (e) {
    throw mapBedrockError(e);
  }
  yield* state.end();
}

export const bedrockConverseProvider: ChatProvider = createBedrockConverseProvider();
