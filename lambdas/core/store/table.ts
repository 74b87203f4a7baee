import { type AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { NumberValue, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { now } from '../clock.js';
import { config } from '../config.js';
import { errors } from '../errors.js';
import { DocumentClient } from './document-client.js';
import { DynamoDbWire } from './dynamodb-wire.js';
import { type IndexPartition, keyNames } from './table-keys.js';

/**
 * The single table. Every entity lives here; the key layout is documented in docs/data-model.md.
 * Numbers come back as JS numbers only when that is exact; otherwise as NumberValue (money stays exact).
 *
 * Store faults fail closed: a throttled, failing, unreachable or slow DynamoDB (after the SDK's own retries) becomes
 * one neutral 503 `service_unavailable` GatewayError with `retry-after`, whatever route met it, so no caller ever
 * answers 500 for it or carries on as if the write had happened. Expected answers (a failed condition, a cancelled
 * transaction) pass through unchanged: the code decides on them.
 */
let client: DocumentClient | undefined;

export function db(): DocumentClient {
  if (!client) {
    const c = config().store;
    // The SDK client's resolved configuration (credentials, region, endpoint, retry strategy) drives the wire; the
    // wire sends the calls (dynamodb-wire.ts says why).
    const sdk = new DynamoDBClient({ ...(c.endpoint ? { endpoint: c.endpoint } : {}), maxAttempts: c.maxAttempts });
    client = new DocumentClient(new DynamoDbWire(sdk, { connectTimeoutMs: c.connectTimeoutMs, requestTimeoutMs: c.requestTimeoutMs }), {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
      unmarshallOptions: { wrapNumbers: exactNumber },
    });
    client.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (e) {
          throw isStoreFault(e) ? errors.storeUnavailable(e) : e;
        }
      },
      { step: 'initialize', name: 'storeFaultsFailClosed' },
    );
  }
  return client;
}

/** Numbers come back as JS numbers only when that is exact; otherwise as NumberValue (money stays exact). */
function exactNumber(value: string): number | NumberValue {
  const n = Number(value);
  return String(n) === value ? n : NumberValue.from(value);
}

/** An item in wire form (ReturnValuesOnConditionCheckFailure, stream records) → a plain item, numbers exact. */
export function fromWireItem(item: Record<string, AttributeValue>): Record<string, unknown> {
  return unmarshall(item, { wrapNumbers: exactNumber });
}

export function tableName(): string {
  return config().tableName;
}

/** Record timestamps follow the gateway's clock (which tests of month rollover can move). */
export function nowIso(): string {
  return now().toISOString();
}

export function isConditionFailure(e: unknown): boolean {
  const name = (e as { name?: string })?.name;
  return name === 'ConditionalCheckFailedException';
}

/** TransactionCanceledException reasons, index-aligned with the transaction's items. */
export function cancellationCodes(e: unknown): string[] | undefined {
  const err = e as { name?: string; CancellationReasons?: Array<{ Code?: string }> };
  if (err?.name !== 'TransactionCanceledException') return undefined;
  return (err.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
}

/** Reads every page of a query (used for small admin-managed partitions: keys, models, groups, grants). */
export async function queryAll<T>(input: Omit<QueryCommandInput, 'TableName'>): Promise<T[]> {
  const out: T[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await db().send(new QueryCommand({ ...input, TableName: tableName(), ExclusiveStartKey }));
    out.push(...((page.Items ?? []) as T[]));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return out;
}

/** The IndexName of a partition's Query (none for the table's own partitions). */
export const indexNameOf = (p: IndexPartition): string | undefined => (p.index === 'table' ? undefined : p.index);

/** Every item of one partition (admin-sized lists), optionally filtered on the server. */
export function queryIndex<T>(p: IndexPartition, filter?: { expression: string; values: Record<string, unknown> }): Promise<T[]> {
  return queryAll<T>({
    IndexName: indexNameOf(p),
    KeyConditionExpression: `${keyNames(p.index).pk} = :p`,
    ...(filter ? { FilterExpression: filter.expression } : {}),
    ExpressionAttributeValues: { ':p': p.pk, ...filter?.values },
  });
}

/** Error names DynamoDB (or the SDK) uses for "not now": throttling, server faults, timeouts. */
const FAULT_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** A DynamoDB failure that says nothing about the request itself: the store is not available right now. */
function isStoreFault(e: unknown): boolean {
  const err = e as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
    CancellationReasons?: Array<{ Code?: string }>;
  };
  if (!err || typeof err !== 'object') return false;
  if (err.name && FAULT_NAMES.has(err.name)) return true;
  if (err.code && NETWORK_CODES.has(err.code)) return true;
  if (err.name === 'TransactionCanceledException') return (err.CancellationReasons ?? []).some((r) => r.Code === 'ThrottlingError');
  const status = err.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  // A connection that died mid-response (socket hang up) or a response the SDK could not read at all.
  return err.name === 'Error' && /socket hang up|aborted|ECONNRESET|timed? ?out/i.test(String((e as Error).message));
}

/** Tests and the local server: forget the client (the next db() builds one from the current config). */
export function resetStoreClient(): void {
  client?.destroy();
  client = undefined;
}
