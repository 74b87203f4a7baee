import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DocumentClient } from '../../../lambdas/core/store/document-client.js';
import { DynamoDbWire } from '../../../lambdas/core/store/dynamodb-wire.js';

/**
 * The store's document layer over its own DynamoDB wire (store/document-client.ts, store/dynamodb-wire.ts) against
 * lib-dynamodb's DynamoDBDocumentClient over the SDK's DynamoDBClient, both talking to one stub DynamoDB over HTTP:
 * for each command the store sends, the two must put the same JSON on the wire and hand back the same decoded output
 * and the same errors; our requests must carry valid SigV4 signatures; retries, idempotency tokens and timeouts
 * behave as the SDK's do.
 */
const OPTIONS = {
  marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  unmarshallOptions: {
    wrapNumbers: (v: string) => (String(Number(v)) === v ? Number(v) : NumberValue.from(v)),
  },
};
const CREDENTIALS = { accessKeyId: 'AKIDSTUB', secretAccessKey: 'stub-secret', sessionToken: 'stub-session' };

interface Seen {
  target: string;
  body: unknown;
  raw: string;
  headers: http.IncomingHttpHeaders;
}
/** The stub's answer to a call: 200 with a body, or an error status with its body; 'hang' never answers. */
type Answer = { status?: number; body: unknown } | 'hang';

let server: http.Server;
let url: string;
const seen: Seen[] = [];
let answer: (target: string, body: unknown, n: number) => Answer = () => ({ body: {} });

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const target = String(req.headers['x-amz-target']).split('.').pop()!;
      const body: unknown = JSON.parse(raw || '{}');
      seen.push({ target, body, raw, headers: req.headers });
      const a = answer(target, body, seen.length);
      if (a === 'hang') return;
      res.writeHead(a.status ?? 200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `req-${seen.length}` });
      res.end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  seen.length = 0;
  answer = (target) => ({ body: answers[target] });
});

const sdkClient = (maxAttempts = 3) => new DynamoDBClient({ region: 'us-east-1', endpoint: url, credentials: CREDENTIALS, maxAttempts });
const reference = (maxAttempts?: number) => DynamoDBDocumentClient.from(sdkClient(maxAttempts), OPTIONS);
const ours = (maxAttempts?: number, timeouts = { connectTimeoutMs: 1000, requestTimeoutMs: 1000 }) =>
  new DocumentClient(new DynamoDbWire(sdkClient(maxAttempts), timeouts), OPTIONS);

const WIRE_ITEM = {
  pk: { S: 'APIKEY#1' },
  sk: { S: 'KEY' },
  balance: { N: '12.345678901234567890' },
  n: { N: '7' },
  tags: { SS: ['a', 'b'] },
  limits: { M: { rpm: { N: '60' }, tpm: { NULL: true } } },
  list: { L: [{ S: 'x' }, { N: '1' }, { BOOL: false }] },
  data: { B: 'aGVsbG8=' },
  blobs: { BS: ['AAE=', '/w=='] },
  B: { M: { B: { S: 'attributes named B, not binary' } } },
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
  blob: new Uint8Array([0, 1, 255]),
  buf: Buffer.from('hi'),
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

/** The SigV4 signature the request should carry, computed here from what arrived (an independent implementation). */
function expectedSignature(s: Seen): { given: string; expected: string } {
  const auth = String(s.headers.authorization);
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) throw new Error(`not a SigV4 authorization header: ${auth}`);
  const [, akid, date, region, service, signedHeaders, given] = m;
  expect(akid).toBe(CREDENTIALS.accessKeyId);
  const names = signedHeaders.split(';');
  const canonical = [
    'POST',
    '/',
    '',
    ...names.map((n) => `${n}:${String(s.headers[n]).trim()}`),
    '',
    signedHeaders,
    createHash('sha256').update(s.raw).digest('hex'),
  ].join('\n');
  const amzDate = String(s.headers['x-amz-date']);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  let k: Buffer = createHmac('sha256', `AWS4${CREDENTIALS.secretAccessKey}`).update(date).digest();
  for (const part of [region, service, 'aws4_request']) k = createHmac('sha256', k).update(part).digest();
  return { given, expected: createHmac('sha256', k).update(toSign).digest('hex') };
}

