import { z } from 'zod';
import type { Route } from '../../core/http/router.js';
import { page } from '../../core/http/envelope.js';
import { dropEmpty, MAX_NAME, parse, zId, zInstant, zLimit, zMoney, zPage, zQuery } from '../../core/validate.js';
import { hashApiKey } from '../../core/key-material.js';
import { errors } from '../../core/errors.js';
import { type ApiKey, createKey, deleteKey, getKeyByHash, listKeys, requireKeyById, resetKey, updateKey } from '../../core/store/keys.js';
import { paymentItem, recharge } from '../../core/store/payments.js';
import { nextId } from '../../core/store/counters.js';
import { tableName } from '../../core/store/table.js';
import { keyViewWithLimits, paymentView } from '../../core/http/views.js';
import { getGroup } from '../../core/store/groups.js';
import { effectiveLimits } from '../../core/limits/types.js';
import { modelGrantRoutes } from './model-grants.js';

const zRole = z.enum(['admin', 'user'], { error: "must be 'admin' or 'user'" });
/** 0, null or absent all mean "no group". */
const zGroupRef = z
  .union([z.null(), z.literal(0), z.literal('0'), z.literal(''), zId])
  .transform((v) => (v === null || v === 0 || v === '0' || v === '' ? null : v));

const zStatus = z.enum(['active', 'disabled'], { error: "must be 'active' or 'disabled'" });

/** Rate limits and lifecycle, shared by apply and update (null clears a limit: the group's value applies). */
const lifecycle = {
  rpm_limit: zLimit.optional(),
  tpm_limit: zLimit.optional(),
  max_parallel: zLimit.optional(),
  expires_at: zInstant.optional(),
  status: zStatus.optional(),
};

const applySchema = z.object({
  name: z.string().trim().min(1, 'is required').max(200),
  group_id: zGroupRef.optional(),
  role: zRole.default('user'),
  email: z.string().trim().max(320).optional().default(''),
  month_quota: zMoney({ decimals: 6, min: 'nonnegative' }).optional(),
  balance: zMoney({ decimals: 6, min: 'nonnegative' }).optional(),
  ...lifecycle,
});

const updateSchema = z.object({
  id: zId,
  name: z.string().trim().min(1, 'must not be empty').max(200).optional(),
  group_id: zGroupRef.optional(),
  role: zRole.optional(),
  email: z.string().trim().max(320).optional(),
  month_quota: zMoney({ decimals: 6, min: 'nonnegative' }).optional(),
  ...lifecycle,
});

/**
 * A key's money is not set by an update: the balance moves by recharges (which leave a payment row) and calls,
 * month_fee and total_fee by calls only. Sent anyway, they are a 400 rather than a 200 that silently changed nothing.
 */
function refuseBookFields(body: unknown): void {
  if (!body || typeof body !== 'object') return;
  const b = body as Record<string, unknown>;
  if (b.balance !== undefined) throw errors.badRequest("'balance' is not set by an update: use /admin/api-key/recharge.", 'balance');
  for (const f of ['month_fee', 'total_fee'] as const) {
    if (b[f] !== undefined) throw errors.badRequest(`'${f}' is the sum of the key's calls; it cannot be set.`, f);
  }
}

const limitsOf = (v: { rpm_limit?: number | null; tpm_limit?: number | null; max_parallel?: number | null }) => ({
  ...(v.rpm_limit === undefined ? {} : { rpm: v.rpm_limit }),
  ...(v.tpm_limit === undefined ? {} : { tpm: v.tpm_limit }),
  ...(v.max_parallel === undefined ? {} : { maxParallel: v.max_parallel }),
});

/**
 * `balance` is the amount to add (the contract's name); `amount`, the payment row's name for it, is accepted too.
 * Both at once must agree.
 */
const rechargeSchema = z
  .object({
    id: zId.optional(),
    api_key: z.string().min(1).max(MAX_NAME).optional(),
    balance: zMoney({ decimals: 6, min: 'positive' }).optional(),
    amount: zMoney({ decimals: 6, min: 'positive' }).optional(),
  })
  .refine((v) => v.id !== undefined || v.api_key !== undefined, { message: "one of 'id' or 'api_key' is required", path: ['id'] })
  .refine((v) => v.balance !== undefined || v.amount !== undefined, { message: 'is required (the amount to add)', path: ['balance'] })
  .refine((v) => v.balance === undefined || v.amount === undefined || v.balance === v.amount, {
    message: "'balance' and 'amount' name the same figure and must not differ",
    path: ['amount'],
  })
  .transform((v) => ({ ...v, balance: (v.balance ?? v.amount)! }));

const listSchema = zPage.extend({
  q: zQuery.optional(),
  name: zQuery.optional(),
  group_id: zId.optional(),
  role: zRole.optional(),
});

const idSchema = z.object({ id: zId });

