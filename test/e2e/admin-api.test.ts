import type OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway();

const MODEL = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  multiple: false,
  config: JSON.stringify({ modelId: 'anthropic.claude-3-sonnet-20240229-v1:0' }),
  provider: 'bedrock-converse',
  price_in: 3,
  price_out: 15,
  ...extra,
});

describe('health', () => {
  it('answers 200 when ready', async () => {
    const res = await fetch(`${ctx.gw.url}/health`);
    expect(res.status).toBe(200);
  });
});

describe('api keys', () => {
  it('apply returns the plaintext once; list never does', async () => {
    const group = await ctx.admin.post('/admin/group/save', { name: 'team-a' });
    expect(group.status).toBe(200);
    const res = await ctx.admin.post('/admin/api-key/apply', {
      name: 'jack',
      group_id: group.body.data.id,
      role: 'user',
      email: 'jack@example.com',
      month_quota: 1.0,
    });
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    const k = res.body.data;
    expect(k.api_key).toMatch(/^br-[0-9A-Za-z]{32,}$/);
    expect(k).toMatchObject({
      name: 'jack',
      role: 'user',
      group_id: group.body.data.id,
      month_quota: 1,
      balance: 0,
      month_fee: 0,
      total_fee: 0,
    });
    expect(k.key_hint).toBe(`${k.api_key.slice(0, 6)}…${k.api_key.slice(-4)}`);

    const list = await ctx.admin.get('/admin/api-key/list?q=jack');
    expect(list.status).toBe(200);
    expect(list.body.data.total).toBe(1);
    const raw = JSON.stringify(list.body);
    expect(raw).not.toContain(k.api_key);
    expect(list.body.data.items[0]).not.toHaveProperty('api_key');
    expect(list.body.data.items[0]).not.toHaveProperty('hash');
  });

  it('filters list by name, group, role, and pages with limit/offset', async () => {
    const g = (await ctx.admin.post('/admin/group/save', { name: 'filters' })).body.data;
    for (const n of ['f1', 'f2', 'f3']) await ctx.admin.post('/admin/api-key/apply', { name: n, group_id: g.id, role: 'user', email: '' });
    await ctx.admin.post('/admin/api-key/apply', { name: 'f-admin', group_id: g.id, role: 'admin', email: '' });
    const byGroup = await ctx.admin.get(`/admin/api-key/list?group_id=${g.id}&limit=2&offset=1`);
    expect(byGroup.body.data).toMatchObject({ total: 4, limit: 2, offset: 1 });
    expect(byGroup.body.data.items.map((i) => i.name)).toEqual(['f2', 'f3']);
    const byRole = await ctx.admin.get(`/admin/api-key/list?group_id=${g.id}&role=admin`);
    expect(byRole.body.data.items.map((i) => i.name)).toEqual(['f-admin']);
    const byName = await ctx.admin.get('/admin/api-key/list?name=f2&q=&role=');
    expect(byName.body.data.items.map((i) => i.name)).toEqual(['f2']);
    const defaults = await ctx.admin.get('/admin/api-key/list');
    expect(defaults.body.data).toMatchObject({ limit: 20, offset: 0 });
  });

  it('update changes fields; unknown id → 404; bad values → 400', async () => {
    const k = (await ctx.admin.post('/admin/api-key/apply', { name: 'upd', role: 'user', email: '' })).body.data;
    const res = await ctx.admin.post('/admin/api-key/update', { id: k.id, name: 'updated', month_quota: 10 });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id: k.id, name: 'updated', month_quota: 10 });
    expect((await ctx.admin.post('/admin/api-key/update', { id: 999999, name: 'x' })).status).toBe(404);
    const neg = await ctx.admin.post('/admin/api-key/update', { id: k.id, month_quota: -1 });
    expect(neg.status).toBe(400);
    expect(neg.body).toMatchObject({ success: false, error: { code: 'invalid_request_error' } });
    expect((await ctx.admin.post('/admin/api-key/update', { id: k.id, role: 'root' })).status).toBe(400);
    expect((await ctx.admin.post('/admin/api-key/update', { id: k.id, group_id: 424242 })).status).toBe(404);
    // Money is not set by an update (recharge, calls): a 400 naming the field, and nothing else changes either.
    for (const field of ['balance', 'month_fee', 'total_fee']) {
      const r = await ctx.admin.post('/admin/api-key/update', { id: k.id, name: 'not-this', [field]: 100 });
      expect(r.status, field).toBe(400);
      expect(r.body.error?.message, field).toContain(field);
    }
    const [after] = (await ctx.admin.get(`/admin/api-key/list?q=updated`)).body.data.items.filter((x) => x.id === k.id);
    expect(after).toMatchObject({ name: 'updated', balance: 0, month_fee: 0, total_fee: 0 });
  });

  it('apply validates: missing name, wrong role, negative money, unknown group, bad JSON', async () => {
    expect((await ctx.admin.post('/admin/api-key/apply', { role: 'user' })).status).toBe(400);
    expect((await ctx.admin.post('/admin/api-key/apply', { name: 'x', role: 'owner' })).status).toBe(400);
    expect((await ctx.admin.post('/admin/api-key/apply', { name: 'x', month_quota: -5 })).status).toBe(400);
    expect((await ctx.admin.post('/admin/api-key/apply', { name: 'x', balance: '1.0000001' })).status).toBe(400);
    const unknownGroup = await ctx.admin.post('/admin/api-key/apply', { name: 'x', group_id: 987654 });
    expect(unknownGroup.status).toBe(404);
    const bad = await ctx.admin.post('/admin/api-key/apply', '{not json');
    expect(bad.status).toBe(400);
    expect(bad.body.success).toBe(false);
    // nothing half-written: no key named x exists
    expect((await ctx.admin.get('/admin/api-key/list?name=x')).body.data.total).toBe(0);
  });

  it('recharge by id or by api_key adds exactly and writes payment rows', async () => {
    const k = (await ctx.admin.post('/admin/api-key/apply', { name: 'payer', role: 'user', email: '', balance: 0.1 })).body.data;
    const r1 = await ctx.admin.post('/admin/api-key/recharge', { id: k.id, balance: 0.2 });
    expect(r1.status).toBe(200);
    expect(r1.body.data).toMatchObject({ key_id: k.id, amount: 0.2, balance_after: 0.3 });
    const r2 = await ctx.admin.post('/admin/api-key/recharge', { api_key: k.api_key, balance: '0.23' });
    expect(r2.body.data.balance_after).toBe(0.53);
    expect((await ctx.admin.post('/admin/api-key/recharge', { id: k.id, balance: 0 })).status).toBe(400);
    expect((await ctx.admin.post('/admin/api-key/recharge', { id: k.id, balance: -1 })).status).toBe(400);
    expect((await ctx.admin.post('/admin/api-key/recharge', { id: 777777, balance: 1 })).status).toBe(404);
    expect((await ctx.admin.post('/admin/api-key/recharge', { api_key: 'br-nope', balance: 1 })).status).toBe(404);
    expect((await ctx.admin.post('/admin/api-key/recharge', { balance: 1 })).status).toBe(400);
    const pays = await ctx.admin.get(`/admin/payment/list?key_id=${k.id}`);
    expect(pays.body.data.total).toBe(3);
    expect(pays.body.data.items.map((p) => p.amount)).toEqual([0.23, 0.2, 0.1]); // newest first
    const list = await ctx.admin.get(`/admin/api-key/list?name=payer`);
    expect(list.body.data.items[0].balance).toBe(0.53);
  });

  it('a recharge naming a key by id and by api_key must name one key: else 400 and nothing is credited', async () => {
    const apply = (name: string) => ctx.admin.post('/admin/api-key/apply', { name, role: 'user', email: '', month_quota: 1 });
    const a = (await apply('recharge-a')).body.data;
    const b = (await apply('recharge-b')).body.data;
    const mismatch = await ctx.admin.post('/admin/api-key/recharge', { id: a.id, api_key: b.api_key, balance: 1 });
    expect(mismatch.status).toBe(400);
    const unknown = await ctx.admin.post('/admin/api-key/recharge', { id: a.id, api_key: 'br-unknown', balance: 1 });
    expect(unknown.status).toBe(400);
    const same = await ctx.admin.post('/admin/api-key/recharge', { id: a.id, api_key: a.api_key, balance: 1 });
    expect(same.status).toBe(200);
    const keys = (await ctx.admin.get('/admin/api-key/list?limit=1000')).body.data.items;
    expect(keys.find((k) => k.id === a.id)!.balance).toBe(1);
    expect(keys.find((k) => k.id === b.id)!.balance).toBe(0);
  });

  it('recharges that would sum past the 1e12 bound are refused, and the key stays readable', async () => {
    const k = (await ctx.admin.post('/admin/api-key/apply', { name: 'whale', role: 'user', email: '', balance: 0 })).body.data;
    expect((await ctx.admin.post('/admin/api-key/recharge', { id: k.id, balance: 1e12 })).status).toBe(200);
    const over = await ctx.admin.post('/admin/api-key/recharge', { id: k.id, balance: 1 });
    expect(over.status).toBe(400);
    expect(over.body.success).toBe(false);
    expect(JSON.stringify(over.body)).toContain('at most 1000000000000');
    expect((await ctx.admin.post('/admin/api-key/recharge', { id: k.id, balance: '1000000000000.000001' })).status).toBe(400);
    const list = await ctx.admin.get('/admin/api-key/list?name=whale');
    expect(list.status).toBe(200);
    expect(list.body.data.items[0].balance).toBe(1e12);
    expect((await ctx.admin.get(`/admin/payment/list?key_id=${k.id}`)).body.data.total).toBe(1);
    expect((await ctx.admin.post('/admin/api-key/update', { id: k.id, name: 'whale-2' })).status).toBe(200);
  });

  it('an admin key cannot lock itself out: not by disable or delete, nor by an update to its status, role or expiry', async () => {
    const self = (await ctx.admin.get('/admin/api-key/list?role=admin&limit=100')).body.data.items.find(
      (k) => k.name === 'bootstrap-admin',
    )!;
    const refusals = [
      await ctx.admin.post('/admin/api-key/disable', { id: self.id }),
      await ctx.admin.post('/admin/api-key/delete', { id: self.id }),
      await ctx.admin.post('/admin/api-key/update', { id: self.id, status: 'disabled' }),
      await ctx.admin.post('/admin/api-key/update', { id: self.id, role: 'user' }),
      await ctx.admin.post('/admin/api-key/update', { id: self.id, expires_at: '2000-01-01T00:00:00Z' }),
    ];
    expect(refusals.map((r) => r.status)).toEqual([400, 400, 400, 400, 400]);
    // still an admin, still working; a harmless update of itself is fine
    const renamed = await ctx.admin.post('/admin/api-key/update', { id: self.id, email: 'root@example.com' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.data).toMatchObject({ role: 'admin', status: 'active', expires_at: null });
  });

  it('reset issues a new key and the old one stops working at once', async () => {
    const k = (await ctx.admin.post('/admin/api-key/apply', { name: 'resettable', role: 'user', email: '' })).body.data;
    const before = await api(ctx.gw.url, k.api_key).get('/user/api-key/mine');
    expect(before.status).toBe(200);
    const reset = await ctx.admin.post('/admin/api-key/reset', { id: k.id });
    expect(reset.status).toBe(200);
    expect(reset.body.data.api_key).not.toBe(k.api_key);
    expect(reset.body.data.id).toBe(k.id);
    expect((await api(ctx.gw.url, k.api_key).get('/user/api-key/mine')).status).toBe(401);
    expect((await api(ctx.gw.url, reset.body.data.api_key).get('/user/api-key/mine')).status).toBe(200);
    expect((await ctx.admin.post('/admin/api-key/reset', { id: 555555 })).status).toBe(404);
  });

  it('delete revokes at once and removes the key grants', async () => {
    const k = (await ctx.admin.post('/admin/api-key/apply', { name: 'doomed', role: 'user', email: '' })).body.data;
    const m = (await ctx.admin.post('/admin/model/save', MODEL('doomed-model'))).body.data;
    expect((await ctx.admin.post('/admin/api-key/bind-model', { key_id: k.id, model_id: m.id })).status).toBe(200);
    expect((await ctx.admin.post('/admin/api-key/delete', { id: k.id })).status).toBe(200);
    expect((await api(ctx.gw.url, k.api_key).get('/user/api-key/mine')).status).toBe(401);
    expect((await ctx.admin.post('/admin/api-key/delete', { id: k.id })).status).toBe(404);
    expect((await ctx.admin.get(`/admin/api-key/list-model?key_id=${k.id}`)).status).toBe(404);
  });
});

