import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
  FinishReason,
  ToolCall,
} from '../openai/types.js';

/** A model row as the providers see it (after the store has parsed config). */
export interface ResolvedModel {
  id: number;
  /** The name clients send as `model`; responses echo it. */
  name: string;
  provider: string;
  config: Record<string, unknown>;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Only when the upstream reports it; 0 otherwise. */
  reasoningTokens: number;
}

export const zeroUsage = (): TokenUsage => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
});

/** What one chat call produced, for billing and the thread record. */
export interface ChatOutcome {
  text: string;
  reasoning: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason | null;
  usage: TokenUsage;
}

/** Fetched bytes of an image URL (data: URLs are decoded without I/O). */
export interface FetchedImage {
  bytes: Uint8Array;
  mediaType: string;
}

/** Per-request context handed to providers. Holds no state shared between requests. */
export interface CallContext {
  requestId: string;
  /** Fetches an http(s) image URL through the SSRF guard. */
  fetchImage(url: string): Promise<FetchedImage>;
  signal?: AbortSignal;
}

export interface ChatStream {
  /** OpenAI chunks in order, ending with the finish chunk (and the usage chunk when requested). */
  chunks: AsyncIterable<ChatCompletionChunk>;
  /** What has been produced so far; complete once `chunks` is exhausted (partial if it threw). */
  outcome(): ChatOutcome;
}

export interface ChatProvider {
  readonly kind: 'chat';
  /** Non-streaming completion. Throws GatewayError for mapped upstream failures. */
  complete(req: ChatCompletionRequest, model: ResolvedModel, ctx: CallContext): Promise<{ response: ChatCompletion; outcome: ChatOutcome }>;
  /**
   * Streaming completion. Resolves only after the upstream accepted the request (so failures before the first
   * event are thrown here, before any HTTP status is committed).
   */
  stream(req: ChatCompletionRequest, model: ResolvedModel, ctx: CallContext): Promise<ChatStream>;
}

export interface EmbeddingsProvider {
  readonly kind: 'embeddings';
  embed(req: EmbeddingsRequest, model: ResolvedModel, ctx: CallContext): Promise<{ response: EmbeddingsResponse; usage: TokenUsage }>;
}

export type Provider = ChatProvider | EmbeddingsProvider;
