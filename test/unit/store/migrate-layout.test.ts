import { GetCommand, NumberValue, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { countForKey } from '../../../lambdas/core/records/counts.js';
import { getSession } from '../../../lambdas/core/records/sessions.js';
import { listStats } from '../../../lambdas/core/records/stats.js';
import { getThread, listThreads } from '../../../lambdas/core/records/threads.js';
import { formatMoney } from '../../../lambdas/core/money.js';
import { migrateRecordLayout } from '../../../lambdas/core/store/migrate-layout.js';
import { itemKeys } from '../../../lambdas/core/store/table-keys.js';
import { db, tableName } from '../../../lambdas/core/store/table.js';
import { ensureTable } from '../../../local/table.js';

const KEY = 880_001;
const THREAD = 880_123;
const SESSION = 880_045;
const DAY = '2026-11-20';
const put = (Item: Record<string, unknown>) => db().send(new PutCommand({ TableName: tableName(), Item }));
const old = (pk: string, sk: string) => db().send(new GetCommand({ TableName: tableName(), Key: { pk, sk }, ConsistentRead: true }));

beforeAll(async () => {
  await ensureTable(tableName());
});

describe('migrating records of the first layout', () => {
  it('moves threads, sessions, statistics and counters into their shards, merging what the new code wrote meanwhile', async () => {
    // The first layout: own partitions, gsi1 entries for the global lists.
    await put({
      pk: `THREAD#${THREAD}`,
      sk: 'THREAD',
      type: 'thread',
      id: THREAD,
      request_id: 'req-old',
      kind: 'chat',
      key_id: KEY,
      session_id: SESSION,
      model: 'm',
      prompt: 'old prompt',
      completion: 'old answer',
      fee: NumberValue.from('0.000123'),
      tokens_in: 5,
      tokens_out: 6,
      created_at: `${DAY}T10:00:00.000Z`,
      search: 'old prompt\nold answer',
      gsi1pk: `THREADS#${THREAD % 8}`,
      gsi1sk: String(THREAD).padStart(12, '0'),
      gsi2pk: `THREADS#KEY#${KEY}`,
      gsi2sk: String(THREAD).padStart(12, '0'),
      gsi3pk: `THREADS#SESSION#${SESSION}`,
      gsi3sk: String(THREAD).padStart(12, '0'),
    });
    await put({
      pk: `SESSION#${SESSION}`,
      sk: 'SESSION',
      type: 'session',
      id: SESSION,
      key_id: KEY,
      session_key: 's-old',
      title: 'old title',
      title_lc: 'old title',
      tokens_in: 5,
      tokens_out: 6,
      fee: NumberValue.from('0.000123'),
      thread_count: 1,
      created_at: `${DAY}T10:00:00.000Z`,
      updated_at: `${DAY}T10:00:00.000Z`,
      gsi1pk: `SESSIONS#${SESSION % 8}`,
      gsi1sk: String(SESSION).padStart(12, '0'),
      gsi2pk: `SESSIONS#KEY#${KEY}`,
      gsi2sk: String(SESSION).padStart(12, '0'),
    });
    await put({
      pk: `STAT#${DAY}`,
      sk: `KEY#${KEY}#MODEL#m`,
      type: 'stat',
      day: DAY,
      key_id: KEY,
      model: 'm',
      requests: 3,
      tokens_in: 30,
      tokens_out: 40,
      tokens_cache_read: 0,
      tokens_cache_write: 0,
      fee: NumberValue.from('0.1'),
      gsi1pk: `STATS#${KEY % 8}`,
      gsi1sk: `${DAY}#KEY#${KEY}#MODEL#m`,
    });
    await put({ pk: `KEYCOUNT#${KEY}`, sk: 'THREADS', type: 'count', key_id: KEY, n: 3 });
    // Meanwhile the new code settled a call of that session and that day: partial items under the new keys.
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: itemKeys.session(SESSION),
        UpdateExpression: 'ADD tokens_in :i, tokens_out :o, fee :f, thread_count :one SET updated_at = :now',
        ExpressionAttributeValues: { ':i': 1, ':o': 2, ':f': NumberValue.from('0.2'), ':one': 1, ':now': '2026-12-01T00:00:00.000Z' },
      }),
    );
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: itemKeys.stat(DAY, KEY, 'm'),
        UpdateExpression: 'SET #day = :day, key_id = :k, model = :m ADD requests :one, fee :f',
        ExpressionAttributeNames: { '#day': 'day' },
        ExpressionAttributeValues: { ':day': DAY, ':k': KEY, ':m': 'm', ':one': 1, ':f': NumberValue.from('0.05') },
      }),
    );

    const first = await migrateRecordLayout();
    expect(first.moved).toEqual({ thread: 1, session: 1, stat: 1, count: 1 });

    const thread = (await getThread(THREAD))!;
    expect(thread).toMatchObject({ id: THREAD, keyId: KEY, sessionId: SESSION, prompt: 'old prompt', completion: 'old answer' });
    expect(formatMoney(thread.fee)).toBe('0.000123');
    expect((await listThreads({ keyId: KEY, offset: 0, limit: 5 })).items.map((t) => t.id)).toEqual([THREAD]);
    expect((await listThreads({ sessionId: SESSION, offset: 0, limit: 5 })).items.map((t) => t.id)).toEqual([THREAD]);
    expect((await listThreads({ offset: 0, limit: 1000 })).items.map((t) => t.id)).toContain(THREAD);

    const session = (await getSession(SESSION))!;
    expect(session).toMatchObject({ keyId: KEY, sessionKey: 's-old', title: 'old title', tokensIn: 6, tokensOut: 8, threadCount: 2 });
    expect(formatMoney(session.fee)).toBe('0.200123');
    expect(session.updatedAt).toBe('2026-12-01T00:00:00.000Z'); // the newer write is kept

    const stat = (await listStats({ from: DAY, to: DAY })).find((s) => s.keyId === KEY)!;
    expect(stat).toMatchObject({ requests: 4, tokensIn: 30, tokensOut: 40 });
    expect(formatMoney(stat.fee)).toBe('0.15');
    expect(await countForKey('THREADS', KEY)).toBe(3);

    // The old items are gone, and a second run finds nothing to move (and adds nothing twice).
    for (const [pk, sk] of [
      [`THREAD#${THREAD}`, 'THREAD'],
      [`SESSION#${SESSION}`, 'SESSION'],
      [`STAT#${DAY}`, `KEY#${KEY}#MODEL#m`],
      [`KEYCOUNT#${KEY}`, 'THREADS'],
    ])
      expect((await old(pk, sk)).Item).toBeUndefined();
    const again = await migrateRecordLayout();
    expect(again.moved).toEqual({ thread: 0, session: 0, stat: 0, count: 0 });
    expect((await getSession(SESSION))!.threadCount).toBe(2);
    expect(await countForKey('THREADS', KEY)).toBe(3);
  });

  it('never adds a thread to itself, and loses no total that old code adds while the move runs', async () => {
    const KEY2 = 880_002;
    const THREAD2 = 880_124;
    const DAY2 = '2026-11-21';
    const threadFields = {
      type: 'thread',
      id: THREAD2,
      key_id: KEY2,
      prompt: 'p',
      completion: 'c',
      tokens_in: 5,
      tokens_out: 6,
      fee: NumberValue.from('0.5'),
    };
    // The same call under both keys (the new code replayed an old deferred job): it must stay as it is.
    await put({
      pk: `THREAD#${THREAD2}`,
      sk: 'THREAD',
      ...threadFields,
      gsi2pk: `THREADS#KEY#${KEY2}`,
      gsi2sk: String(THREAD2).padStart(12, '0'),
    });
    await put({ ...itemKeys.thread(THREAD2), ...threadFields, gsi2pk: `THREADS#KEY#${KEY2}`, gsi2sk: String(THREAD2).padStart(12, '0') });
    await put({
      pk: `STAT#${DAY2}`,
      sk: `KEY#${KEY2}#MODEL#m`,
      type: 'stat',
      day: DAY2,
      key_id: KEY2,
      model: 'm',
      requests: 3,
      fee: NumberValue.from('0.3'),
    });

    // Old code still running charges a call of that day just as the migration moves the item.
    const client = db();
    const original = client.send.bind(client);
    type Send = (cmd: { constructor: { name: string }; input: unknown }, ...rest: []) => Promise<unknown>;
    let raced = false;
    (client as unknown as { send: Send }).send = async (cmd, ...rest) => {
      if (!raced && cmd.constructor.name === 'TransactWriteCommand' && JSON.stringify(cmd.input).includes(`STAT#${DAY2}`)) {
        raced = true;
        await original(
          new UpdateCommand({
            TableName: tableName(),
            Key: { pk: `STAT#${DAY2}`, sk: `KEY#${KEY2}#MODEL#m` },
            UpdateExpression: 'ADD requests :one, fee :f',
            ExpressionAttributeValues: { ':one': 1, ':f': NumberValue.from('0.1') },
          }) as never,
        );
      }
      return original(cmd as never, ...rest);
    };
    try {
      await migrateRecordLayout();
    } finally {
      delete (client as unknown as { send?: Send }).send;
    }
    expect(raced).toBe(true);

    const thread = (await getThread(THREAD2))!;
    expect(thread).toMatchObject({ tokensIn: 5, tokensOut: 6 });
    expect(formatMoney(thread.fee)).toBe('0.5');
    const stat = (await listStats({ from: DAY2, to: DAY2 })).find((x) => x.keyId === KEY2)!;
    expect(stat.requests).toBe(4);
    expect(formatMoney(stat.fee)).toBe('0.4');
    expect((await old(`STAT#${DAY2}`, `KEY#${KEY2}#MODEL#m`)).Item).toBeUndefined();
    expect((await old(`THREAD#${THREAD2}`, 'THREAD')).Item).toBeUndefined();
  });
});
