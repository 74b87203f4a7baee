import { createHash } from 'node:crypto';
import { GetCommand, TransactWriteCommand, type TransactWriteCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { generateApiKey, hashApiKey, keyHint } from '../key-material.js';
import { errors } from '../errors.js';
import { money, moneyAttr, type Money } from '../money.js';
import { nextId } from './counters.js';
import { bumpCacheEpoch } from './cache-epoch.js';
import { deleteAll, getAll } from './batch.js';
import { cancellationCodes, db, fromWireItem, isConditionFailure, nowIso, queryAll, queryIndex, tableName } from './table.js';
import { GRANT_SK_PREFIX, indexKeys, itemKeys, partitions } from './table-keys.js';
import { currentMonth, now } from '../clock.js';
import { str } from './attributes.js';
import { type Limits, NO_LIMITS } from '../limits/types.js';

type Role = 'admin' | 'user';
type KeyStatus = 'active' | 'disabled';

/**
 * An API key. The item is keyed by the SHA-256 of the plaintext so that authentication is one strongly
 * consistent GetItem; a pointer item `KEYID#<id>` maps the public numeric id to the hash and also holds the
 * key's model grants. The plaintext is never stored.
 */
export interface ApiKey {
  id: number;
  hash: string;
  name: string;
  email: string;
  role: Role;
  groupId: number | null;
  monthQuota: Money;
  /** month_fee as stored: belongs to `feeMonth`; see currentMonthFee(). */
  monthFee: Money;
  feeMonth: string;
  balance: Money;
  totalFee: Money;
  /** Money held by in-flight requests: the sum of their leases' amounts (see billing/admission.ts). */
  reserved: Money;
  /**
   * One lease per in-flight request: what it holds and since when (epoch seconds), by the lease's attribute name
   * (find a request's with leaseNameOf / leaseOf).
   */
  leases: Map<string, Lease>;
  /** The key's own rate limits (null = not set: the group's value applies, else none). */
  limits: Limits;
  /** The current rate window (epoch minute) and what it has admitted so far. */
  rate: { window: number; requests: number; tokens: number };
  /** Calls in flight (one per lease). */
  parallel: number;
  status: KeyStatus;
  /** ISO time after which the key is refused; null = never. */
  expiresAt: string | null;
  keyHint: string;
  createdAt: string;
  updatedAt: string;
  rev: number;
  /**
   * The revision of the key's terms — role, group, limits, status, expiry, quota: every write that changes one of
   * them adds one (money and rate counters do not). A call that admits itself on this instance's remembered copy of
   * the key conditions its write on it (store/key-cache.ts), so it never runs on terms that have changed.
   */
  termsRev: number;
  /**
   * Until when (epoch ms; 0 = not) a reset of this key is under way: the key is refused meanwhile, and admissions
   * may not write it, so that the reset's move of the item only waits for the calls already in flight (resetKey()).
   */
  resetFenceUntil: number;
}

interface Lease {
  amount: Money;
  /** Epoch seconds when the request was admitted. */
  at: number;
}

/**
 * Leases are top-level attributes `l#<id>` = {a: amount, t: epoch seconds}, so admission and settlement can add and
 * remove one with a single SET / REMOVE (no parent map to create first, no migration of old items). The id is 12
 * base64url characters (72 bits) of the request id's SHA-256: a key shared by many concurrent calls carries one lease
 * per call in flight, and DynamoDB bills every write of the item on its size, so a lease is kept to about 30 bytes
 * (the request id itself made it about 60). Leases written before, `lease#<request id>`, are still read and removed
 * (they expire within LEASE_SECONDS anyway). `ApiKey.leases` is keyed by the attribute name.
 */
const LEASE_PREFIX = 'l#';
const LEGACY_LEASE_PREFIX = 'lease#';
export const leaseAttribute = (requestId: string) =>
  `${LEASE_PREFIX}${createHash('sha256').update(requestId).digest('base64url').slice(0, 12)}`;
const legacyLeaseAttribute = (requestId: string) => `${LEGACY_LEASE_PREFIX}${requestId}`;

/** The attribute name of this call's lease on the key as read (either layout), or undefined when it has none. */
export function leaseNameOf(key: Pick<ApiKey, 'leases'>, requestId: string): string | undefined {
  return leaseNames(requestId).find((name) => key.leases.has(name));
}

/** This call's lease on the key as read, if any. */
export function leaseOf(key: Pick<ApiKey, 'leases'>, requestId: string): Lease | undefined {
  const name = leaseNameOf(key, requestId);
  return name === undefined ? undefined : key.leases.get(name);
}

/** Both names this call's lease may have (a condition that no lease of it is there checks both). */
export function leaseNames(requestId: string): [string, string] {
  return [leaseAttribute(requestId), legacyLeaseAttribute(requestId)];
}

/** The SET clause that counts a change of a key's terms (with `:zero` and `:one` among the values). */
export const TERMS_REV_BUMP = 'terms_rev = if_not_exists(terms_rev, :zero) + :one';

/** A whole number attribute, or null when it is absent or null. */
const optInt = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function leasesOf(item: Record<string, unknown>): Map<string, Lease> {
  const out = new Map<string, Lease>();
  for (const [name, v] of Object.entries(item)) {
    if (!(name.startsWith(LEASE_PREFIX) || name.startsWith(LEGACY_LEASE_PREFIX)) || !v || typeof v !== 'object') continue;
    const lease = v as { a?: unknown; t?: unknown };
    out.set(name, { amount: money(lease.a), at: Number(lease.t ?? 0) });
  }
  return out;
}

export function fromItem(item: Record<string, unknown>): ApiKey {
  return {
    id: Number(item.id),
    hash: String(item.hash),
    name: str(item.name),
    email: str(item.email),
    role: item.role === 'admin' ? 'admin' : 'user',
    groupId: item.group_id === null || item.group_id === undefined ? null : Number(item.group_id),
    monthQuota: money(item.month_quota),
    monthFee: money(item.month_fee),
    feeMonth: str(item.fee_month),
    balance: money(item.balance),
    totalFee: money(item.total_fee),
    reserved: money(item.reserved),
    leases: leasesOf(item),
    limits: { rpm: optInt(item.rpm_limit), tpm: optInt(item.tpm_limit), maxParallel: optInt(item.max_parallel) },
    rate: { window: Number(item.rl_window ?? 0), requests: Number(item.rl_requests ?? 0), tokens: Number(item.rl_tokens ?? 0) },
    parallel: Number(item.inflight ?? 0),
    status: item.status === 'disabled' ? 'disabled' : 'active',
    expiresAt: typeof item.expires_at === 'string' ? item.expires_at : null,
    keyHint: str(item.key_hint),
    createdAt: str(item.created_at),
    updatedAt: str(item.updated_at),
    rev: Number(item.rev ?? 0),
    termsRev: Number(item.terms_rev ?? 0),
    resetFenceUntil: Number(item.reset_fence ?? 0),
  };
}

/** month_fee of the current UTC month: a stored figure from an earlier month counts as zero (lazy reset). */
export function currentMonthFee(key: ApiKey, month = currentMonth()): Money {
  return key.feeMonth === month ? key.monthFee : 0n;
}

function toItem(key: ApiKey): Record<string, unknown> {
  return {
    ...itemKeys.apiKey(key.hash),
    type: 'apikey',
    id: key.id,
    hash: key.hash,
    name: key.name,
    email: key.email,
    role: key.role,
    group_id: key.groupId,
    month_quota: moneyAttr(key.monthQuota),
    month_fee: moneyAttr(key.monthFee),
    fee_month: key.feeMonth,
    balance: moneyAttr(key.balance),
    total_fee: moneyAttr(key.totalFee),
    reserved: moneyAttr(key.reserved),
    key_hint: key.keyHint,
    created_at: key.createdAt,
    updated_at: key.updatedAt,
    rev: key.rev,
    terms_rev: key.termsRev,
    rpm_limit: key.limits.rpm,
    tpm_limit: key.limits.tpm,
    max_parallel: key.limits.maxParallel,
    rl_window: key.rate.window,
    rl_requests: key.rate.requests,
    rl_tokens: key.rate.tokens,
    inflight: key.parallel,
    status: key.status,
    expires_at: key.expiresAt,
    ...Object.fromEntries([...key.leases].map(([name, l]) => [name, { a: moneyAttr(l.amount), t: l.at }])),
  };
}

export async function getKeyByHash(hash: string): Promise<ApiKey | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: itemKeys.apiKey(hash), ConsistentRead: true }));
  return out.Item ? fromItem(out.Item) : undefined;
}

