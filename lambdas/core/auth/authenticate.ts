// node:timers' own setImmediate: a test's fake timers replace the global one, which would stall every call here.
import { setImmediate } from 'node:timers';
import { now } from '../clock.js';
import { errors, type GatewayError, isGatewayError } from '../errors.js';
import { hasLimits } from '../limits/types.js';
import { confirmByRead, forgetKey, isUnconfirmed, recallKey, rememberKey } from '../store/key-cache.js';
import { type ApiKey, getKeyByHash } from '../store/keys.js';
import { hashApiKey } from '../key-material.js';
import { presentedKey } from './api-key.js';
import { ensureBootstrapAdmin } from './bootstrap.js';

/**
 * Who is calling: one strongly consistent GetItem by the key's hash, never cached, so a deleted, reset or disabled
 * key stops working on the very next request. Any string is looked up; keys are never rejected for their shape. A
 * disabled or expired key is refused like an unknown one (401), with a message that says why.
 */
export async function authenticate(headers: Record<string, string | undefined>): Promise<ApiKey> {
  await ensureBootstrapAdmin();
  const presented = presentedKey(headers);
  if (!presented) throw errors.invalidApiKey();
  const hash = hashApiKey(presented);
  const key = await getKeyByHash(hash);
  if (!key) {
    forgetKey(hash);
    throw errors.invalidApiKey();
  }
  rememberKey(key);
  assertUsable(key);
  return key;
}

/**
 * authenticate() and a validation of the request at once: the key lookup is I/O, so the body is checked while the
 * GetItem is on the wire. It is checked one turn of the event loop later, once that request has been written (the
 * SDK gets there in microtasks and ticks): checked at once, it would hold the request back by its own time, which
 * for a large prompt (Claude Code sends tens of KB) is a good part of a millisecond. A bad key still wins over a
 * bad body (401).
 */
export async function authenticateWhile<T>(
  headers: Record<string, string | undefined>,
  validate: () => T,
): Promise<{ key: ApiKey; value: T }> {
  const keyLookup = authenticate(headers);
  keyLookup.catch(() => undefined);
  await new Promise<void>((resolve) => setImmediate(resolve));
  let value: T;
  try {
    value = validate();
  } catch (e) {
    await keyLookup;
    throw e;
  }
  return { key: await keyLookup, value };
}

/**
 * For the chat routes. A user key's admission writes its item anyway: `serve` runs first on the key as this
 * instance last saw it (store/key-cache.ts) with no read at all, and that admission write confirms it — same item,
 * same terms — in the same round trip. If anything refuses the call before the key is confirmed (the write's
 * condition, a bad body, a model the remembered key may not use, a quota decided on the remembered copy), nothing
 * has been written or sent, and the call starts over exactly as without the memory: authenticateWhile() reads the
 * key, strongly consistent, so every answer — 401 for a key deleted, reset or disabled a moment ago — is the one
 * that read gives. A store fault is not retried (it is the answer either way). An admin key's call writes nothing
 * to admit it, so it is confirmed by that read instead — started at once, the call's own work (the route, the
 * provider building and signing its request) running beside it, and its upstream request held until the read
 * confirms the key (upstream-gate.ts).
 */
export async function servePresented<T, R>(
  headers: Record<string, string | undefined>,
  validate: () => T,
  serve: (key: ApiKey, value: T) => Promise<R>,
): Promise<R> {
  const presented = presentedKey(headers);
  const recalled = presented ? recallKey(hashApiKey(presented)) : undefined;
  if (recalled && isUsable(recalled)) {
    // An admin key's call writes nothing to admit it (unless it has limits of its own, counted in that write): a
    // read confirms it, overlapping the call's own work.
    if (recalled.role === 'admin' && !hasLimits(recalled.limits)) {
      confirmByRead(recalled, isUsable, () => errors.invalidApiKey());
      await new Promise<void>((resolve) => setImmediate(resolve)); // the read on the wire first (authenticateWhile)
    }
    let served: R | undefined;
    try {
      served = await serve(recalled, validate());
    } catch (e) {
      if (!isUnconfirmed(recalled) || (isGatewayError(e) && e.code === 'service_unavailable')) throw e;
    }
    if (served !== undefined) {
      if (isUnconfirmed(recalled)) throw new Error('a call was served on a recalled key that no admission confirmed');
      return served;
    }
  }
  const { key, value } = await authenticateWhile(headers, validate);
  return serve(key, value);
}

function isUsable(key: ApiKey): boolean {
  try {
    assertUsable(key);
    return true;
  } catch {
    return false;
  }
}

/** The refusals of a key that exists but may not be used (see isUnusableKeyError). */
const unusableKeyErrors = new WeakSet<GatewayError>();

function unusable(message: string): GatewayError {
  const e = errors.invalidApiKey(message);
  unusableKeyErrors.add(e);
  return e;
}

/**
 * A disabled or expired key may do nothing (every route, the Feishu bot too): refused like an unknown key (401,
 * code invalid_api_key, as CONTRACT has it) with a message that says why.
 */
export function assertUsable(key: ApiKey): void {
  // Being reset: the old secret stops at once, as it will once the reset has moved the key (an unknown key then).
  if (key.resetFenceUntil > now().getTime()) throw errors.invalidApiKey();
  if (key.status === 'disabled') throw unusable('This API key is disabled. Ask an administrator to enable it.');
  if (key.expiresAt !== null && Date.parse(key.expiresAt) <= now().getTime()) {
    throw unusable(`This API key expired at ${key.expiresAt}.`);
  }
}

/** Whether a refusal is of a real key that is disabled or expired (the Feishu bot says so in the chat). */
export const isUnusableKeyError = (e: unknown): boolean => isGatewayError(e) && unusableKeyErrors.has(e);

export function requireAdmin(key: ApiKey): void {
  if (key.role !== 'admin') throw errors.forbidden('This route requires an admin key.');
}
