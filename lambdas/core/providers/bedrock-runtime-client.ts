import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttp2Handler } from '@smithy/node-http-handler';
import { passGate } from '../upstream-gate.js';

/**
 * Each chat call's abort signal, by its command's input and then by the signed HTTP request made from it. The chat
 * clients resolve their middleware once per command class (the SDK's `cacheMiddleware`), which takes no per-call
 * options: a call's signal travels with its input instead (withSignal, through sendChat), and the request handler
 * finds it.
 */
const signalOfInput = new WeakMap<object, AbortSignal>();
const signalOfRequest = new WeakMap<object, AbortSignal>();

/** Marks a command for a chat client: the call is aborted with `signal` (instead of `send(command, { abortSignal })`). */
export function withSignal<C extends { input: object }>(command: C, signal: AbortSignal | undefined): C {
  if (signal) signalOfInput.set(command.input, signal);
  return command;
}

/**
 * `send` of a chat client, marked with the call's signal; once Bedrock has answered (for a stream: its headers), the
 * command lets go of its input. A client that caches its middleware keeps the first command of each class for as long
 * as it lives (the SDK's handler context holds it), and that input is someone's prompt, images included.
 */
export async function sendChat<C extends { input: object }, R>(
  command: C,
  signal: AbortSignal | undefined,
  send: (command: C) => Promise<R>,
): Promise<R> {
  try {
    return await send(withSignal(command, signal));
  } finally {
    (command as { input: object }).input = {};
  }
}

/**
 * Streams on Bedrock (ConverseStream, InvokeModelWithResponseStream) are server-to-client only: the request body
 * is sent whole, then the answer streams back. The SDK nevertheless gives every event-stream call an HTTP/2 session
 * of its own (a new TCP connection and, against real Bedrock, a TLS handshake per call), because its event streams
 * may also be bidirectional. For ours that isolation buys nothing, so every call leases a shared, pooled session.
 */
class SharedSessionHttp2Handler extends NodeHttp2Handler {
  override async handle(...[request, options]: Parameters<NodeHttp2Handler['handle']>): ReturnType<NodeHttp2Handler['handle']> {
    const abortSignal = options?.abortSignal ?? signalOfRequest.get(request);
    // The request is built and signed by now; it leaves only once the call's gate opens (upstream-gate.ts).
    await passGate(abortSignal as AbortSignal | undefined);
    return super.handle(request, { ...options, abortSignal, isEventStream: false });
  }
}

/** A session idle this long is closed (long enough for a thinking model's silences; the stall guard is 90 s). */
const SESSION_IDLE_MS = 5 * 60_000;
/** Streams per session before the pool opens another (below the HTTP/2 limits servers announce). */
const STREAMS_PER_SESSION = 100;

/**
 * What a client is for. `chat`: the chat providers' calls, the hot path — middleware resolved once per command
 * class, each call sent with sendChat(). `embeddings`: calls that add middleware of their own to a
 * command (a response header read in the deserialize step), which a cached stack would not run; a client of its own,
 * since one call with per-call options on a caching client drops that client's cache.
 */
type Purpose = 'chat' | 'embeddings';

const clients = new Map<string, BedrockRuntimeClient>();

/**
 * One BedrockRuntimeClient per region and purpose, shared by the Bedrock providers (module scope is fine: clients
 * hold no per-request state), over HTTP/2 sessions kept alive and shared across calls and invocations of the
 * instance. `new BedrockRuntimeClient({})` honours AWS_ENDPOINT_URL_BEDROCK_RUNTIME and AWS_REGION. The SDK makes
 * one attempt per call: the pipeline retries retryable refusals itself, within a time budget (see UpstreamSettings
 * in config.ts) — including a call that met a session the far end had closed while the instance was frozen.
 */
export function bedrockClientFor(region: string | undefined, purpose: Purpose = 'chat'): BedrockRuntimeClient {
  const key = `${purpose}|${region ?? ''}`;
  let c = clients.get(key);
  if (!c) {
    c = new BedrockRuntimeClient({
      ...(region ? { region } : {}),
      maxAttempts: 1,
      cacheMiddleware: purpose === 'chat',
      requestHandler: new SharedSessionHttp2Handler({ sessionTimeout: SESSION_IDLE_MS, maxConcurrentStreams: STREAMS_PER_SESSION }),
    });
    // Innermost: the request this sees is the signed one the handler gets.
    c.middlewareStack.add(
      (next) => (args) => {
        const signal = signalOfInput.get(args.input);
        if (signal) signalOfRequest.set(args.request as object, signal);
        return next(args);
      },
      { step: 'deserialize', priority: 'low', name: 'callSignal' },
    );
    clients.set(key, c);
  }
  return c;
}
