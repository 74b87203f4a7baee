/**
 * How many input tokens a request would use, without running the model (Anthropic's count_tokens): the
 * upstream's own count where it has one (Bedrock CountTokens, for Claude), else the gateway's estimate. Never
 * billed and never recorded: nothing is generated, and the key and model were already checked by the caller.
 *
 * The estimate is the one admission reserves by (chat/estimate.ts): characters / 3 plus 1,600 tokens per image,
 * documents by size — deliberately on the high side of what tokenizers count (about 4 characters a token for
 * English), so a client that plans its context by it stays within the window.
 */
import { fetchImage } from '../net/safe-fetch.js';
import { chatProvider } from '../providers/registry.js';
import type { Model } from '../store/models.js';
import { type ImageFetcher, resolveAttachments } from './attachments.js';
import { estimatePromptTokens } from './estimate.js';
import type { ChatRequest } from './request.js';

export interface TokenCount {
  inputTokens: number;
  /** true when the upstream could not count and this is the gateway's estimate. */
  estimated: boolean;
}

export async function countInputTokens(call: {
  model: Model;
  request: ChatRequest;
  requestId: string;
  fetchImage?: ImageFetcher;
}): Promise<TokenCount> {
  const provider = await chatProvider(call.model.provider);
  const abort = new AbortController();
  if (provider.countTokens) {
    const fetcher = call.fetchImage ?? ((url: string, signal?: AbortSignal) => fetchImage(url, { signal }));
    const request = await resolveAttachments(call.request, fetcher, abort.signal);
    const counted = await provider.countTokens(request, call.model, { requestId: call.requestId, signal: abort.signal });
    if (counted !== undefined) return { inputTokens: counted, estimated: false };
  }
  return { inputTokens: estimatePromptTokens(call.request), estimated: true };
}
