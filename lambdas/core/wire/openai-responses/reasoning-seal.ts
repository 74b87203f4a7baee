/**
 * `encrypted_content` of reasoning items: the upstream's reasoning (Claude's thinking text and signature, or its
 * redacted data) sealed with the gateway's key (sealing/sealed-box.ts), bound to the API key that received it. A
 * stateless client (Codex sends the whole history every turn) hands it back, and it becomes the signed reasoning
 * block Bedrock requires before a tool-use continuation with thinking. Another key's blob, an altered one or a
 * made-up one is a 400; a blob produced for another model is dropped (its signature would not verify there).
 */
import type { ReasoningBlock, RedactedReasoningBlock } from '../../chat/request.js';
import { errors } from '../../errors.js';
import { isJsonObject } from '../../json.js';
import { open, seal } from '../../sealing/sealed-box.js';

export type SealedReasoning = { type: 'reasoning'; text: string; signature?: string } | { type: 'redacted_reasoning'; data: string };

const context = (keyId: number) => `responses.reasoning.v1|key:${keyId}`;

export function sealReasoning(key: Uint8Array, keyId: number, model: string, r: SealedReasoning): string {
  const payload =
    r.type === 'redacted_reasoning'
      ? { m: model, r: r.data }
      : { m: model, t: r.text, ...(r.signature === undefined ? {} : { s: r.signature }) };
  return seal(key, JSON.stringify(payload), context(keyId));
}

/** The reasoning block, or undefined when it was sealed for another model; a 400 when it does not open. */
export function openReasoning(
  key: Uint8Array,
  keyId: number,
  model: string,
  token: string,
  path: string,
): ReasoningBlock | RedactedReasoningBlock | undefined {
  const plain = open(key, token, context(keyId));
  let payload: unknown;
  try {
    payload = plain === undefined ? undefined : JSON.parse(plain);
  } catch {
    payload = undefined;
  }
  if (!isJsonObject(payload) || typeof payload.m !== 'string') {
    throw errors.badRequest(
      `${path}.encrypted_content was not issued to this API key by this gateway (or was altered); send back reasoning items unchanged.`,
      `${path}.encrypted_content`,
      'invalid_encrypted_content',
    );
  }
  if (payload.m !== model) return undefined;
  if (typeof payload.r === 'string') return { type: 'redacted_reasoning', data: payload.r };
  return {
    type: 'reasoning',
    text: typeof payload.t === 'string' ? payload.t : '',
    ...(typeof payload.s === 'string' ? { signature: payload.s } : {}),
  };
}
