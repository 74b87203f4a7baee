import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  NumberValue,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DocumentClient } from '../../../lambdas/core/store/document-client.js';
import { keptCommands } from '../../support/sdk-context.js';

/**
 * Our document layer (store/document-client.ts) against lib-dynamodb's DynamoDBDocumentClient, both over a stub
 * HTTP handler: for each command the store sends, the two must put the same JSON on the wire and hand back the same
 * decoded output. And the base client resolves its middleware once per command class, yet every call carries its
 * own input (the SDK's cacheMiddleware, which DynamoDBDocumentClient cannot use).
 */
const OPTIONS = {
  marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  unmarshallOptions: {
    wrapNumbers: (v: string) => (String(Number(v)) === v ? Number(v) : NumberValue.from(v)),
  },
};

function stubbed(answer: (target: string, body: unknown) => unknown, cacheMiddleware: boolean) {
  const wire: Array<{ target: string; body: unknown }> = [];
  const base = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    cacheMiddleware,
    requestHandler: {
      handle: async (request: { headers: Record<string, string>; body?: string }) => {
        const target = request.headers['x-amz-target'].split('.').pop()!;
        const body: unknown = JSON.parse(request.body ?? '{}');
        wire.push({ target, body });
        const json = JSON.stringify(answer(target, body));
        return Promise.resolve({
          response: {
            statusCode: 200,
            headers: { 'content-type': 'application/x-amz-json-1.0' },
            body: Readable.from([Buffer.from(json)]),
          },
        });
      },
    },
  });
  return { base, wire };
}

const WIRE_ITEM = {
  pk: { S: 'APIKEY#1' },
  sk: { S: 'KEY' },
  balance: { N: '12.345678901234567890' },
  n: { N: '7' },
  tags: { SS: ['a', 'b'] },
  limits: { M: { rpm: { N: '60' }, tpm: { NULL: true } } },
  list: { L: [{ S: 'x' }, { N: '1' }, { BOOL: false }] },
};
const answers: Record<string, unknown> = {
  GetItem: { Item: WIRE_ITEM },
  PutItem: { Attributes: WIRE_ITEM, ConsumedCapacity: { TableName: 't', CapacityUnits: 1 } },
  UpdateItem: { Attributes: WIRE_ITEM },
  DeleteItem: {},
  Query: { Items: [WIRE_ITEM, WIRE_ITEM], Count: 2, ScannedCount: 2, LastEvaluatedKey: { pk: { S: 'p' }, sk: { S: 's' } } },
  Scan: { Items: [WIRE_ITEM], Count: 1, ScannedCount: 3 },
  BatchGetItem: { Responses: { t: [WIRE_ITEM] }, UnprocessedKeys: { t: { Keys: [{ pk: { S: 'p' }, sk: { S: 's' } }] } } },
  BatchWriteItem: {
    UnprocessedItems: { t: [{ PutRequest: { Item: WIRE_ITEM } }, { DeleteRequest: { Key: { pk: { S: 'p' }, sk: { S: 's' } } } }] },
  },
  TransactWriteItems: {},
  TransactGetItems: { Responses: [{ Item: WIRE_ITEM }, {}] },
};

