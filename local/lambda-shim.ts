import { Writable } from 'node:stream';

/**
 * The Lambda Node.js runtime provides a global `awslambda` for response streaming; it exists nowhere else.
 * This shim supplies the two members handlers use, so the very handler the stack deploys streams through the
 * local node:http server chunk by chunk. Install it before importing a streaming handler (middy reads it at
 * construction time).
 */
const STREAMING = Symbol.for('bedrock-gateway.streaming');

export interface ResponsePrelude {
  statusCode?: number;
  headers?: Record<string, string>;
  cookies?: string[];
}

/** What the runtime hands a streaming handler: a writable that may first receive an HTTP prelude. */
export abstract class LocalResponseStream extends Writable {
  abstract setPrelude(prelude: ResponsePrelude): void;
}

type StreamingHandler = (event: unknown, stream: LocalResponseStream, context: unknown) => Promise<unknown>;

export function installLambdaShim(): void {
  // Other libraries (Powertools' invoke store) may already have created the global with members of their own.
  const g = globalThis as unknown as { awslambda?: Record<string, unknown> };
  g.awslambda ??= {};
  if (typeof g.awslambda.streamifyResponse === 'function') return;
  Object.assign(g.awslambda, {
    streamifyResponse(fn: StreamingHandler) {
      Object.defineProperty(fn, STREAMING, { value: true });
      return fn;
    },
    HttpResponseStream: {
      from(stream: LocalResponseStream, prelude: ResponsePrelude) {
        stream.setPrelude(prelude);
        return stream;
      },
    },
  });
}

export function isStreamingHandler(fn: unknown): fn is StreamingHandler {
  return typeof fn === 'function' && (fn as unknown as Record<symbol, unknown>)[STREAMING] === true;
}
