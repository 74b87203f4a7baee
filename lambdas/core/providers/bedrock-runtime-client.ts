import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';

const clients = new Map<string, BedrockRuntimeClient>();

/**
 * One BedrockRuntimeClient per region, shared by every Bedrock provider (module scope is fine: clients hold no
 * per-request state). `new BedrockRuntimeClient({})` honours AWS_ENDPOINT_URL_BEDROCK_RUNTIME and AWS_REGION.
 * The SDK makes one attempt per call: the pipeline retries retryable refusals itself, within a time budget (see
 * UpstreamSettings in config.ts).
 */
export function bedrockClientFor(region: string | undefined): BedrockRuntimeClient {
  const key = region ?? '';
  let c = clients.get(key);
  if (!c) {
    c = new BedrockRuntimeClient({ ...(region ? { region } : {}), maxAttempts: 1 });
    clients.set(key, c);
  }
  return c;
}