describe('models', () => {
  it('multiple is the seed’s flag: true/false or 1/0, stored and shown; anything else is a 400', async () => {
    for (const [given, shown] of [
      [true, true],
      [1, true],
      [0, false],
      [false, false],
      [null, false],
    ] as const) {
      const res = await ctx.admin.post('/admin/model/save', { ...MODEL(`multiple-${String(given)}-${typeof given}`), multiple: given });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.data.multiple).toBe(shown);
    }
    for (const bad of [2, 'yes', 'true', [1]]) {
      expect((await ctx.admin.post('/admin/model/save', { ...MODEL('multiple-bad'), multiple: bad })).status, String(bad)).toBe(400);
    }
  });

  it('cache prices: omitted on update keeps them, null puts them back to the default', async () => {
    const saved = await ctx.admin.post('/admin/model/save', { ...MODEL('cache-priced'), price_cache_read: 0.5, price_cache_write: 4 });
    expect(saved.body.data).toMatchObject({ price_cache_read: 0.5, price_cache_write: 4 });
    const id = saved.body.data.id;
    const kept = await ctx.admin.post('/admin/model/save', { ...MODEL('cache-priced'), id });
    expect(kept.body.data).toMatchObject({ price_cache_read: 0.5, price_cache_write: 4 });
    const cleared = await ctx.admin.post('/admin/model/save', { ...MODEL('cache-priced'), id, price_cache_read: null });
    expect(cleared.status, JSON.stringify(cleared.body)).toBe(200);
    expect(cleared.body.data).toMatchObject({ price_cache_read: null, price_cache_write: 4 });
    const listed = (await ctx.admin.get('/admin/model/list?q=cache-priced')).body.data.items;
    expect(listed).toMatchObject([{ id, price_cache_read: null, price_cache_write: 4 }]);
    expect((await ctx.admin.post('/admin/model/save', { ...MODEL('cache-priced'), id, price_cache_write: 'x' })).status).toBe(400);
    await ctx.admin.post('/admin/model/delete', { id });
  });

  it('a zero or missing price is a 400 unless the model is saved free: true (an explicit choice, shown in the list)', async () => {
    const { price_in: _in, price_out: _out, ...unpriced } = MODEL('unpriced');
    for (const [body, param] of [
      [unpriced, 'price_in'],
      [{ ...unpriced, price_in: 3 }, 'price_out'],
      [{ ...unpriced, price_in: 0, price_out: 15 }, 'price_in'],
      [{ ...unpriced, price_in: '0.000000', price_out: 15 }, 'price_in'],
      [{ ...unpriced, price_in: 3, price_out: 0 }, 'price_out'],
      [{ ...unpriced, free: false }, 'price_in'],
      [{ ...unpriced, free: true, price_in: 3 }, 'price_in'],
      [{ ...unpriced, free: true, price_cache_read: 1 }, 'price_cache_read'],
    ] as const) {
      const res = await ctx.admin.post('/admin/model/save', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error?.message, JSON.stringify(body)).toContain(`'${param}'`);
    }
    expect((await ctx.admin.post('/admin/model/save', unpriced)).body.error?.message).toContain("'free': true");
    expect((await ctx.admin.get('/admin/model/list?q=unpriced')).body.data.total).toBe(0);

    const free = await ctx.admin.post('/admin/model/save', { ...unpriced, name: 'free-model', free: true });
    expect(free.status, JSON.stringify(free.body)).toBe(200);
    expect(free.body.data).toMatchObject({ free: true, price_in: 0, price_out: 0, price_cache_read: null, price_cache_write: null });
    // explicit zeros with the flag are the same choice
    const zeros = await ctx.admin.post('/admin/model/save', { ...MODEL('free-zeros'), price_in: 0, price_out: 0, free: true });
    expect(zeros.body.data).toMatchObject({ free: true, price_in: 0 });
    // an update that omits the flag keeps it; turning it off needs prices
    const renamed = await ctx.admin.post('/admin/model/save', { ...unpriced, id: free.body.data.id, name: 'free-model-2' });
    expect(renamed.body.data).toMatchObject({ free: true, price_in: 0 });
    expect((await ctx.admin.post('/admin/model/save', { ...unpriced, id: free.body.data.id, free: false })).status).toBe(400);
    const priced = await ctx.admin.post('/admin/model/save', { ...MODEL('free-model-2'), id: free.body.data.id, free: false });
    expect(priced.body.data).toMatchObject({ free: false, price_in: 3, price_out: 15 });
    // an update that omits the prices keeps them (never a silent 0)
    const kept = await ctx.admin.post('/admin/model/save', { ...unpriced, id: free.body.data.id, name: 'free-model-3' });
    expect(kept.body.data).toMatchObject({ free: false, price_in: 3, price_out: 15 });
    const listed = (await ctx.admin.get('/admin/model/list?q=free-zeros')).body.data.items;
    expect(listed.map((m) => m.free)).toEqual([true]);
    // Embeddings bill input tokens only: no output price is needed, an input price is.
    const embed = { name: 'embed-priced', provider: 'bedrock-embeddings', config: { modelId: 'amazon.titan-embed-text-v2:0' } };
    expect((await ctx.admin.post('/admin/model/save', embed)).status).toBe(400);
    const embedded = await ctx.admin.post('/admin/model/save', { ...embed, price_in: 0.02 });
    expect(embedded.status, JSON.stringify(embedded.body)).toBe(200);
    expect(embedded.body.data).toMatchObject({ free: false, price_in: 0.02, price_out: 0 });
    for (const id of [free.body.data.id, zeros.body.data.id, embedded.body.data.id]) await ctx.admin.post('/admin/model/delete', { id });
  });

  it('save creates and updates; config as string or object; unique names → 409', async () => {
    const created = await ctx.admin.post('/admin/model/save', MODEL('claude-3-sonnet'));
    expect(created.status).toBe(200);
    expect(created.body.data).toMatchObject({
      name: 'claude-3-sonnet',
      provider: 'bedrock-converse',
      price_in: 3,
      price_out: 15,
      config: { modelId: 'anthropic.claude-3-sonnet-20240229-v1:0' },
    });
    const id = created.body.data.id;
    const updated = await ctx.admin.post('/admin/model/save', {
      ...MODEL('claude-3-sonnet'),
      id,
      config: { modelId: 'us.anthropic.claude-3-5-sonnet-20241022-v2:0', maxTokens: 2048 },
      price_in: 0.25,
    });
    expect(updated.status).toBe(200);
    expect(updated.body.data).toMatchObject({
      id,
      price_in: 0.25,
      config: { modelId: 'us.anthropic.claude-3-5-sonnet-20241022-v2:0', maxTokens: 2048 },
    });
    const dup = await ctx.admin.post('/admin/model/save', MODEL('claude-3-sonnet'));
    expect(dup.status).toBe(409);
    expect(dup.body.success).toBe(false);
    // rename frees the old name
    const other = (await ctx.admin.post('/admin/model/save', MODEL('renamable'))).body.data;
    expect((await ctx.admin.post('/admin/model/save', { ...MODEL('renamed'), id: other.id })).status).toBe(200);
    expect((await ctx.admin.post('/admin/model/save', MODEL('renamable'))).status).toBe(200);
    expect((await ctx.admin.post('/admin/model/save', { ...MODEL('renamed'), id: id })).status).toBe(409);
  });

  it('save validates config, provider, prices and id', async () => {
    expect((await ctx.admin.post('/admin/model/save', MODEL('bad-config', { config: '{oops' }))).status).toBe(400);
    expect((await ctx.admin.post('/admin/model/save', MODEL('no-model-id', { config: {} }))).status).toBe(400);
    expect((await ctx.admin.post('/admin/model/save', MODEL('bad-provider', { provider: 'openai' }))).status).toBe(400);
    expect((await ctx.admin.post('/admin/model/save', MODEL('neg-price', { price_in: -1 }))).status).toBe(400);
    expect((await ctx.admin.post('/admin/model/save', MODEL('missing', { id: 888888 }))).status).toBe(404);
    expect((await ctx.admin.get('/admin/model/list?q=bad-config')).body.data.total).toBe(0);
  });

  it('a model with the longest name (256 characters) can be searched for by its whole name', async () => {
    const name = `long-${'n'.repeat(251)}`;
    expect((await ctx.admin.post('/admin/model/save', MODEL(name))).status).toBe(200);
    const found = await ctx.admin.get(`/admin/model/list?q=${name}`);
    expect(found.status).toBe(200);
    expect(found.body.data.items.map((m) => m.name)).toEqual([name]);
    expect((await ctx.admin.get(`/admin/model/list?q=${name}x`)).status).toBe(400);
  });

  it('list filters by q and pages; delete removes it and its grants', async () => {
    const g = (await ctx.admin.post('/admin/group/save', { name: 'model-del' })).body.data;
    const k = (await ctx.admin.post('/admin/api-key/apply', { name: 'model-del-key', group_id: g.id, role: 'user', email: '' })).body.data;
    const m = (await ctx.admin.post('/admin/model/save', MODEL('to-delete'))).body.data;
    await ctx.admin.post('/admin/group/bind-model', { group_id: g.id, model_id: m.id });
    await ctx.admin.post('/admin/api-key/bind-model', { key_id: k.id, model_id: m.id });
    expect((await ctx.admin.get('/admin/model/list?q=to-del')).body.data.items.map((i) => i.name)).toEqual(['to-delete']);
    expect((await ctx.admin.post('/admin/model/delete', { id: m.id })).status).toBe(200);
    expect((await ctx.admin.get('/admin/model/list?q=to-del')).body.data.total).toBe(0);
    expect((await ctx.admin.get(`/admin/group/list-model?group_id=${g.id}`)).body.data.items).toEqual([]);
    expect((await ctx.admin.get(`/admin/api-key/list-model?key_id=${k.id}`)).body.data.items).toEqual([]);
    expect((await ctx.admin.post('/admin/model/delete', { id: m.id })).status).toBe(404);
    // the name is free again
    expect((await ctx.admin.post('/admin/model/save', MODEL('to-delete'))).status).toBe(200);
  });
});

