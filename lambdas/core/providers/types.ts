import type { ChatEvent } from '../chat/events.js';
import type { ChatRequest } from '../chat/request.js';
import type { TokenUsage } from '../usage.js';

/** A model row as the providers see it (after the store has parsed config). */
export interface ResolvedModel {
  id: number;
  /** The name clients send as `model`. */
  name: string;
  provider: string;
  config: Record<string, unknown>;
}

/** Per-request context handed to providers. Holds no state shared between requests. */
export interface ProviderContext {
  requestId: string;
  /** Aborted when the client goes away or the call is given up: the upstream call must stop. */
  signal: AbortSignal;
}

export interface ChatProvider {
  readonly kind: 'chat';
  /**
   * Starts one chat call. Resolves only once the upstream accepted the request (so a refusal before the first
   * event is thrown here, before any HTTP status is committed), with the call's event stream (chat/events.ts),
   * which throws a GatewayError if the call fails later. A provider may use a non-streaming upstream call when
   * the client does not stream, and replays its answer as events.
   */
  chat(req: ChatRequest, model: ResolvedModel, ctx: ProviderContext): Promise<AsyncIterable<ChatEvent>>;
  /**
   * The request's input tokens as the upstream counts them, without running the model; undefined (or no method)
   * when the upstream cannot count for this model, and the caller estimates instead.
   */
  countTokens?(req: ChatRequest, model: ResolvedModel, ctx: ProviderContext): Promise<number | undefined>;
}

/** An embeddings call, in neutral terms: the texts (validated, non-empty) and the wanted dimensions. */
export interface EmbeddingsRequest {
  inputs: string[];
  dimensions?: number;
}

export interface EmbeddingsResult {
  /** One vector per input, in input order. */
  vectors: number[][];
  usage: TokenUsage;
}

export interface EmbeddingsProvider {
  readonly kind: 'embeddings';
  embed(req: EmbeddingsRequest, model: ResolvedModel, ctx: ProviderContext): Promise<EmbeddingsResult>;
}

export type Provider = ChatProvider | EmbeddingsProvider;
