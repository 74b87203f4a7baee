/**
 * The local server's ceiling: DynamoDB Local alone, driven from the bench process with no gateway in between, doing
 * what one call asks of the store (admin key: the key read, the thread PutItem, the settlement transaction of four
 * small items; user key, seen before on the instance: the admission UpdateItem, returning the item, instead of the
 * read), at the same concurrency as the load section. DynamoDB Local
 * runs transactions one at a time, so this rate bounds the gateway's throughput on `npm start` whatever the gateway
 * does; in AWS, DynamoDB has no such limit (see docs/data-model.md, "Capacity").
 */
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DocumentClient } from '../../lambdas/core/store/document-client.js';
import { DynamoDbWire } from '../../lambdas/core/store/dynamodb-wire.js';
import { CONCURRENCY, N, cpuWatch, progress, type Ctx } from '../lib/bench.js';
import { round, table } from '../lib/stats.js';

export interface CeilingFigures {
  [shape: string]: { callsPerSec: number; dynamoCpuMsPerCall: number; errors: number };
}

export async function sectionCeiling(c: Ctx): Promise<CeilingFigures> {
  const print = c.report.section('ceiling');
  const TableName = process.env.TABLE_NAME!;
  // The gateway's own document layer and client settings, so that this process costs no more per call than a
  // gateway does (the bench process must not be what bounds the rate).
  const client = new DocumentClient(
    new DynamoDbWire(new DynamoDBClient({ endpoint: c.dynamoEndpoint, maxAttempts: 1 }), {
      connectTimeoutMs: 2000,
      requestTimeoutMs: 5000,
    }),
    { marshallOptions: {}, unmarshallOptions: {} },
  );
  let n = 0;
  const key = { pk: 'APIKEY#bench-ceiling', sk: 'APIKEY' };
  await client.send(new PutCommand({ TableName, Item: { ...key, total_fee: 0, rev: 0, reserved: 0, inflight: 0 } }));
  const read = () => client.send(new GetCommand({ TableName, Key: key, ConsistentRead: true }));
  const admit = (rid: string) =>
    client.send(
      new UpdateCommand({
        TableName,
        Key: key,
        UpdateExpression: 'SET #l = :l ADD rev :one, inflight :one, reserved :a',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#l)',
        ExpressionAttributeNames: { '#l': `lease#${rid}` },
        ExpressionAttributeValues: { ':l': { a: 1, t: 1 }, ':one': 1, ':a': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
  const thread = (id: number) =>
    client.send(
      new PutCommand({
        TableName,
        Item: {
          pk: `THREADS#${id % 8}`,
          sk: `C${String(id).padStart(12, '0')}`,
          prompt: 'ping',
          completion: 'pong',
          gsi2pk: 'CEILING',
          gsi2sk: String(id),
        },
      }),
    );
  const settle = (rid: string, leased: boolean) =>
    client.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName, Item: { pk: `CHARGE#${rid}`, sk: 'CHARGE', ttl: 1 }, ConditionExpression: 'attribute_not_exists(pk)' } },
          {
            Update: {
              TableName,
              Key: { pk: 'STATS#0', sk: '0000-00-00#KEY#ceiling#MODEL#m' },
              UpdateExpression: 'ADD requests :one, tokens_in :one, tokens_out :one, fee :one',
              ExpressionAttributeValues: { ':one': 1 },
            },
          },
          {
            Update: {
              TableName,
              Key: { pk: 'THREADCOUNTS#0', sk: 'ceiling' },
              UpdateExpression: 'ADD n :one',
              ExpressionAttributeValues: { ':one': 1 },
            },
          },
          {
            Update: {
              TableName,
              Key: key,
              UpdateExpression: `ADD total_fee :one, rev :one${leased ? ', inflight :m, reserved :m REMOVE #l' : ''}`,
              ...(leased ? { ExpressionAttributeNames: { '#l': `lease#${rid}` } } : {}),
              ExpressionAttributeValues: { ':one': 1, ...(leased ? { ':m': -1 } : {}) },
            },
          },
        ],
      }),
    );
  const shapes: Array<[string, () => Promise<unknown>]> = [
    ['the settlement transaction alone', () => settle(`ceil-${n++}`, false)],
    [
      'an admin-key call: GetItem, PutItem ‖ transaction',
      async () => {
        const id = n++;
        await read();
        await Promise.all([thread(id), settle(`ceil-${id}`, false)]);
      },
    ],
    [
      'a user-key call: UpdateItem (the key confirmed by its admission), PutItem ‖ transaction',
      async () => {
        const id = n++;
        await admit(`ceil-${id}`);
        await Promise.all([thread(id), settle(`ceil-${id}`, true)]);
      },
    ],
  ];
  const figures: CeilingFigures = {};
  const rows: string[][] = [['what one "call" does', 'calls/s', 'DynamoDB Local CPU/call', 'errors']];
  const seconds = Math.max(1, N.loadSeconds / 2);
  for (const [label, one] of shapes) {
    progress(`ceiling: ${label}, ${CONCURRENCY} concurrent for ${seconds} s`);
    for (const measure of [false, true]) {
      let done = 0;
      let errors = 0;
      const watch = cpuWatch({ 'DynamoDB Local': c.gw.dynamoPid });
      const start = performance.now();
      const deadline = start + (measure ? seconds : 1) * 1000;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (performance.now() < deadline) {
            try {
              await one();
              done++;
            } catch {
              errors++;
            }
          }
        }),
      );
      watch.stop();
      if (!measure) continue; // warm-up
      const rate = done / ((performance.now() - start) / 1000);
      const cpu = done ? watch.perCall(done)['DynamoDB Local'] : NaN;
      figures[label] = { callsPerSec: round(rate, 1), dynamoCpuMsPerCall: round(cpu, 2), errors };
      rows.push([label, rate.toFixed(0), Number.isFinite(cpu) ? `${cpu.toFixed(2)} ms` : '–', String(errors)]);
    }
  }
  client.destroy();
  print(`== Ceiling: in-memory DynamoDB Local alone, ${CONCURRENCY} concurrent loops from the bench process, no gateway ==`);
  print('   the store work of one call, as the gateway does it; DynamoDB Local runs transactions one at a time, so this bounds');
  print("   the local server's throughput whatever the gateway does (real DynamoDB has no such limit)");
  print(table(rows));
  print();
  c.report.json.ceiling = figures;
  const admin = figures[shapes[1][0]];
  const user = figures[shapes[2][0]];
  c.report.add({
    rank: 62,
    figure: `ceiling: DynamoDB Local alone doing one call's store work, ${CONCURRENCY} concurrent`,
    admin: `${admin.callsPerSec.toFixed(0)} calls/s`,
    user: `${user.callsPerSec.toFixed(0)} calls/s`,
    goal: '(bounds the rows above)',
  });
  return figures;
}