describe('groups and model authorization', () => {
  it('group save/list/update/delete', async () => {
    const g = (await ctx.admin.post('/admin/group/save', { name: 'alpha' })).body.data;
    expect(g).toMatchObject({ name: 'alpha' });
    expect((await ctx.admin.post('/admin/group/save', { id: g.id, name: 'alpha-2' })).body.data.name).toBe('alpha-2');
    expect((await ctx.admin.get('/admin/group/list?q=alpha-2')).body.data.items.map((x) => x.id)).toEqual([g.id]);
    expect((await ctx.admin.post('/admin/group/save', { id: 999999, name: 'x' })).status).toBe(404);
    expect((await ctx.admin.post('/admin/group/save', { name: '' })).status).toBe(400);
    const k = (await ctx.admin.post('/admin/api-key/apply', { name: 'grouped', group_id: g.id, role: 'user', email: '' })).body.data;
    expect((await ctx.admin.post('/admin/group/delete', { id: g.id })).status).toBe(200);
    expect((await ctx.admin.post('/admin/group/delete', { id: g.id })).status).toBe(404);
    // keys of a deleted group are detached, not left pointing at nothing
    expect((await ctx.admin.get('/admin/api-key/list?name=grouped')).body.data.items[0].group_id).toBe(null);
    expect(k.group_id).toBe(g.id);
  });

  it('a key may use a model bound to its group or to itself (union), and /v1/models shows exactly those', async () => {
    const g = (await ctx.admin.post('/admin/group/save', { name: 'authz' })).body.data;
    const viaGroup = (await ctx.admin.post('/admin/model/save', MODEL('via-group'))).body.data;
    const viaKey = (await ctx.admin.post('/admin/model/save', MODEL('via-key'))).body.data;
    await ctx.admin.post('/admin/model/save', MODEL('not-granted'));
    const k = (await ctx.admin.post('/admin/api-key/apply', { name: 'authz-user', group_id: g.id, role: 'user', email: '' })).body.data;
    const user = api(ctx.gw.url, k.api_key);
    const v1Models = async () => {
      const res = await fetch(`${ctx.gw.url}/v1/models`, { headers: { authorization: `Bearer ${k.api_key}` } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as OpenAI.PageResponse<OpenAI.Model>;
      expect(body.object).toBe('list');
      return body.data.map((m) => m.id).sort();
    };
    expect(await v1Models()).toEqual([]);
    expect((await ctx.admin.post('/admin/group/bind-model', { group_id: g.id, model_id: viaGroup.id })).status).toBe(200);
    expect((await ctx.admin.post('/admin/api-key/bind-model', { key_id: k.id, model_id: viaKey.id })).status).toBe(200);
    expect(await v1Models()).toEqual(['via-group', 'via-key']);
    expect((await ctx.admin.get(`/admin/group/list-model?group_id=${g.id}`)).body.data.items.map((m) => m.name)).toEqual(['via-group']);
    expect((await ctx.admin.get(`/admin/api-key/list-model?key_id=${k.id}`)).body.data.items.map((m) => m.name)).toEqual(['via-key']);
    expect((await user.get('/user/model/list')).body.data.items.map((m) => m.name).sort()).toEqual(['via-group', 'via-key']);
    expect((await user.get('/user/model/list')).body.data.items[0]).not.toHaveProperty('config');

    const one = await fetch(`${ctx.gw.url}/v1/models/via-key`, { headers: { authorization: `Bearer ${k.api_key}` } });
    expect(await one.json()).toMatchObject({ id: 'via-key', object: 'model' });
    const hidden = await fetch(`${ctx.gw.url}/v1/models/not-granted`, { headers: { authorization: `Bearer ${k.api_key}` } });
    expect(hidden.status).toBe(404);

    expect((await ctx.admin.post('/admin/group/unbind-model', { group_id: g.id, model_id: viaGroup.id })).status).toBe(200);
    expect((await ctx.admin.post('/admin/api-key/unbind-model', { key_id: k.id, model_id: viaKey.id })).status).toBe(200);
    expect(await v1Models()).toEqual([]);
    expect((await ctx.admin.post('/admin/api-key/unbind-model', { key_id: k.id, model_id: viaKey.id })).status).toBe(404);
    expect((await ctx.admin.post('/admin/group/bind-model', { group_id: 999999, model_id: viaGroup.id })).status).toBe(404);
    expect((await ctx.admin.post('/admin/group/bind-model', { group_id: g.id, model_id: 999999 })).status).toBe(404);
    expect((await ctx.admin.post('/admin/api-key/bind-model', { key_id: 999999, model_id: viaKey.id })).status).toBe(404);
    expect((await ctx.admin.post('/admin/api-key/bind-model', { key_id: k.id })).status).toBe(400);
  });

  it('model save with group_id also authorizes the model for that group', async () => {
    const g = (await ctx.admin.post('/admin/group/save', { name: 'shortcut' })).body.data;
    const m = (await ctx.admin.post('/admin/model/save', MODEL('grouped-model', { group_id: g.id }))).body.data;
    expect(m.group_id).toBe(g.id);
    expect((await ctx.admin.get(`/admin/group/list-model?group_id=${g.id}`)).body.data.items.map((x) => x.name)).toEqual(['grouped-model']);
    // Unbinding it from that group takes the group off the model too: its group_id no longer claims a grant.
    expect((await ctx.admin.post('/admin/group/unbind-model', { group_id: g.id, model_id: m.id })).status).toBe(200);
    const listed = (await ctx.admin.get('/admin/model/list?q=grouped-model')).body.data.items;
    expect(listed.map((x) => [x.name, x.group_id])).toEqual([['grouped-model', null]]);
  });

  it('admin keys may use every model', async () => {
    await ctx.admin.post('/admin/model/save', MODEL('admin-visible'));
    const res = await fetch(`${ctx.gw.url}/v1/models`, { headers: { 'x-api-key': ctx.gw.adminKey } });
    const ids = ((await res.json()) as OpenAI.PageResponse<OpenAI.Model>).data.map((m) => m.id);
    expect(ids).toContain('admin-visible');
  });
});

describe('role matrix: every admin route', () => {
  const routes: Array<['GET' | 'POST', string]> = [
    ['POST', '/admin/api-key/apply'],
    ['POST', '/admin/api-key/update'],
    ['POST', '/admin/api-key/recharge'],
    ['POST', '/admin/api-key/reset'],
    ['GET', '/admin/api-key/list'],
    ['POST', '/admin/api-key/delete'],
    ['GET', '/admin/api-key/list-model?key_id=1'],
    ['POST', '/admin/api-key/bind-model'],
    ['POST', '/admin/api-key/unbind-model'],
    ['GET', '/admin/payment/list'],
    ['GET', '/admin/model/list'],
    ['POST', '/admin/model/save'],
    ['POST', '/admin/model/delete'],
    ['GET', '/admin/group/list'],
    ['POST', '/admin/group/save'],
    ['POST', '/admin/group/delete'],
    ['GET', '/admin/group/list-model?group_id=1'],
    ['POST', '/admin/group/bind-model'],
    ['POST', '/admin/group/unbind-model'],
  ];
  let userKey: string;
  beforeAll(async () => {
    userKey = (await ctx.admin.post('/admin/api-key/apply', { name: 'matrix-user', role: 'user', email: '' })).body.data.api_key;
  });

  it.each(routes)(
    '%s %s → 401 without key, 401 with a bad key, 403 with a user key, not 401/403 with an admin key',
    async (method, path) => {
      const call = (key?: string) => (method === 'GET' ? api(ctx.gw.url, key).get(path) : api(ctx.gw.url, key).post(path, {}));
      const none = await call();
      expect(none.status).toBe(401);
      expect(none.body).toMatchObject({ success: false, error: { code: 'invalid_api_key' } });
      expect((await call('br-definitely-not-a-key-00000000000000')).status).toBe(401);
      const user = await call(userKey);
      expect(user.status).toBe(403);
      expect(user.body.success).toBe(false);
      const asAdmin = await call(ctx.gw.adminKey);
      expect([200, 400, 404]).toContain(asAdmin.status);
    },
  );

  it('x-api-key works like Authorization: Bearer', async () => {
    const res = await fetch(`${ctx.gw.url}/admin/group/list`, { headers: { 'x-api-key': ctx.gw.adminKey } });
    expect(res.status).toBe(200);
  });

  it('malformed paths and absurd offsets are 400s, not 500s', async () => {
    expect((await api(ctx.gw.url, ctx.gw.adminKey).get('/admin/session/detail/%E0')).status).toBe(400);
    expect((await ctx.admin.get('/admin/api-key/list?offset=2000000000')).status).toBe(400);
    const res = await fetch(`${ctx.gw.url}/v1/models/%E0`, { headers: { authorization: `Bearer ${ctx.gw.adminKey}` } });
    expect(res.status).toBe(400);
  });

  it('unknown admin route → 404 in the envelope', async () => {
    const res = await ctx.admin.get('/admin/nothing/here');
    expect(res.status).toBe(404);
    expect(res.body.success).toBe(false);
  });
});
