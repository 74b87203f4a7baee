import { PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { itemSize, startBiller, valueSize } from '../../../bench/lib/billing.js';
import type { DdbCall } from '../../../bench/lib/ddb-proxy.js';
import { db, tableName } from '../../../lambdas/core/store/table.js';
import { ensureTable } from '../../../local/table.js';

// The bench's write units "by DynamoDB's billing rules" rest on these sizes (DynamoDB developer guide, item sizes).
describe('bench: item sizes as DynamoDB counts them', () => {
  it('sizes strings in UTF-8 bytes and numbers by their significant digits', () => {
    expect(valueSize({ S: 'abc' })).toBe(3);
    expect(valueSize({ S: 'é' })).toBe(2);
    expect(valueSize({ N: '1' })).toBe(2);
    expect(valueSize({ N: '12345' })).toBe(4);
    expect(valueSize({ N: '-1234.5600' })).toBe(4);
    expect(valueSize({ N: '1000000' })).toBe(2);
    expect(valueSize({ BOOL: true })).toBe(1);
    expect(valueSize({ NULL: true })).toBe(1);
  });

  it('gives a map or a list 3 bytes, and each element 1 byte more', () => {
    // {a: 1, t: 1764650123}: 3 + (1 + "a" + 2) + (1 + "t" + 6)
    expect(valueSize({ M: { a: { N: '1' }, t: { N: '1764650123' } } })).toBe(3 + 4 + 8);
    expect(valueSize({ L: [{ S: 'ab' }, { N: '7' }] })).toBe(3 + 3 + 3);
  });

  it('adds the attribute names', () => {
    expect(itemSize({ pk: { S: 'APIKEY#x' }, n: { N: '10' } })).toBe(2 + 8 + 1 + 2);
  });
});

// Against DynamoDB Local: the items a call wrote, read back, billed by DynamoDB's rules.
describe('bench: write units by DynamoDB billing rules', () => {
  const table = tableName();
  const big = 'x'.repeat(1500);
  beforeAll(async () => {
    await ensureTable(table);
    await db().send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: table, Item: { pk: 'BILL#1', sk: 'a', n: 1 } } },
          { Put: { TableName: table, Item: { pk: 'BILL#2', sk: 'a', n: 2 } } },
        ],
      }),
    );
    await db().send(new PutCommand({ TableName: table, Item: { pk: 'BILL#3', sk: 'a', gsi2pk: 'K#1', gsi2sk: 'T#1', text: big } }));
  });
  const call = (op: string, writes: DdbCall['writes'], status = 200): DdbCall => ({
    op,
    start: 0,
    end: 0,
    status,
    rcu: 0,
    wcu: 0,
    indexUnits: 0,
    writes,
  });
  const key = (pk: string) => ({ pk: { S: pk }, sk: { S: 'a' } });

  it('bills each small item of a transaction 2 units, a plain write 1 per KB and each index entry again', async () => {
    const biller = await startBiller(process.env.AWS_ENDPOINT_URL_DYNAMODB ?? '');
    try {
      const tx = call('TransactWriteItems', [
        { table, key: key('BILL#1'), transactional: true },
        { table, key: key('BILL#2'), transactional: true },
      ]);
      expect(await biller.writeUnits([tx])).toBe(4);
      // A ~1.5 KB item in gsi2 (projection ALL): 2 units for the table, 2 for the index entry.
      const update = call('UpdateItem', [{ table, key: key('BILL#3'), transactional: false }]);
      expect(await biller.writeUnits([update])).toBe(4);
      // A call answered with an error is not counted here (the bench reports those apart).
      expect(await biller.writeUnits([call('UpdateItem', update.writes, 400)])).toBe(0);
    } finally {
      biller.close();
    }
  });
});
