import { type ApiKey, getKeyByHash } from './keys.js';

/**
 * The keys this instance has seen lately, by hash — so that a user key's chat call can skip its key read: its
 * admission writes the key item anyway, and that one conditional write both confirms the key and reserves the call
 * (billing/admission.ts). A remembered key is only ever a guess. It is handed out *unconfirmed*, and is trusted only
 * once that write has succeeded on the item as it is now, under the same terms revision (ApiKey.termsRev): a key
 * deleted, reset, disabled, regrouped or limited since then fails the condition, and the call starts over with a
 * fresh, strongly consistent read (auth/authenticate.ts servePresented), so every answer is the one that read would
 * give. Nothing here is a secret (the item holds the key's hash, never its plaintext).
 */
const remembered = new Map<string, { key: ApiKey; at: number }>();
const unconfirmed = new WeakSet<ApiKey>();
const confirmations = new WeakMap<ApiKey, Promise<ApiKey>>();

/** How long a remembered key is worth a guess (its terms are checked by the write whatever its age). */
const KEEP_MS = 5 * 60_000;
const MAX_KEYS = 5000;

/** Remembers the key as just read or written (strongly consistent). */
export function rememberKey(key: ApiKey): void {
  if (remembered.size >= MAX_KEYS && !remembered.has(key.hash)) remembered.clear();
  remembered.set(key.hash, { key, at: Date.now() });
}

/** The key item is gone or changed: a copy of it is no longer worth a guess. */
export function forgetKey(hash: string): void {
  remembered.delete(hash);
}

/** The key last seen with this hash, as an unconfirmed copy (see isUnconfirmed), or undefined. */
export function recallKey(hash: string): ApiKey | undefined {
  const hit = remembered.get(hash);
  if (!hit) return undefined;
  if (Date.now() - hit.at > KEEP_MS) {
    remembered.delete(hash);
    return undefined;
  }
  const copy = { ...hit.key, leases: new Map(hit.key.leases) };
  unconfirmed.add(copy);
  return copy;
}

/** A recalled key that no write or read has confirmed yet: nothing may be decided on it for good. */
export function isUnconfirmed(key: ApiKey): boolean {
  return unconfirmed.has(key);
}

/** The store has just shown this key to be as recalled (same item, same terms). */
export function confirmKey(key: ApiKey): void {
  unconfirmed.delete(key);
}

/**
 * For a recalled key whose call writes nothing before its upstream call (an admin key without limits): the
 * strongly consistent read that confirms it, started now, so that the call's own work overlaps it. It resolves with
 * the item as read once it shows the same key under the same terms, still `usable`, and rejects with `refusal` (and
 * forgets the key) otherwise; the call's upstream request waits for it (upstream-gate.ts).
 */
export function confirmByRead(key: ApiKey, usable: (fresh: ApiKey) => boolean, refusal: () => Error): void {
  const read = getKeyByHash(key.hash).then((fresh) => {
    if (!fresh || fresh.id !== key.id || fresh.termsRev !== key.termsRev || !usable(fresh)) {
      forgetKey(key.hash);
      throw refusal();
    }
    rememberKey(fresh);
    confirmKey(key);
    return fresh;
  });
  read.catch(() => undefined); // met by the call's gate, or by nobody if the call was refused before it
  confirmations.set(key, read);
}

/** The confirming read started for this recalled key, if any. */
export function confirmationOf(key: ApiKey): Promise<ApiKey> | undefined {
  return confirmations.get(key);
}
