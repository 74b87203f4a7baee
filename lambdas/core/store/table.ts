import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, NumberValue, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { now } from '../clock.js';
import { config } from '../config.js';
import type { IndexPartition } from './table-keys.js';

/**
 * The single table. Every entity lives here; the key layout is documented in docs/data-model.md.
 * Numbers come back as JS numbers only when that is exact; otherwise as NumberValue (money stays exact).
 */
let client: DynamoDBDocumentClient | undefined;

export function db(): DynamoDBDocumentClient {
  if (!client) {
    client = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
      unmarshallOptions: {
        wrapNumbers: (value: string) => {
          const n = Number(value);
          return String(n) === value ? n : NumberValue.from(value);
        },
      },
    });
  }
  return client;
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

/** Every item of one index partition (admin-sized lists), optionally filtered on the server. */
export function queryIndex<T>(p: IndexPartition, filter?: { expression: string; values: Record<string, unknown> }): Promise<T[]> {
  return queryAll<T>({
    IndexName: p.index,
    KeyConditionExpression: `${p.index}pk = :p`,
    ...(filter ? { FilterExpression: filter.expression } : {}),
    ExpressionAttributeValues: { ':p': p.pk, ...filter?.values },
  });
}