describe('the store’s document layer and wire', () => {
  it('puts on the wire exactly what DynamoDBDocumentClient puts, and decodes answers the same, for every command kind', async () => {
    const theirs = reference();
    const layer = ours();
    for (const [i, command] of commands().entries()) {
      const expected = withoutMetadata(await theirs.send(command as never));
      const got = withoutMetadata(await layer.send(commands()[i]));
      expect(got, command.constructor.name).toEqual(expected);
    }
    const sdkWire = seen.filter((_, i) => i % 2 === 0);
    const ourWire = seen.filter((_, i) => i % 2 === 1);
    expect(ourWire.map((w) => w.target)).toEqual(sdkWire.map((w) => w.target));
    expect(ourWire.length).toBe(10);
    // A transaction's idempotency token is fresh per call (the SDK makes it), so it differs between the two runs.
    const token = (body: unknown) => (body as { ClientRequestToken?: string }).ClientRequestToken;
    for (const [i, w] of ourWire.entries()) {
      expect(w.headers['content-type']).toBe(sdkWire[i].headers['content-type']);
      expect(w.headers['x-amz-target']).toBe(sdkWire[i].headers['x-amz-target']);
      expect(token(w.body) === undefined, w.target).toBe(token(sdkWire[i].body) === undefined);
      expect({ ...(w.body as object), ClientRequestToken: 0 }, w.target).toEqual({ ...(sdkWire[i].body as object), ClientRequestToken: 0 });
    }
    expect(token(ourWire[8].body)).toMatch(/^[0-9a-f-]{36}$/);
    // Spot checks that the comparison has teeth: exact numbers, sets and bytes on the wire, exact values back.
    expect(ourWire[1].raw).toContain('"balance":{"N":"0.000001"}');
    expect(ourWire[1].raw).toContain('"set":{"SS":["x"]}');
    expect(ourWire[1].raw).toContain('"blob":{"B":"AAH/"}');
    expect(ourWire[1].raw).toContain('"buf":{"B":"aGk="}');
    const got = await layer.send(new GetCommand({ TableName: 't', Key: key }));
    expect(got.Item?.balance).toBeInstanceOf(NumberValue);
    expect(String(got.Item?.balance)).toBe('12.345678901234567890');
    expect(got.Item?.n).toBe(7);
    expect(got.Item?.tags).toEqual(new Set(['a', 'b']));
    expect(got.Item?.data).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(got.Item?.data as Uint8Array).toString()).toBe('hello');
    expect(got.Item?.B).toEqual({ B: 'attributes named B, not binary' });
  });

  it('signs each request with SigV4 (session token included) as the SDK does: the signature verifies, and a changed byte would not', async () => {
    await reference().send(new GetCommand({ TableName: 't', Key: key }));
    await ours().send(new PutCommand({ TableName: 't', Item: item }));
    const [sdk, mine] = seen;
    expect(mine.headers['x-amz-security-token']).toBe(CREDENTIALS.sessionToken);
    for (const s of [sdk, mine]) {
      const { given, expected } = expectedSignature(s);
      expect(given).toBe(expected);
      expect(String(s.headers.authorization)).toContain('/us-east-1/dynamodb/aws4_request');
      for (const h of ['host', 'x-amz-date', 'x-amz-target', 'x-amz-security-token'])
        expect(String(s.headers.authorization)).toMatch(new RegExp(`SignedHeaders=[^,]*${h}`));
    }
    const tampered = { ...mine, raw: `${mine.raw} ` };
    const t = expectedSignature(tampered);
    expect(t.given).not.toBe(t.expected);
  });

  it('middleware wraps every call in step order (initialize outermost), and one removed applies no more', async () => {
    const layer = ours();
    const get = () => layer.send(new GetCommand({ TableName: 't', Key: key }));
    await get();
    const order: string[] = [];
    layer.middlewareStack.add(
      (next, context) => async (args) => {
        order.push(`inner ${context.commandName}`);
        return next(args);
      },
      { step: 'finalizeRequest', name: 'inner' },
    );
    layer.middlewareStack.add(
      (next, context) => async (args) => {
        order.push(`outer ${context.commandName} ${JSON.stringify(args.input.Key)}`);
        return next(args);
      },
      { step: 'initialize', name: 'outer' },
    );
    await get();
    await layer.send(new PutCommand({ TableName: 't', Item: { pk: 'a', sk: 'b' } }));
    expect(order).toEqual([
      'outer GetItemCommand {"pk":{"S":"APIKEY#1"},"sk":{"S":"KEY"}}',
      'inner GetItemCommand',
      'outer PutItemCommand undefined',
      'inner PutItemCommand',
    ]);
    expect(layer.middlewareStack.remove('outer')).toBe(true);
    expect(layer.middlewareStack.remove('outer')).toBe(false);
    await get();
    expect(order.slice(4)).toEqual(['inner GetItemCommand']);
  });

  it.each([
    [
      'a failed condition keeps its item in wire form',
      {
        __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
        message: 'The conditional request failed',
        Item: WIRE_ITEM,
      },
    ],
    [
      'a cancelled transaction keeps its reasons, items included',
      {
        __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        Message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]',
        CancellationReasons: [
          { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', Item: WIRE_ITEM },
          { Code: 'None' },
        ],
      },
    ],
    [
      'a validation error',
      { __type: 'com.amazon.coral.validate#ValidationException', message: 'One or more parameter values were invalid' },
    ],
  ])('passes errors on as the SDK shapes them: %s', async (_, body) => {
    answer = () => ({ status: 400, body });
    const send = (c: { send: (x: never) => Promise<unknown> }) =>
      c
        .send(
          new UpdateCommand({ TableName: 't', Key: key, UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': 1 } }) as never,
        )
        .catch((e: unknown) => e);
    const theirs = (await send(reference())) as Record<string, unknown> & Error;
    const mine = (await send(ours())) as Record<string, unknown> & Error;
    expect(mine.name).toBe(theirs.name);
    expect(mine.message).toBe(theirs.message);
    expect(mine.$fault).toBe('client');
    expect((mine.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(400);
    for (const member of ['Item', 'CancellationReasons']) expect(mine[member], member).toEqual(theirs[member]);
    expect(mine.name).not.toBe('Error');
  });

  it('retries what the SDK retries (server errors, throttling, as many attempts as configured), with one transaction token throughout', async () => {
    const failing = (times: number, status: number, type: string) => (_: string, _b: unknown, n: number) =>
      n <= times ? { status, body: { __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: 'try again' } } : { body: {} };
    const write = () => new TransactWriteCommand({ TransactItems: [{ Delete: { TableName: 't', Key: key } }] });
    answer = failing(2, 500, 'InternalServerError');
    const out = await ours(3).send(write());
    expect(seen).toHaveLength(3);
    expect(out.$metadata.attempts).toBe(3);
    expect(new Set(seen.map((s) => (s.body as { ClientRequestToken: string }).ClientRequestToken)).size).toBe(1);
    for (const [layer, attempts] of [
      [ours(2), 2],
      [reference(2), 2],
    ] as Array<[{ send: (c: never) => Promise<unknown> }, number]>) {
      seen.length = 0;
      answer = failing(5, 400, 'ProvisionedThroughputExceededException');
      const e = (await layer.send(write() as never).catch((x: unknown) => x)) as Error & { $metadata: { attempts: number } };
      expect(e.name).toBe('ProvisionedThroughputExceededException');
      expect(seen).toHaveLength(attempts);
      expect(e.$metadata.attempts).toBe(attempts);
    }
    // A client error is not retried.
    seen.length = 0;
    answer = failing(5, 400, 'ConditionalCheckFailedException');
    await ours(3)
      .send(write())
      .catch(() => undefined);
    expect(seen).toHaveLength(1);
  });

  it('gives up on a store that does not answer after its timeout, and on one that refuses connections, with the network’s error codes', async () => {
    answer = () => 'hang';
    const t0 = Date.now();
    const hung = (await ours(1, { connectTimeoutMs: 500, requestTimeoutMs: 200 })
      .send(new GetCommand({ TableName: 't', Key: key }))
      .catch((e: unknown) => e)) as Error & { code?: string };
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(hung.name).toBe('TimeoutError');
    expect(hung.code).toBe('ETIMEDOUT');
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const wire = new DynamoDbWire(
      new DynamoDBClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, credentials: CREDENTIALS, maxAttempts: 1 }),
      {
        connectTimeoutMs: 500,
        requestTimeoutMs: 500,
      },
    );
    const refused = (await wire.send('GetItem', {}).catch((e: unknown) => e)) as Error & { code?: string };
    expect(refused.code).toBe('ECONNREFUSED');
    wire.destroy();
  });

  it('without an endpoint set, calls the regional endpoint the SDK’s rules give (FIPS too)', async () => {
    const urlOf = (client: DynamoDBClient) =>
      (new DynamoDbWire(client, { connectTimeoutMs: 1, requestTimeoutMs: 1 }) as unknown as { url: () => Promise<URL> }).url();
    expect((await urlOf(new DynamoDBClient({ region: 'eu-west-3', credentials: CREDENTIALS }))).href).toBe(
      'https://dynamodb.eu-west-3.amazonaws.com/',
    );
    expect((await urlOf(new DynamoDBClient({ region: 'us-east-1', useFipsEndpoint: true, credentials: CREDENTIALS }))).href).toBe(
      'https://dynamodb-fips.us-east-1.amazonaws.com/',
    );
  });
});