async function getKeyHashById(id: number): Promise<string | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: itemKeys.keyId(id), ConsistentRead: true }));
  return out.Item ? String(out.Item.hash) : undefined;
}

export async function getKeyById(id: number): Promise<ApiKey | undefined> {
  const hash = await getKeyHashById(id);
  return hash ? getKeyByHash(hash) : undefined;
}

export async function requireKeyById(id: number): Promise<ApiKey> {
  const key = await getKeyById(id);
  if (!key) throw errors.notFound(`API key ${id} not found.`);
  return key;
}

export interface NewKey {
  name: string;
  email?: string;
  role: Role;
  groupId?: number | null;
  monthQuota?: Money;
  balance?: Money;
  limits?: Partial<Limits>;
  expiresAt?: string | null;
  status?: KeyStatus;
}

/** Transaction items that create a key (and its pointer); the group must exist if one is named. */
function createItems(key: ApiKey): NonNullable<TransactWriteCommandInput['TransactItems']> {
  const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
    { Put: { TableName: tableName(), Item: toItem(key), ConditionExpression: 'attribute_not_exists(pk)' } },
    {
      Put: {
        TableName: tableName(),
        // The list index sits on this pointer, written only at create and reset, not on the key item that every
        // call updates: no index write on the hot path, and no hot APIKEYS index partition.
        Item: { ...itemKeys.keyId(key.id), type: 'apikey-id', id: key.id, hash: key.hash, ...indexKeys.apiKey(key.id) },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
  ];
  if (key.groupId !== null) items.push(groupExists(key.groupId));
  return items;
}

function groupExists(groupId: number) {
  return {
    ConditionCheck: {
      TableName: tableName(),
      Key: itemKeys.group(groupId),
      ConditionExpression: 'attribute_exists(pk)',
    },
  };
}

/**
 * Creates a key and returns it with its plaintext (the only time the plaintext exists outside the caller).
 * `extra` items (e.g. the payment row of an opening balance) are written in the same transaction.
 */
export async function createKey(
  input: NewKey,
  opts: { plaintext?: string; extra?: (key: ApiKey) => NonNullable<TransactWriteCommandInput['TransactItems']> } = {},
): Promise<{ key: ApiKey; plaintext: string }> {
  const plaintext = opts.plaintext ?? generateApiKey();
  const id = await nextId('apikey');
  const now = nowIso();
  const key: ApiKey = {
    id,
    hash: hashApiKey(plaintext),
    name: input.name,
    email: input.email ?? '',
    role: input.role,
    groupId: input.groupId ?? null,
    monthQuota: input.monthQuota ?? 0n,
    monthFee: 0n,
    feeMonth: currentMonth(),
    balance: input.balance ?? 0n,
    totalFee: 0n,
    reserved: 0n,
    leases: new Map(),
    limits: { ...NO_LIMITS, ...input.limits },
    rate: { window: 0, requests: 0, tokens: 0 },
    parallel: 0,
    status: input.status ?? 'active',
    expiresAt: input.expiresAt ?? null,
    keyHint: keyHint(plaintext),
    createdAt: now,
    updatedAt: now,
    rev: 0,
    termsRev: 0,
    resetFenceUntil: 0,
  };
  const items = [...createItems(key), ...(opts.extra?.(key) ?? [])];
  try {
    await db().send(new TransactWriteCommand({ TransactItems: items }));
  } catch (e) {
    const codes = cancellationCodes(e);
    if (codes?.[0] === 'ConditionalCheckFailed') throw errors.conflict('This API key already exists.');
    if (codes?.[2] === 'ConditionalCheckFailed' && key.groupId !== null) throw errors.notFound(`Group ${key.groupId} not found.`);
    throw e;
  }
  return { key, plaintext };
}

const BOOTSTRAP = itemKeys.bootstrap();

/**
 * Makes sure the bootstrap admin key exists — once. A marker item remembers which secret was provisioned, so a
 * bootstrap key that an admin has since reset or deleted is NOT recreated on the next cold start (revocation
 * sticks). Only a different secret (the operator rotated ADMIN_API_KEY or the Secrets Manager value) provisions a
 * new admin key. Returns undefined when the provisioned key has been revoked.
 */
export async function ensureAdminKey(plaintext: string, name = 'bootstrap-admin'): Promise<ApiKey | undefined> {
  const hash = hashApiKey(plaintext);
  const existing = await getKeyByHash(hash);
  if (existing) return existing;
  const marker = await db().send(new GetCommand({ TableName: tableName(), Key: BOOTSTRAP, ConsistentRead: true }));
  if (marker.Item?.hash === hash) return undefined; // provisioned before, revoked since: stays revoked
  try {
    return (
      await createKey(
        { name, role: 'admin' },
        {
          plaintext,
          extra: (k) => [
            {
              Put: {
                TableName: tableName(),
                Item: { ...BOOTSTRAP, type: 'bootstrap', hash, key_id: k.id, created_at: k.createdAt },
                ConditionExpression: 'attribute_not_exists(pk) OR #h <> :h',
                ExpressionAttributeNames: { '#h': 'hash' },
                ExpressionAttributeValues: { ':h': hash },
              },
            },
          ],
        },
      )
    ).key;
  } catch (e) {
    // Another instance provisioned it at the same moment.
    const again = await getKeyByHash(hash);
    if (again) return again;
    throw e;
  }
}

export interface KeyFilter {
  q?: string;
  name?: string;
  groupId?: number;
  role?: Role;
}

/** All keys, filtered in memory: the key partition is admin-sized (see docs/data-model.md). */
export async function listKeys(filter: KeyFilter): Promise<ApiKey[]> {
  const listed = await queryIndex<Record<string, unknown>>(partitions.apiKeys);
  // Pointers name the key item by hash (an item written before pointers carried the index is the key itself).
  const pointers = listed.filter((i) => i.type === 'apikey-id').map((i) => itemKeys.apiKey(str(i.hash)));
  const items = [...listed.filter((i) => i.type === 'apikey'), ...(await getAll(pointers))];
  const q = filter.q?.toLowerCase();
  return items
    .map(fromItem)
    .filter(
      (k) =>
        (!q || k.name.toLowerCase().includes(q) || k.email.toLowerCase().includes(q) || k.keyHint.toLowerCase().includes(q)) &&
        (!filter.name || k.name === filter.name) &&
        (filter.groupId === undefined || k.groupId === filter.groupId) &&
        (!filter.role || k.role === filter.role),
    )
    .sort((a, b) => a.id - b.id);
}

export interface KeyPatch {
  name?: string;
  email?: string;
  role?: Role;
  groupId?: number | null;
  monthQuota?: Money;
  /** A limit given as null clears it (the group's value applies again). */
  limits?: Partial<Limits>;
  expiresAt?: string | null;
  status?: KeyStatus;
}

export async function updateKey(id: number, patch: KeyPatch): Promise<ApiKey> {
  const key = await requireKeyById(id);
  const sets: string[] = ['updated_at = :now', 'rev = rev + :one', TERMS_REV_BUMP];
  const values: Record<string, unknown> = { ':now': nowIso(), ':one': 1, ':zero': 0 };
  const names: Record<string, string> = {};
  const set = (attr: string, value: unknown) => {
    names[`#${attr}`] = attr;
    values[`:${attr}`] = value;
    sets.push(`#${attr} = :${attr}`);
  };
  if (patch.name !== undefined) set('name', patch.name);
  if (patch.email !== undefined) set('email', patch.email);
  if (patch.role !== undefined) set('role', patch.role);
  if (patch.groupId !== undefined) set('group_id', patch.groupId);
  if (patch.monthQuota !== undefined) set('month_quota', moneyAttr(patch.monthQuota));
  if (patch.limits?.rpm !== undefined) set('rpm_limit', patch.limits.rpm);
  if (patch.limits?.tpm !== undefined) set('tpm_limit', patch.limits.tpm);
  if (patch.limits?.maxParallel !== undefined) set('max_parallel', patch.limits.maxParallel);
  if (patch.expiresAt !== undefined) set('expires_at', patch.expiresAt);
  if (patch.status !== undefined) set('status', patch.status);
  const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
    {
      Update: {
        TableName: tableName(),
        Key: itemKeys.apiKey(key.hash),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
        ExpressionAttributeValues: values,
      },
    },
  ];
  if (patch.groupId !== undefined && patch.groupId !== null) items.push(groupExists(patch.groupId));
  try {
    await db().send(new TransactWriteCommand({ TransactItems: items }));
  } catch (e) {
    const codes = cancellationCodes(e);
    if (codes?.[0] === 'ConditionalCheckFailed') throw errors.notFound(`API key ${id} not found.`);
    if (codes?.[1] === 'ConditionalCheckFailed') throw errors.notFound(`Group ${patch.groupId} not found.`);
    throw e;
  }
  return (await getKeyById(id))!;
}

