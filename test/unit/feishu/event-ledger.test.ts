import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  claimEvent,
  EVENT_TTL_SECONDS,
  finishEvent,
  forgetEvent,
  recordEvent,
  WORKER_LEASE_MS,
} from '../../../lambdas/core/feishu/event-ledger.js';
import { db, tableName } from '../../../lambdas/core/store/table.js';
import { ensureTable } from '../../../local/table.js';

beforeAll(async () => {
  await ensureTable(tableName());
});

let n = 0;
const ev = () => `ev_ledger_${process.pid}_${++n}`;
const item = async (eventId: string) =>
  (await db().send(new GetCommand({ TableName: tableName(), Key: { pk: `FEISHUEVENT#1#${eventId}`, sk: 'EVENT' } }))).Item;

describe('event ledger (one answer per Feishu event)', () => {
  it('records an event once; a second delivery is a duplicate; the item carries a TTL', async () => {
    const id = ev();
    const now = Date.now();
    expect(await recordEvent(1, id, { messageId: 'om_1' }, now)).toBe(true);
    expect(await recordEvent(1, id, { messageId: 'om_1' }, now + 1000)).toBe(false);
    expect(await recordEvent(2, id, {}, now)).toBe(true); // another bot's event with the same id is unrelated
    const it = await item(id);
    expect(it).toMatchObject({ state: 'received', message_id: 'om_1', ttl: Math.floor(now / 1000) + EVENT_TTL_SECONDS });
  });

  it('treats an entry past its ttl as absent (emulators never delete expired items)', async () => {
    const id = ev();
    const now = Date.now();
    expect(await recordEvent(1, id, {}, now)).toBe(true);
    const later = now + (EVENT_TTL_SECONDS + 5) * 1000;
    expect(await recordEvent(1, id, {}, later)).toBe(true);
    // and an expired entry cannot be claimed
    const stale = ev();
    expect(await recordEvent(1, stale, {}, now - (EVENT_TTL_SECONDS + 5) * 1000)).toBe(true);
    expect(await claimEvent(1, stale, now)).toBe(false);
  });

  it('one claim wins; the event cannot be claimed again while leased or once done', async () => {
    const id = ev();
    const now = Date.now();
    await recordEvent(1, id, {}, now);
    const claims = await Promise.all([claimEvent(1, id, now), claimEvent(1, id, now), claimEvent(1, id, now)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await claimEvent(1, id, now + WORKER_LEASE_MS - 1)).toBe(false);
    await finishEvent(1, id, 'answered');
    expect(await claimEvent(1, id, now + WORKER_LEASE_MS + 1)).toBe(false);
    expect(await item(id)).toMatchObject({ state: 'done', outcome: 'answered' });
  });

  it('a worker that died mid-answer can be replaced after its lease ran out', async () => {
    const id = ev();
    const now = Date.now();
    await recordEvent(1, id, {}, now);
    expect(await claimEvent(1, id, now)).toBe(true);
    expect(await claimEvent(1, id, now + WORKER_LEASE_MS + 1)).toBe(true);
  });

  it('an event never recorded cannot be claimed; forget only undoes an unclaimed entry', async () => {
    expect(await claimEvent(1, ev(), Date.now())).toBe(false);
    const id = ev();
    await recordEvent(1, id, {}, Date.now());
    await forgetEvent(1, id);
    expect(await item(id)).toBeUndefined();
    const claimed = ev();
    await recordEvent(1, claimed, {}, Date.now());
    await claimEvent(1, claimed, Date.now());
    await forgetEvent(1, claimed);
    expect(await item(claimed)).toBeDefined();
  });
});
