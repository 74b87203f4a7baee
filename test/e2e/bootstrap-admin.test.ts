import { describe, expect, it } from 'vitest';
import { resetBootstrapForTests } from '../../lambdas/core/auth/bootstrap.js';
import { overrideConfig } from '../../lambdas/core/config.js';
import { api, useTestGateway } from '../support/gateway.js';

const ctx = useTestGateway();

describe('bootstrap admin key', () => {
  it('exists as an ordinary admin key row, and once revoked it is not recreated by a cold start', async () => {
    const { gw } = ctx;
    const boot = api(gw.url, gw.adminKey);
    const list = await boot.get('/admin/api-key/list?role=admin');
    expect(list.status).toBe(200);
    const row = list.body.data.items.find((k) => k.name === 'bootstrap-admin');
    expect(row).toMatchObject({ role: 'admin' });

    // A second admin takes over and resets the bootstrap key (e.g. it leaked).
    const second = (await boot.post('/admin/api-key/apply', { name: 'second-admin', role: 'admin', email: '' })).body.data.api_key;
    const other = api(gw.url, second);
    expect((await other.post('/admin/api-key/reset', { id: row!.id })).status).toBe(200);
    expect((await boot.get('/admin/group/list')).status).toBe(401);

    // A cold start reads the same secret again: the revoked key must stay revoked.
    resetBootstrapForTests();
    expect((await boot.get('/admin/group/list')).status).toBe(401);
    expect((await other.get('/admin/api-key/list?role=admin')).body.data.items.filter((k) => k.name === 'bootstrap-admin')).toHaveLength(1);

    // Rotating the secret itself provisions a new bootstrap key.
    const rotated = 'br-rotated-bootstrap-secret-0123456789';
    const undo = overrideConfig({ adminApiKey: rotated });
    try {
      resetBootstrapForTests();
      expect((await api(gw.url, rotated).get('/admin/group/list')).status).toBe(200);
    } finally {
      undo();
    }
  });
});