/** Rounds a reset may lose to the key's own calls before it answers 409 (each a few ms). */
const RESET_ATTEMPTS = 30;
/** How long a reset's fence holds at most (a reset that died meanwhile leaves the key usable again after it). */
const RESET_FENCE_MS = 10_000;

/**
 * Replaces a key's secret: the item moves to the new hash in one transaction, so the old plaintext stops
 * authenticating at once. Guarded by `rev` so a charge landing meanwhile is never lost. A key under load changes
 * every few milliseconds (each admission and settlement writes it) — and that is when a leaked key most needs its
 * reset. So the reset first fences the key (`reset_fence`): from then on the old secret is refused and no admission
 * writes the item, and the move only has to get past the settlements of the calls already in flight. A lost round
 * is rebuilt on the item the refused write hands back (no second read), with a growing random pause once it has
 * lost a few, as a recharge does. A reset that fails anyway takes its fence down (or it expires, RESET_FENCE_MS).
 */
export async function resetKey(id: number): Promise<{ key: ApiKey; plaintext: string }> {
  const hash = await getKeyHashById(id);
  if (!hash) throw errors.notFound(`API key ${id} not found.`);
  let current: ApiKey | undefined = await fenceForReset(hash);
  const plaintext = generateApiKey();
  for (let attempt = 0; attempt < RESET_ATTEMPTS; attempt++) {
    if (!current) throw errors.notFound(`API key ${id} not found.`);
    if (attempt > 2) await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 5 * attempt)));
    const old: ApiKey = current;
    const moved: ApiKey = {
      ...old,
      hash: hashApiKey(plaintext),
      keyHint: keyHint(plaintext),
      updatedAt: nowIso(),
      rev: old.rev + 1,
      termsRev: old.termsRev, // the fence counted the reset's change of terms
      resetFenceUntil: 0,
    };
    try {
      await db().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: tableName(),
                Key: itemKeys.apiKey(old.hash),
                ConditionExpression: 'rev = :rev',
                ExpressionAttributeValues: { ':rev': old.rev },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            { Put: { TableName: tableName(), Item: toItem(moved), ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              Update: {
                TableName: tableName(),
                Key: itemKeys.keyId(id),
                UpdateExpression: 'SET #h = :new',
                ConditionExpression: '#h = :old',
                ExpressionAttributeNames: { '#h': 'hash' },
                ExpressionAttributeValues: { ':new': moved.hash, ':old': old.hash },
              },
            },
          ],
        }),
      );
      return { key: moved, plaintext };
    } catch (e) {
      const codes = cancellationCodes(e);
      if (codes?.[0] === 'ConditionalCheckFailed') {
        const item = (e as { CancellationReasons?: Array<{ Item?: Record<string, unknown> }> }).CancellationReasons?.[0]?.Item;
        // Gone (deleted, or reset by another caller): read it again by id; the next round says 404 if it is gone.
        current = item ? fromItem(fromWireItem(item as Record<string, never>)) : await getKeyById(id);
        continue;
      }
      // Another transaction on the key at that instant (a settlement), or a pointer that moved: read it again.
      if (codes?.includes('TransactionConflict') || codes?.includes('ConditionalCheckFailed')) {
        current = await getKeyById(id);
        continue;
      }
      throw e;
    }
  }
  if (current) await liftResetFence(current.hash).catch(() => undefined);
  throw errors.conflict('The key changed repeatedly during reset; try again.');
}

