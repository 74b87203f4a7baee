import { describe, expect, it } from 'vitest';
import { script } from '../../local/bedrock-simulator/index.js';
import { api, useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway();

describe('a thinking budget is part of what a request reserves', () => {
  it('20 concurrent requests with max_tokens 1 and a 60k thinking budget cannot drain a $0.01 balance 20 times over', async () => {
    const { gw, admin } = ctx;
    const m = (
      await admin.post('/admin/model/save', {
        name: 'thinker',
        config: { modelId: 'anthropic.claude-3-7-sonnet-20250219-v1:0' },
        provider: 'bedrock-converse',
        price_in: 3,
        price_out: 15,
      })
    ).body.data;
    const k = (
      await admin.post('/admin/api-key/apply', { name: 'small-balance', role: 'user', email: '', month_quota: 0, balance: '0.01' })
    ).body.data;
    await admin.post('/admin/api-key/bind-model', { key_id: k.id, model_id: m.id });
    // Each admitted call really produces 60,000 output tokens (0.9 USD).
    gw.sim.setDefault(script.reasoning('x'.repeat(40), 'done', { usage: { inputTokens: 10, outputTokens: 60_000 }, delayMs: 20 }));
    const call = () =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${k.api_key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'thinker',
          max_tokens: 1,
          thinking: { type: 'enabled', budget_tokens: 60000 },
          messages: [{ role: 'user', content: 'think' }],
        }),
      }).then((r) => r.status);
    const statuses = await Promise.all(Array.from({ length: 20 }, call));
    gw.sim.setDefault(null);
    const admitted = statuses.filter((s) => s === 200).length;
    expect(admitted).toBe(1);
    expect(statuses.filter((s) => s === 429)).toHaveLength(19);
    expect(gw.sim.requests).toHaveLength(1);
    // The one admitted call overspends by at most itself.
    const mine = (await api(gw.url, k.api_key).get('/user/api-key/mine')).body.data;
    expect(mine.balance).toBeGreaterThanOrEqual(0.01 - 0.900030001);
  });
});
