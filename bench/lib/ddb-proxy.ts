import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One DynamoDB call seen by the proxy (times: performance.now() of this process). */
export interface DdbCall {
  /** `GetItem`, `UpdateItem`, `TransactWriteItems`, ... (the X-Amz-Target operation). */
  op: string;
  start: number;
  end: number;
  status: number;
  /** Read capacity units DynamoDB Local reported for the call (ReturnConsumedCapacity INDEXES). */
  rcu: number;
  /** Write capacity units reported for the call (table and indexes). */
  wcu: number;
  /** Of the units above, those spent on global secondary indexes. */
  indexUnits: number;
  /** The items a write call named (wire format), for units by DynamoDB's billing rules (billing.ts). */
  writes: WrittenItem[];
}

/** One item a write call puts, updates or deletes: the whole item of a Put, else its key. */
interface WrittenItem {
  table: string;
  item?: WireItem;
  key?: WireItem;
  /** Part of a TransactWriteItems call (billed at twice the rate). */
  transactional: boolean;
}

export type WireItem = Record<string, Record<string, unknown>>;

interface WriteRequest {
  TableName?: string;
  Item?: WireItem;
  Key?: WireItem;
  TransactItems?: Array<Record<string, { TableName: string; Item?: WireItem; Key?: WireItem }>>;
  RequestItems?: Record<string, Array<{ PutRequest?: { Item: WireItem }; DeleteRequest?: { Key: WireItem } }>>;
}

/** The items a write request names (none for a read). */
function writtenItems(op: string, json: WriteRequest): WrittenItem[] {
  switch (op) {
    case 'PutItem':
      return [{ table: json.TableName ?? '', item: json.Item, transactional: false }];
    case 'UpdateItem':
    case 'DeleteItem':
      return [{ table: json.TableName ?? '', key: json.Key, transactional: false }];
    case 'TransactWriteItems':
      return (json.TransactItems ?? []).flatMap((t) =>
        Object.entries(t)
          // A ConditionCheck writes nothing; DynamoDB bills it as a transactional write of the item's size all the same.
          .map(([kind, x]) => ({ table: x.TableName, ...(kind === 'Put' ? { item: x.Item } : { key: x.Key }), transactional: true })),
      );
    case 'BatchWriteItem':
      return Object.entries(json.RequestItems ?? {}).flatMap(([table, reqs]) =>
        reqs.map((r) => ({ table, item: r.PutRequest?.Item, key: r.DeleteRequest?.Key, transactional: false })),
      );
    default:
      return [];
  }
}

export interface CountingProxy {
  url: string;
  calls: DdbCall[];
  recording: boolean;
  /** Requests forwarded and not yet answered. */
  inFlight: number;
  /** Resolves once no request has been in flight for `quietMs` (work the gateway does after the last byte). */
  idle(quietMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Operations that accept ReturnConsumedCapacity; others (DescribeTable, ...) are forwarded untouched. */
const CAPACITY_OPS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);
const READ_OPS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);

interface Units {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

interface Consumed extends Units {
  Table?: Units;
  GlobalSecondaryIndexes?: Record<string, Units>;
  LocalSecondaryIndexes?: Record<string, Units>;
}

/**
 * Units of one response's ConsumedCapacity (an object, or a list for batch and transaction calls), asked for with
 * INDEXES. DynamoDB Local reports CapacityUnits only (from item sizes, transactions at twice the rate, index writes
 * included): they are read units for a read operation and write units for a write operation; a read/write split,
 * when reported, is used as is.
 */
function units(op: string, consumed: Consumed | Consumed[] | undefined): { rcu: number; wcu: number; indexUnits: number } {
  let rcu = 0;
  let wcu = 0;
  let indexUnits = 0;
  for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
    if (c.ReadCapacityUnits !== undefined || c.WriteCapacityUnits !== undefined) {
      rcu += c.ReadCapacityUnits ?? 0;
      wcu += c.WriteCapacityUnits ?? 0;
    } else if (READ_OPS.has(op)) rcu += c.CapacityUnits ?? 0;
    else wcu += c.CapacityUnits ?? 0;
    for (const i of [...Object.values(c.GlobalSecondaryIndexes ?? {}), ...Object.values(c.LocalSecondaryIndexes ?? {})])
      indexUnits += i.CapacityUnits ?? (i.ReadCapacityUnits ?? 0) + (i.WriteCapacityUnits ?? 0);
  }
  return { rcu, wcu, indexUnits };
}

/**
 * A tiny HTTP proxy in front of DynamoDB Local that records each request's X-Amz-Target, timing and consumed
 * capacity. The gateway's SDK client is pointed at it through AWS_ENDPOINT_URL_DYNAMODB. Each request body gets
 * `ReturnConsumedCapacity: "INDEXES"` (the total, and its split by table and index) and the answer's ConsumedCapacity is summed;
 * the answer goes back unchanged (the SDK ignores a field it did not ask for). DynamoDB Local does not check
 * signatures, so the rewritten body passes with the original headers (content-length corrected).
 */
export async function startCountingProxy(upstream: string): Promise<CountingProxy> {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let lastEnd = 0;
  const state: CountingProxy = {
    url: '',
    calls: [],
    recording: false,
    inFlight: 0,
    async idle(quietMs = 30) {
      for (;;) {
        const wait = lastEnd + quietMs - performance.now();
        if (state.inFlight === 0 && wait <= 0) return;
        await new Promise((r) => setTimeout(r, Math.max(2, wait)));
      }
    },
    close: () => Promise.resolve(),
  };
  const server = http.createServer((req, res) => {
    const start = performance.now();
    state.inFlight++;
    const op =
      String(req.headers['x-amz-target'] ?? '?')
        .split('.')
        .pop() ?? '?';
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      let body = Buffer.concat(parts);
      let writes: WrittenItem[] = [];
      if (CAPACITY_OPS.has(op)) {
        try {
          const json = JSON.parse(body.toString('utf8')) as WriteRequest & { ReturnConsumedCapacity?: string };
          if (state.recording) writes = writtenItems(op, json);
          json.ReturnConsumedCapacity = 'INDEXES';
          body = Buffer.from(JSON.stringify(json));
        } catch {
          // not JSON: forward as it came
        }
      }
      const up = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, 'content-length': String(body.length) },
          agent,
        },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          const out: Buffer[] = [];
          upRes.on('data', (d: Buffer) => {
            out.push(d);
            res.write(d);
          });
          upRes.on('end', () => {
            res.end();
            state.inFlight--;
            lastEnd = performance.now();
            if (!state.recording) return;
            let u = { rcu: 0, wcu: 0, indexUnits: 0 };
            try {
              u = units(op, (JSON.parse(Buffer.concat(out).toString('utf8')) as { ConsumedCapacity?: Consumed }).ConsumedCapacity);
            } catch {
              // an empty or non-JSON answer consumed nothing we can count
            }
            state.calls.push({ op, start, end: performance.now(), status: upRes.statusCode ?? 0, ...u, writes });
          });
        },
      );
      up.on('error', (e) => {
        state.inFlight--;
        lastEnd = performance.now();
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(String(e.message));
      });
      up.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((ok) => {
      server.close(() => ok());
      server.closeAllConnections();
      agent.destroy();
    });
  return state;
}