const item = {
  pk: 'APIKEY#1',
  sk: 'KEY',
  balance: NumberValue.from('0.000001'),
  big: 2 ** 40,
  nested: { a: [1, 'b', null], skip: undefined },
  set: new Set(['x']),
};
const key = { pk: 'APIKEY#1', sk: 'KEY' };
const values = { ':fee': NumberValue.from('1.5'), ':zero': 0, ':now': '2026-12-01T00:00:00.000Z', ':m': { a: 1 } };
const commands = () => [
  new GetCommand({ TableName: 't', Key: key, ConsistentRead: true }),
  new PutCommand({ TableName: 't', Item: item, ConditionExpression: 'attribute_not_exists(pk)', ReturnValues: 'ALL_OLD' }),
  new UpdateCommand({
    TableName: 't',
    Key: key,
    UpdateExpression: 'ADD balance :fee SET updated_at = :now, m = :m',
    ConditionExpression: 'balance >= :zero',
    ExpressionAttributeValues: values,
    ReturnValues: 'ALL_NEW',
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  }),
  new DeleteCommand({ TableName: 't', Key: key, ConditionExpression: 'x = :fee', ExpressionAttributeValues: { ':fee': 1 } }),
  new QueryCommand({
    TableName: 't',
    IndexName: 'gsi2',
    KeyConditionExpression: 'gsi2pk = :p',
    ExpressionAttributeValues: { ':p': 'KEYTHREADS#1' },
    ExclusiveStartKey: { pk: 'p', sk: 's', n: 3 },
    Limit: 20,
  }),
  new ScanCommand({ TableName: 't', FilterExpression: 'n > :n', ExpressionAttributeValues: { ':n': 1 } }),
  new BatchGetCommand({ RequestItems: { t: { Keys: [key, { pk: 'B', sk: 'C' }], ConsistentRead: true } } }),
  new BatchWriteCommand({ RequestItems: { t: [{ PutRequest: { Item: item } }, { DeleteRequest: { Key: key } }] } }),
  new TransactWriteCommand({
    TransactItems: [
      { Put: { TableName: 't', Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Update: { TableName: 't', Key: key, UpdateExpression: 'ADD balance :fee', ExpressionAttributeValues: values } },
      { Delete: { TableName: 't', Key: key } },
      { ConditionCheck: { TableName: 't', Key: key, ConditionExpression: 'n = :n', ExpressionAttributeValues: { ':n': 7 } } },
    ],
  }),
  new TransactGetCommand({
    TransactItems: [{ Get: { TableName: 't', Key: key } }, { Get: { TableName: 't', Key: { pk: 'B', sk: 'C' } } }],
  }),
];

const withoutMetadata = (o: object) => {
  const { $metadata, ...rest } = o as { $metadata: unknown };
  expect($metadata).toBeTypeOf('object');
  return rest;
};

describe('the store’s document layer', () => {
  it('puts on the wire exactly what DynamoDBDocumentClient puts, and decodes answers the same, for every command kind', async () => {
    const theirs = stubbed((t) => answers[t], false);
    const ours = stubbed((t) => answers[t], true);
    const reference = DynamoDBDocumentClient.from(theirs.base, OPTIONS);
    const layer = new DocumentClient(ours.base, OPTIONS);
    for (const [i, command] of commands().entries()) {
      const expected = withoutMetadata(await reference.send(command as never));
      const got = withoutMetadata(await layer.send(commands()[i]));
      expect(got, command.constructor.name).toEqual(expected);
    }
    expect(ours.wire.map((w) => w.target)).toEqual(theirs.wire.map((w) => w.target));
    expect(ours.wire.length).toBe(10);
    // A transaction's idempotency token is fresh per call (the SDK makes it), so it differs between the two runs.
    const token = (body: unknown) => (body as { ClientRequestToken?: string }).ClientRequestToken;
    for (const [i, w] of ours.wire.entries()) {
      expect(token(w.body) === undefined, w.target).toBe(token(theirs.wire[i].body) === undefined);
      expect({ ...(w.body as object), ClientRequestToken: 0 }, w.target).toEqual({
        ...(theirs.wire[i].body as object),
        ClientRequestToken: 0,
      });
    }
    expect(token(ours.wire[8].body)).toMatch(/^[0-9a-f-]{36}$/);
    // Spot checks that the comparison has teeth: exact numbers and sets on the wire, exact numbers back.
    expect(JSON.stringify(ours.wire[1].body)).toContain('"balance":{"N":"0.000001"}');
    expect(JSON.stringify(ours.wire[1].body)).toContain('"set":{"SS":["x"]}');
    const got = await layer.send(new GetCommand({ TableName: 't', Key: key }));
    expect(got.Item?.balance).toBeInstanceOf(NumberValue);
    expect(String(got.Item?.balance)).toBe('12.345678901234567890');
    expect(got.Item?.n).toBe(7);
    expect(got.Item?.tags).toEqual(new Set(['a', 'b']));
  });

  it.each([
    [true, 3],
    [false, 8],
  ])(
    'with cacheMiddleware %s the base client resolves its middleware %i times for 8 calls of 3 kinds, and each call sends its own input',
    async (cache, times) => {
      const { base, wire } = stubbed((t) => answers[t], cache);
      const layer = new DocumentClient(base, OPTIONS);
      let resolved = 0;
      const concat = base.middlewareStack.concat.bind(base.middlewareStack);
      base.middlewareStack.concat = ((...a: Parameters<typeof concat>) => {
        resolved++;
        return concat(...a);
      }) as typeof concat;
      for (let i = 0; i < 5; i++) await layer.send(new GetCommand({ TableName: 't', Key: { pk: `P#${i}`, sk: 'S' } }));
      await layer.send(new PutCommand({ TableName: 't', Item: { pk: 'Q', sk: 'S' } }));
      const write = () => new TransactWriteCommand({ TransactItems: [{ Delete: { TableName: 't', Key: key } }] });
      await layer.send(write());
      await layer.send(write());
      expect(wire.map((w) => (w.body as { Key?: { pk: { S: string } } }).Key?.pk.S)).toEqual([
        'P#0',
        'P#1',
        'P#2',
        'P#3',
        'P#4',
        undefined,
        undefined,
        undefined,
      ]);
      expect((wire[5].body as { Item: unknown }).Item).toEqual({ pk: { S: 'Q' }, sk: { S: 'S' } });
      // Two transactions, two idempotency tokens: a cached handler does not reuse the first call's token.
      const tokens = wire.slice(6).map((w) => (w.body as { ClientRequestToken: string }).ClientRequestToken);
      expect(new Set(tokens).size).toBe(2);
      expect(resolved).toBe(times);
    },
  );

  it('a middleware added after the first calls applies to the next ones (the cached handlers are dropped)', async () => {
    const { base } = stubbed((t) => answers[t], true);
    const layer = new DocumentClient(base, OPTIONS);
    const get = () => layer.send(new GetCommand({ TableName: 't', Key: key }));
    await get();
    await get();
    const seen: string[] = [];
    layer.middlewareStack.add(
      (next, context) => (args) => {
        seen.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'lateObserver' },
    );
    await get();
    await layer.send(new PutCommand({ TableName: 't', Item: { pk: 'a', sk: 'b' } }));
    expect(seen).toEqual(['GetItemCommand', 'PutItemCommand']);
    layer.middlewareStack.remove('lateObserver');
    await get();
    expect(seen).toHaveLength(2);
  });

  it('the command the cached handler keeps (the first of its class) lets go of its item once answered', async () => {
    const { base } = stubbed((t) => answers[t], true);
    const layer = new DocumentClient(base, OPTIONS);
    const kept = keptCommands(layer.middlewareStack);
    await layer.send(new PutCommand({ TableName: 't', Item: { pk: 'secret-prompt', sk: 'S', prompt: 'private words' } }));
    await layer.send(new PutCommand({ TableName: 't', Item: { pk: 'second', sk: 'S' } }));
    expect(kept).toHaveLength(2);
    expect(kept[1]).toBe(kept[0]); // the cached context's command: the first one
    expect(JSON.stringify(kept[0].input)).not.toContain('private words');
  });

  it('passes errors through unchanged (a failed condition keeps its item in wire form, as the SDK gives it)', async () => {
    const base = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:1',
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
      cacheMiddleware: true,
      requestHandler: {
        handle: () =>
          Promise.resolve({
            response: {
              statusCode: 400,
              headers: { 'content-type': 'application/x-amz-json-1.0' },
              body: Readable.from([
                Buffer.from(
                  JSON.stringify({
                    __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
                    message: 'The conditional request failed',
                    Item: WIRE_ITEM,
                  }),
                ),
              ]),
            },
          }),
      },
    });
    const layer = new DocumentClient(base, OPTIONS);
    const err = await layer
      .send(new UpdateCommand({ TableName: 't', Key: key, UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': 1 } }))
      .catch((e: unknown) => e);
    expect((err as Error).name).toBe('ConditionalCheckFailedException');
    expect((err as { Item?: unknown }).Item).toEqual(WIRE_ITEM);
  });
});
