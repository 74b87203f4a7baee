import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttp2Handler } from '@smithy/node-http-handler';

const clients = new Map<string, BedrockRuntimeClient>();

/**
 * Streams on Bedrock (ConverseStream, InvokeModelWithResponseStream) are server-to-client only: the request body
 * is sent whole, then the answer streams back. The SDK nevertheless gives every event-stream call an HTTP/2 session
 * of its own (a new TCP connection and, against real Bedrock, a TLS handshake per call), because its event streams
 * may also be bidirectional. For ours that isolation buys nothing, so every call leases a shared, pooled session.
 */
class SharedSessionHttp2Handler extends NodeHttp2Handler {
  override handle(...[request, options]: Parameters<NodeHttp2Handler['handle']>): ReturnType<NodeHttp2Handler['handle']> {
    return super.handle(request, { ...options, isEventStream: false });
  }
}

/** A session idle this long is closed (long enough for a thinking model's silences; the stall guard is 90 s). */
const SESSION_IDLE_MS = 5 * 60_000;
/** Streams per session before the pool opens another (below the HTTP/2 limits servers announce). */
const STREAMS_PER_SESSION = 100;

/**
 * One BedrockRuntimeClient per region, shared by every Bedrock provider (module scope is fine: clients hold no
 * per-request state), over HTTP/2 sessions kept alive and shared across calls and invocations of the instance.
 * `new BedrockRuntimeClient({})` honours AWS_ENDPOINT_URL_BEDROCK_RUNTIME and AWS_REGION. The SDK makes one attempt
 * per call: the pipeline retries retryable refusals itself, within a time budget (see UpstreamSettings in
 * config.ts) — including a call that met a session the far end had closed while the instance was frozen.
 */
export function bedrockClientFor(region: string | undefined): BedrockRuntimeClient {
  const key = region ?? '';
  let c = clients.get(key);
  if (!c) {
    c = new BedrockRuntimeClient({
      ...(region ? { region } : {}),
      maxAttempts: 1,
      requestHandler: new SharedSessionHttp2Handler({ sessionTimeout: SESSION_IDLE_MS, maxConcurrentStreams: STREAMS_PER_SESSION }),
    });
    clients.set(key, c);
  }
  return c;
}
