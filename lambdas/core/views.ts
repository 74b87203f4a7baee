import { moneyToJson } from './money.js';
import { type ApiKey, currentMonthFee } from './store/keys.js';
import type { Group } from './store/groups.js';
import type { Model } from './store/models.js';
import type { Payment } from './store/payments.js';

/** What the admin and user APIs show of each record (money as decimal numbers in USD; never a key or its hash). */
export function keyView(k: ApiKey) {
  return {
    id: k.id,
    name: k.name,
    email: k.email,
    role: k.role,
    group_id: k.groupId,
    month_quota: moneyToJson(k.monthQuota),
    month_fee: moneyToJson(currentMonthFee(k)),
    balance: moneyToJson(k.balance),
    total_fee: moneyToJson(k.totalFee),
    key_hint: k.keyHint,
    created_at: k.createdAt,
    updated_at: k.updatedAt,
  };
}

export function modelView(m: Model) {
  return {
    id: m.id,
    name: m.name,
    group_id: m.groupId,
    multiple: m.multiple,
    provider: m.provider,
    config: m.config,
    price_in: moneyToJson(m.priceIn),
    price_out: moneyToJson(m.priceOut),
    price_cache_read: m.priceCacheRead === undefined ? null : moneyToJson(m.priceCacheRead),
    price_cache_write: m.priceCacheWrite === undefined ? null : moneyToJson(m.priceCacheWrite),
    created_at: m.createdAt,
    updated_at: m.updatedAt,
  };
}

export function groupView(g: Group) {
  return { id: g.id, name: g.name, created_at: g.createdAt, updated_at: g.updatedAt };
}

export function paymentView(p: Payment) {
  return {
    id: p.id,
    key_id: p.keyId,
    amount: moneyToJson(p.amount),
    balance_after: moneyToJson(p.balanceAfter),
    created_at: p.createdAt,
  };
}
