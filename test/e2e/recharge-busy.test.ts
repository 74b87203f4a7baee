import { describe, expect, it } from 'vitest';
import { script } from '../../local/bedrock-simulator/index.js';
import { money } from '../../lambdas/core/money.js';
import { useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway();

/** A model and a key bound to it, and a burst of calls on that key with recharges landing among them. */
async function busyKey(name: string, funds: { month_quota: number; balance?: number }) {
  const { gw, admin } = ctx;
  const m = (
    await admin.post('/admin/model/save', {
      name,
      config: { modelId: 'anthropic.claude-3-haiku-20240307-v1:0' },
      provider: 'bedrock-converse',
      price_in: 1,
      price_out: 1,
    })
  ).body.data;
  const k = (await admin.post('/admin/api-key/apply', { name, role: 'user', email: '', ...funds })).body.data;
  await admin.post('/admin/api-key/bind-model', { key_id: k.id, model_id: m.id });
  const calls = (n: number) =>
    Array.from({ length: n }, () =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${k.api_key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: name, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
      }).then((r) => r.status),
    );
  /** n calls (the upstream answering after delayMs) and, meanwhile, `recharges` recharges of 0.1 spaced by spacingMs. */
  const burst = async (n: number, recharges: number, spacingMs: number, delayMs: number) => {
    ctx.gw.sim.setDefault(script.text('ok', { usage: { inputTokens: 10, outputTokens: 10 }, delayMs }));
    const paid = Array.from({ length: recharges }, (_, i) =>
      new Promise((r) => setTimeout(r, i * spacingMs)).then(() => ctx.admin.post('/admin/api-key/recharge', { id: k.id, balance: '0.1' })),
    );
    try {
      const [statuses, answers] = await Promise.all([Promise.all(calls(n)), Promise.all(paid)]);
      return { statuses, paid: answers };
    } finally {
      ctx.gw.sim.setDefault(null);
    }
  };
  return { k, burst };
}

describe('recharging a busy key', () => {
  it('succeeds while dozens of requests are being admitted and charged, and adds exactly', async () => {
    const { admin } = ctx;
    const { burst } = await busyKey('busy-key', { month_quota: 100 });
    const { statuses, paid } = await burst(40, 5, 15, 5);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(paid.map((p) => p.status)).toEqual([200, 200, 200, 200, 200]);
    const after = (await admin.get(`/admin/api-key/list?name=busy-key`)).body.data.items[0];
    expect(money(after.balance)).toBe(money('0.5')); // quota covered every charge: the balance is exactly the recharges
  });

  it('succeeds while the key’s calls draw on the very balance it adds to, and the books add up exactly', async () => {
    const { gw, admin } = ctx;
    const { k, burst } = await busyKey('busy-balance', { month_quota: 0, balance: 1 });
    const { statuses, paid } = await burst(60, 8, 5, 2);
    await gw.idle();
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(paid.map((p) => p.status)).toEqual(Array(8).fill(200));
    const threads = (await admin.get(`/admin/thread/list?key_id=${k.id}&limit=100`)).body.data.items;
    const fees = threads.reduce((n, t) => n + money(t.fee), 0n);
    expect(fees).toBeGreaterThan(0n);
    const after = (await admin.get(`/admin/api-key/list?name=busy-balance`)).body.data.items[0];
    expect(money(after.balance)).toBe(money('1.8') - fees);
    // Each payment row states the balance right after it: they step by exactly 0.1 between the calls' charges.
    const payments = (await admin.get(`/admin/payment/list?key_id=${k.id}&limit=100`)).body.data.items;
    expect(payments).toHaveLength(9); // the opening balance and the eight recharges
  });

  it('a refused recharge (unknown key) uses up no payment id', async () => {
    const { admin } = ctx;
    const k = (await admin.post('/admin/api-key/apply', { name: 'ids', role: 'user', email: '', month_quota: 0 })).body.data;
    const first = (await admin.post('/admin/api-key/recharge', { id: k.id, balance: 1 })).body.data;
    expect((await admin.post('/admin/api-key/recharge', { id: 999999, balance: 1 })).status).toBe(404);
    expect((await admin.post('/admin/api-key/recharge', { api_key: 'br-nope', balance: 1 })).status).toBe(404);
    const second = (await admin.post('/admin/api-key/recharge', { id: k.id, balance: 1 })).body.data;
    expect(second.id).toBe(first.id + 1);
  });
});

describe('resetting a busy key', () => {
  it('succeeds while its calls keep landing (the old secret stops at once, the new one works), and every served call is charged', async () => {
    const { gw, admin } = ctx;
    const { k } = await busyKey('busy-reset', { month_quota: 100 });
    gw.sim.setDefault(script.text('ok', { usage: { inputTokens: 10, outputTokens: 10 }, delayMs: 2 }));
    const call = (key: string) =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'busy-reset', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
      }).then((r) => r.status);
    let served = 0;
    // 24 clients calling back to back with the old secret until it stops working.
    const worker = async () => {
      for (;;) {
        const status = await call(k.api_key);
        if (status !== 200) return status;
        served++;
      }
    };
    try {
      const workers = Array.from({ length: 24 }, worker);
      // The reset once the key is busy: its calls landing back to back.
      while (served < 30) await new Promise((r) => setTimeout(r, 5));
      const reset = await admin.post('/admin/api-key/reset', { id: k.id });
      expect(reset.status, JSON.stringify(reset.body)).toBe(200);
      expect(await Promise.all(workers)).toEqual(Array(24).fill(401));
      expect(await call(reset.body.data.api_key)).toBe(200);
      served++;
    } finally {
      gw.sim.setDefault(null);
    }
    await gw.idle();
    expect(served).toBeGreaterThan(24);
    const threads = (await admin.get(`/admin/thread/list?key_id=${k.id}&limit=1`)).body.data;
    const after = (await admin.get(`/admin/api-key/list?name=busy-reset`)).body.data.items[0];
    expect(threads.total).toBe(served);
    expect(money(after.month_fee)).toBe(BigInt(served) * money('0.00002'));
  });
});