/** The fence of a reset on the key item (see resetKey()); its terms change too, so remembered copies are refused. */
async function fenceForReset(hash: string): Promise<ApiKey | undefined> {
  try {
    const out = await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: itemKeys.apiKey(hash),
        UpdateExpression: `SET reset_fence = :until, ${TERMS_REV_BUMP} ADD rev :one`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':until': now().getTime() + RESET_FENCE_MS, ':zero': 0, ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return out.Attributes ? fromItem(out.Attributes) : undefined;
  } catch (e) {
    if (isConditionFailure(e)) return undefined;
    throw e;
  }
}

async function liftResetFence(hash: string): Promise<void> {
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: itemKeys.apiKey(hash),
      UpdateExpression: 'REMOVE reset_fence',
      ConditionExpression: 'attribute_exists(pk)',
    }),
  );
}

/** Deletes a key, its pointer and every model grant it has (both sides). Sessions and threads stay as history. */
export async function deleteKey(id: number): Promise<void> {
  const key = await requireKeyById(id);
  // The KEYID partition holds the pointer and the key's forward grants.
  const partition = await queryAll<{ pk: string; sk: string; model_id?: number }>({
    KeyConditionExpression: 'pk = :p',
    ExpressionAttributeValues: { ':p': itemKeys.keyId(id).pk },
  });
  const grants = partition.filter((i) => i.sk.startsWith(GRANT_SK_PREFIX));
  // The key item goes first: from that moment the key no longer authenticates.
  await deleteAll([
    itemKeys.apiKey(key.hash),
    ...partition.map((i) => ({ pk: i.pk, sk: i.sk })),
    ...grants.map((g) => itemKeys.reverseGrant(Number(g.model_id), { kind: 'key', id })),
  ]);
  bumpCacheEpoch();
}
