/**
 * What a newcomer reads in the admin and user answers (issue 16): group names are unique like model names (409),
 * money is a plain decimal in every view (never 2e-8), recharge takes `balance` or `amount`, a session's detail
 * carries its threads, and an admin key on /user/* sees its own records.
 */
import { describe, expect, it } from 'vitest';
import { api, useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway();

/** Fields that hold money in the views (lambdas/core/http/views.ts and the usage totals). */
const MONEY_FIELDS = ['month_quota', 'month_fee', 'balance', 'total_fee', 'price_in', 'price_out', 'fee', 'amount', 'balance_after'];

/** Every `"field":<literal>` of a money field in a raw JSON text, as written on the wire. */
function moneyLiterals(raw: string): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  const re = new RegExp(`"(${MONEY_FIELDS.join('|')})":(-?[0-9.eE+-]+)`, 'g');
  for (const m of raw.matchAll(re)) found.push([m[1], m[2]]);
  return found;
}

async function raw(path: string, key: string): Promise<string> {
  const res = await fetch(`${ctx.gw.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status, path).toBe(200);
  return res.text();
}

async function chat(key: string, model: string, sessionId: string, content: string) {
  const res = await fetch(`${ctx.gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'session-id': sessionId },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  await res.json();
}

describe('group names', () => {
  it('are unique, case-insensitively (409); a rename or a delete frees the old name', async () => {
    const g = (await ctx.admin.post('/admin/group/save', { name: 'team-unique' })).body.data;
    const twin = await ctx.admin.post('/admin/group/save', { name: 'team-unique' });
    expect(twin.status).toBe(409);
    expect(twin.body).toMatchObject({ success: false, error: { code: 'conflict' } });
    expect((await ctx.admin.post('/admin/group/save', { name: 'TEAM-Unique' })).status).toBe(409);
    expect((await ctx.admin.get('/admin/group/list?q=team-unique')).body.data.total).toBe(1);

    // saving a group under its own name (another case) is no clash
    expect((await ctx.admin.post('/admin/group/save', { id: g.id, name: 'Team-Unique' })).status).toBe(200);
    const other = (await ctx.admin.post('/admin/group/save', { name: 'team-other' })).body.data;
    expect((await ctx.admin.post('/admin/group/save', { id: other.id, name: 'team-unique' })).status).toBe(409);

    // a rename frees the old name
    expect((await ctx.admin.post('/admin/group/save', { id: g.id, name: 'team-renamed' })).status).toBe(200);
    expect((await ctx.admin.post('/admin/group/save', { id: other.id, name: 'team-unique' })).status).toBe(200);
    // a delete frees it too
    expect((await ctx.admin.post('/admin/group/delete', { id: g.id })).status).toBe(200);
    expect((await ctx.admin.post('/admin/group/save', { name: 'team-renamed' })).status).toBe(200);
  });
});

describe('recharge body', () => {
  it('takes `balance` (canonical) or `amount`; both at once must agree; neither is a 400', async () => {
    const k = (await ctx.admin.post('/admin/api-key/apply', { name: 'recharge-names', role: 'user', email: '' })).body.data;
    const byBalance = await ctx.admin.post('/admin/api-key/recharge', { id: k.id, balance: 1.5 });
    expect(byBalance.body.data).toMatchObject({ amount: 1.5, balance_after: 1.5 });
    const byAmount = await ctx.admin.post('/admin/api-key/recharge', { id: k.id, amount: '0.25' });
    expect(byAmount.body.data).toMatchObject({ amount: 0.25, balance_after: 1.75 });
    expect((await ctx.admin.post('/admin/api-key/recharge', { id: k.id, balance: 1, amount: 1 })).body.data.balance_after).toBe(2.75);
    const differ = await ctx.admin.post('/admin/api-key/recharge', { id: k.id, balance: 1, amount: 2 });
    expect(differ.status).toBe(400);
    expect(differ.body.error?.message).toContain('amount');
    expect((await ctx.admin.post('/admin/api-key/recharge', { id: k.id })).status).toBe(400);
    expect((await ctx.admin.post('/admin/api-key/recharge', { id: k.id, amount: 0 })).status).toBe(400);
    expect((await ctx.admin.get(`/admin/payment/list?key_id=${k.id}`)).body.data.total).toBe(3);
  });
});

describe('money, sessions and /user/* for an admin key', () => {
  it('fees below 1e-6 are plain decimals in every admin and user view; session details carry their threads', async () => {
    const group = (await ctx.admin.post('/admin/group/save', { name: 'tiny-prices' })).body.data;
    // 0.002 USD per 1M tokens: a call of a few tokens costs a few 1e-8 USD, which JSON.stringify writes as 2e-8
    await ctx.admin.post('/admin/model/save', {
      name: 'tiny-model',
      group_id: group.id,
      provider: 'bedrock-converse',
      config: { modelId: 'anthropic.claude-3-haiku-20240307-v1:0' },
      price_in: 0.002,
      price_out: 0.003,
    });
    const k = (
      await ctx.admin.post('/admin/api-key/apply', { name: 'tiny-user', group_id: group.id, role: 'user', email: '', month_quota: 1 })
    ).body.data;
    for (const text of ['one', 'two', 'three']) await chat(k.api_key, 'tiny-model', 'tiny-session', text);

    const user = api(ctx.gw.url, k.api_key);
    const sessions = (await user.get('/user/session/list')).body.data.items;
    expect(sessions).toHaveLength(1);
    const sessionId = sessions[0].id;
    const threadId = (await user.get(`/user/thread/list?session_id=${sessionId}`)).body.data.items[0].id;

    const views: Array<[string, string]> = [
      [`/admin/api-key/list?name=tiny-user`, ctx.gw.adminKey],
      ['/admin/model/list?q=tiny-model', ctx.gw.adminKey],
      [`/admin/session/list?key_id=${k.id}`, ctx.gw.adminKey],
      [`/admin/session/detail/${sessionId}`, ctx.gw.adminKey],
      [`/admin/thread/list?key_id=${k.id}`, ctx.gw.adminKey],
      [`/admin/thread/detail/${threadId}`, ctx.gw.adminKey],
      [`/admin/statistics/usage?key_id=${k.id}`, ctx.gw.adminKey],
      ['/user/api-key/mine', k.api_key],
      ['/user/model/list', k.api_key],
      ['/user/session/list', k.api_key],
      [`/user/session/detail/${sessionId}`, k.api_key],
      [`/user/thread/list?session_id=${sessionId}`, k.api_key],
      [`/user/thread/detail/${threadId}`, k.api_key],
    ];
    let tiny = 0;
    for (const [path, key] of views) {
      const text = await raw(path, key);
      const literals = moneyLiterals(text);
      expect(literals.length, `${path} shows money`).toBeGreaterThan(0);
      for (const [field, literal] of literals) {
        expect(literal, `${path}: ${field}`).toMatch(/^-?\d+(\.\d+)?$/);
        if (Number(literal) > 0 && Number(literal) < 1e-6) tiny++;
      }
    }
    expect(tiny, 'some fees are below 1e-6 (where JSON.stringify would write exponents)').toBeGreaterThan(5);

    // the session's detail includes its threads: oldest first, as a list envelope
    for (const client of [ctx.admin, user]) {
      const detail = (await client.get(`/${client === user ? 'user' : 'admin'}/session/detail/${sessionId}`)).body.data;
      expect(detail).toMatchObject({ id: sessionId, session_key: 'tiny-session', thread_count: 3 });
      expect(detail.threads).toMatchObject({ total: 3, offset: 0, limit: 50 });
      expect(detail.threads.items.map((t) => t.prompt)).toEqual(['one', 'two', 'three']);
      expect(detail.threads.items.every((t) => t.session_id === sessionId)).toBe(true);
    }
    // another key's session stays a 404
    const stranger = (await ctx.admin.post('/admin/api-key/apply', { name: 'tiny-stranger', role: 'user', email: '' })).body.data;
    expect((await api(ctx.gw.url, stranger.api_key).get(`/user/session/detail/${sessionId}`)).status).toBe(404);
  });

  it('an admin key on /user/* sees its own records only', async () => {
    const group = (await ctx.admin.post('/admin/group/save', { name: 'admin-own' })).body.data;
    await ctx.admin.post('/admin/model/save', {
      name: 'admin-own-model',
      group_id: group.id,
      provider: 'bedrock-converse',
      config: { modelId: 'anthropic.claude-3-haiku-20240307-v1:0' },
      price_in: 1,
      price_out: 2,
    });
    const k = (
      await ctx.admin.post('/admin/api-key/apply', { name: 'admin-own-user', group_id: group.id, role: 'user', email: '', month_quota: 1 })
    ).body.data;
    await chat(k.api_key, 'admin-own-model', 'users-session', 'from the user');
    await chat(ctx.gw.adminKey, 'admin-own-model', 'admins-session', 'from the admin');
    const mine = (await ctx.admin.get('/user/session/list')).body.data.items.map((s) => s.session_key);
    expect(mine).toContain('admins-session');
    expect(mine).not.toContain('users-session');
    expect((await ctx.admin.get('/user/api-key/mine')).body.data.role).toBe('admin');
  });
});