export const apiKeyRoutes: Route[] = [
  {
    method: 'POST',
    path: '/admin/api-key/apply',
    run: async ({ body }) => {
      const input = parse(applySchema, body);
      const opening = input.balance ?? 0n;
      const paymentId = opening > 0n ? await nextId('payment') : undefined;
      const { key, plaintext } = await createKey(
        {
          name: input.name,
          email: input.email,
          role: input.role,
          groupId: input.group_id ?? null,
          monthQuota: input.month_quota ?? 0n,
          balance: opening,
          limits: limitsOf(input),
          expiresAt: input.expires_at ?? null,
          status: input.status ?? 'active',
        },
        {
          // An opening balance is a payment like any other: it shows in the history.
          extra: (k) =>
            paymentId === undefined
              ? []
              : [
                  {
                    Put: {
                      TableName: tableName(),
                      Item: paymentItem({ id: paymentId, keyId: k.id, amount: opening, balanceAfter: opening, createdAt: k.createdAt }),
                    },
                  },
                ],
        },
      );
      return { ...(await withLimits(key)), api_key: plaintext };
    },
  },
  {
    method: 'POST',
    path: '/admin/api-key/update',
    run: async ({ body, caller }) => {
      refuseBookFields(body);
      const input = parse(updateSchema, body);
      // The same guard as disable/delete: an admin key cannot lock itself out through an update either.
      if (input.id === caller.id) {
        if (input.status === 'disabled') throw errors.badRequest('An admin key cannot disable itself.', 'status');
        if (input.role === 'user') throw errors.badRequest('An admin key cannot demote itself.', 'role');
        if (input.expires_at && Date.parse(input.expires_at) <= Date.now())
          throw errors.badRequest('An admin key cannot expire itself.', 'expires_at');
      }
      const key = await updateKey(input.id, {
        name: input.name,
        email: input.email,
        role: input.role,
        groupId: input.group_id,
        monthQuota: input.month_quota,
        limits: limitsOf(input),
        expiresAt: input.expires_at,
        status: input.status,
      });
      return withLimits(key);
    },
  },
  // Disable stops a key on its very next request (every route refuses it with 401, saying why); enable restores it.
  ...(['disable', 'enable'] as const).map((action): Route => ({
    method: 'POST',
    path: `/admin/api-key/${action}`,
    run: async ({ body, caller }) => {
      const { id } = parse(idSchema, body);
      if (action === 'disable' && id === caller.id) throw errors.badRequest('An admin key cannot disable itself.', 'id');
      return withLimits(await updateKey(id, { status: action === 'disable' ? 'disabled' : 'active' }));
    },
  })),
  {
    method: 'POST',
    path: '/admin/api-key/recharge',
    run: async ({ body }) => {
      const input = parse(rechargeSchema, body);
      // Both given: they must name the same key, or the money could go to another key than the admin meant.
      if (input.id !== undefined && input.api_key !== undefined && (await getKeyByHash(hashApiKey(input.api_key)))?.id !== input.id) {
        throw errors.badRequest("'id' and 'api_key' name different keys (or the api_key is unknown); give one of them.", 'api_key');
      }
      const payment = await recharge(input.id !== undefined ? { id: input.id } : { hash: hashApiKey(input.api_key!) }, input.balance);
      return paymentView(payment);
    },
  },
  {
    method: 'POST',
    path: '/admin/api-key/reset',
    run: async ({ body }) => {
      const { id } = parse(idSchema, body);
      const { key, plaintext } = await resetKey(id);
      return { ...(await withLimits(key)), api_key: plaintext };
    },
  },
  {
    method: 'GET',
    path: '/admin/api-key/list',
    run: async ({ query }) => {
      const q = parse(listSchema, dropEmpty(query));
      const keys = await listKeys({ q: q.q, name: q.name, groupId: q.group_id, role: q.role });
      const shown = page(keys, q.limit, q.offset);
      return { ...shown, items: await withLimits(shown.items) };
    },
  },
  {
    method: 'POST',
    path: '/admin/api-key/delete',
    run: async ({ body, caller }) => {
      const { id } = parse(idSchema, body);
      if (id === caller.id) throw errors.badRequest('An admin key cannot delete itself.', 'id');
      await deleteKey(id);
      return { id, deleted: true };
    },
  },
  ...modelGrantRoutes({ prefix: '/admin/api-key', idField: 'key_id', kind: 'key', requireGrantee: requireKeyById }),
];

/**
 * Key views with `effective_limits`: the limits that apply (the key's own where set, else its group's), as
 * /user/api-key/mine shows them. Each group of the keys shown is read once, fresh (an admin edits them here).
 */
async function withLimits(key: ApiKey): Promise<ReturnType<typeof keyViewWithLimits>>;
async function withLimits(keys: ApiKey[]): Promise<Array<ReturnType<typeof keyViewWithLimits>>>;
async function withLimits(given: ApiKey | ApiKey[]) {
  const keys = Array.isArray(given) ? given : [given];
  const ids = [...new Set(keys.map((k) => k.groupId).filter((g): g is number => g !== null))];
  const groups = new Map(await Promise.all(ids.map(async (id) => [id, (await getGroup(id))?.limits] as const)));
  const views = keys.map((k) => keyViewWithLimits(k, effectiveLimits(k.limits, k.groupId === null ? undefined : groups.get(k.groupId))));
  return Array.isArray(given) ? views : views[0];
}
