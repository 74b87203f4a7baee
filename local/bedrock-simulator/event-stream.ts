/**
 * AWS event-stream framing (application/vnd.amazon.eventstream) as Bedrock Runtime sends it on ConverseStream and
 * InvokeModelWithResponseStream. Each frame is a binary message with typed headers and a JSON body; the SDK
 * decodes `:message-type` = event (payload named by `:event-type`) or exception (named by `:exception-type`).
 */
import { EventStreamCodec } from '@smithy/eventstream-codec';
import type { Message, MessageHeaders } from '@smithy/eventstream-codec';

// The codec wants the two UTF-8 converters from @smithy/util-utf8. That package is not a direct dependency of
// this project, and Buffer does exactly the same job on Node.
const toUtf8 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
const fromUtf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

const codec = new EventStreamCodec(toUtf8, fromUtf8);

const str = (value: string) => ({ type: 'string' as const, value });

/** One frame carrying a regular event, e.g. `encodeEvent('contentBlockDelta', {contentBlockIndex: 0, delta: {...}})`. */
export function encodeEvent(eventType: string, payload: unknown): Uint8Array {
  const headers: MessageHeaders = {
    ':event-type': str(eventType),
    ':content-type': str('application/json'),
    ':message-type': str('event'),
  };
  return codec.encode({ headers, body: fromUtf8(JSON.stringify(payload ?? {})) });
}

/**
 * One frame carrying a modelled exception (`throttlingException`, `modelStreamErrorException`, ...). The SDK maps the
 * `:exception-type` to the union member of the stream output and throws the matching exception class from the
 * async iterator.
 */
export function encodeException(exceptionType: string, payload: Record<string, unknown>): Uint8Array {
  const headers: MessageHeaders = {
    ':exception-type': str(exceptionType),
    ':content-type': str('application/json'),
    ':message-type': str('exception'),
  };
  return codec.encode({ headers, body: fromUtf8(JSON.stringify(payload)) });
}

/** A decoded frame: header values flattened to plain values, body parsed as JSON when possible. */
export interface DecodedFrame {
  headers: Record<string, unknown>;
  body: unknown;
}

/**
 * Splits a complete event-stream byte buffer into frames (handy for tests that read a raw response body rather than
 * going through the SDK). Throws on a truncated or corrupt buffer (the codec checks both CRCs).
 */
export function decodeEventStream(bytes: Uint8Array): DecodedFrame[] {
  const frames: DecodedFrame[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    if (bytes.byteLength - offset < 4) throw new Error('truncated event-stream frame');
    const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 4);
    const length = view.getUint32(0, false);
    const message: Message = codec.decode(bytes.subarray(offset, offset + length));
    const headers: Record<string, unknown> = {};
    for (const [name, header] of Object.entries(message.headers)) headers[name] = header.value;
    const text = toUtf8(message.body);
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: keep the text.
    }
    frames.push({ headers, body });
    offset += length;
  }
  return frames;
}
