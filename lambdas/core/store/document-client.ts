import { randomUUID } from 'node:crypto';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClientCommand } from '@aws-sdk/lib-dynamodb';
import { marshall, type marshallOptions, unmarshall, type unmarshallOptions } from '@aws-sdk/util-dynamodb';
import type { DynamoDbWire, WireOutput } from './dynamodb-wire.js';

/**
 * The document layer over the store's DynamoDB wire: callers build lib-dynamodb's commands (GetCommand, PutCommand,
 * TransactWriteCommand…) with plain JavaScript values, and this marshals their input, sends the operation each one
 * wraps (dynamodb-wire.ts: the SDK's configuration, retries and error shapes, without its per-call middleware), and
 * unmarshals its output — what DynamoDBDocumentClient does over a DynamoDBClient. The fields each command marshals are
 * lib-dynamodb's own (its key nodes), so the two layers marshal alike; test/unit/store/document-client.test.ts pins
 * that they put the same JSON on the wire and hand back the same values, for every command kind the store sends.
 */
type KeyNodes = Record<string, unknown> | unknown[] | null;

/** What this layer reads of a lib-dynamodb command: fields that the library declares protected, read as data. */
interface CommandParts {
  input: object;
  inputKeyNodes: KeyNodes;
  outputKeyNodes: KeyNodes;
  clientCommand: { constructor: unknown };
}

/** Any lib-dynamodb command. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the base-layer type parameters are not ours to name
type DocumentCommand = DynamoDBDocumentClientCommand<any, any, any, any, any>;

/** A command's output type, as its own (internal) handler declares it: GetCommand → GetCommandOutput. */
type OutputOf<C extends DocumentCommand> = Awaited<ReturnType<ReturnType<C['resolveMiddleware']>>>['output'];

/** The DynamoDB operation each wrapped command class names (by class, not by name: bundles may rename classes). */
const OPERATIONS = new Map<unknown, string>([
  [GetItemCommand, 'GetItem'],
  [PutItemCommand, 'PutItem'],
  [UpdateItemCommand, 'UpdateItem'],
  [DeleteItemCommand, 'DeleteItem'],
  [QueryCommand, 'Query'],
  [ScanCommand, 'Scan'],
  [BatchGetItemCommand, 'BatchGetItem'],
  [BatchWriteItemCommand, 'BatchWriteItem'],
  [TransactGetItemsCommand, 'TransactGetItems'],
  [TransactWriteItemsCommand, 'TransactWriteItems'],
]);

export interface TranslateOptions {
  marshallOptions: marshallOptions;
  unmarshallOptions: unmarshallOptions;
}

/** One wire call as middleware sees it: the operation's input in wire form; its output as DynamoDB answered. */
type Handler = (args: { input: Record<string, unknown> }) => Promise<{ output: WireOutput }>;
/** The SDK's middleware shape, for the few that wrap the store's calls (fail-closed faults, tests' observers). */
export type StoreMiddleware = (next: Handler, context: { commandName: string }) => Handler;
interface MiddlewareOptions {
  name: string;
  /** As the SDK orders its steps: initialize runs outermost, deserialize innermost; same step, first added outside. */
  step?: 'initialize' | 'serialize' | 'build' | 'finalizeRequest' | 'deserialize';
  priority?: 'high' | 'normal' | 'low';
}
const STEPS = ['initialize', 'serialize', 'build', 'finalizeRequest', 'deserialize'];

export class DocumentClient {
  private readonly marshallOptions: marshallOptions;
  private readonly unmarshallOptions: unmarshallOptions;
  private middleware: Array<{ fn: StoreMiddleware; options: MiddlewareOptions }> = [];

  constructor(
    readonly wire: DynamoDbWire,
    options: TranslateOptions,
  ) {
    // lib-dynamodb's own defaults for values marshalled one attribute at a time.
    this.marshallOptions = { convertTopLevelContainer: true, ...options.marshallOptions };
    this.unmarshallOptions = { convertWithoutMapWrapper: true, ...options.unmarshallOptions };
  }

  /** Middleware around every call (table.ts maps store faults there; tests observe or fault the calls). */
  readonly middlewareStack = {
    add: (fn: StoreMiddleware, options: MiddlewareOptions): void => {
      this.middleware.push({ fn, options });
      const rank = (o: MiddlewareOptions) => STEPS.indexOf(o.step ?? 'initialize');
      this.middleware.sort((a, b) => rank(a.options) - rank(b.options)); // stable: the same step keeps its order
    },
    remove: (name: string): boolean => {
      const before = this.middleware.length;
      this.middleware = this.middleware.filter((m) => m.options.name !== name);
      return this.middleware.length < before;
    },
  };

  async send<C extends DocumentCommand>(command: C): Promise<OutputOf<C>> {
    const parts = command as unknown as CommandParts;
    const operation = OPERATIONS.get(parts.clientCommand.constructor);
    if (!operation) throw new Error(`the store's document layer does not send ${String((command as object).constructor.name)}`);
    const input = pick(parts.input, parts.inputKeyNodes as Record<string, KeyNodes>, (v) => marshall(v, this.marshallOptions)) as Record<
      string,
      unknown
    >;
    // The SDK's idempotency token of a transaction (one per call, the same over its retries), as the SDK fills it.
    if (operation === 'TransactWriteItems' && input.ClientRequestToken === undefined) input.ClientRequestToken = randomUUID();
    let handler: Handler = async (args) => ({ output: await this.wire.send(operation, args.input) });
    const context = { commandName: `${operation}Command` };
    for (let i = this.middleware.length - 1; i >= 0; i--) handler = this.middleware[i].fn(handler, context);
    const { output } = await handler({ input });
    return pick(output, parts.outputKeyNodes as Record<string, KeyNodes>, (v) => unmarshall(v as never, this.unmarshallOptions));
  }

  destroy(): void {
    this.wire.destroy();
  }
}

/**
 * lib-dynamodb's key-node walk. `nodes` name the parts of a value that `fn` applies to: null → the value itself;
 * `{}` or `[]` → each member of an object or array; `{ '*': n }` → each member, by n; `{ a: n, … }` → the named
 * members by their nodes, the rest copied. Functions are dropped, as the library drops them.
 */
function walk(obj: unknown, nodes: KeyNodes, fn: (v: unknown) => unknown): unknown {
  if (obj === undefined) return undefined;
  if (nodes === null) return fn(obj);
  const names = Object.keys(nodes);
  if (names.length === 0) return eachMember(obj, (v) => walk(v, null, fn), false);
  if (names.length === 1 && names[0] === '*') return eachMember(obj, (v) => walk(v, (nodes as Record<string, KeyNodes>)['*'], fn), true);
  return pick(obj, nodes as Record<string, KeyNodes>, fn);
}

/** A copy of `obj` with the members `nodes` name walked (a command's input or output, at its top level). */
function pick(obj: unknown, nodes: Record<string, KeyNodes>, fn: (v: unknown) => unknown): unknown {
  const src = obj as Record<string, unknown>;
  let out: Record<string, unknown>;
  if (Array.isArray(obj)) out = obj.filter((v) => typeof v !== 'function') as unknown as Record<string, unknown>;
  else {
    out = {};
    for (const [k, v] of Object.entries(src)) if (typeof v !== 'function') out[k] = v;
  }
  for (const [name, child] of Object.entries(nodes)) {
    if (typeof src[name] === 'function') continue;
    const value = walk(src[name], child, fn);
    if (value !== undefined && typeof value !== 'function') out[name] = value;
  }
  return out;
}

/** `fn` over each member (functions skipped); an undefined result is dropped from an object unless `keepUndefined`. */
function eachMember(obj: unknown, fn: (v: unknown) => unknown, keepUndefined: boolean): unknown {
  if (Array.isArray(obj)) return obj.filter((v) => typeof v !== 'function').map(fn);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((obj ?? {}) as Record<string, unknown>)) {
    if (typeof v === 'function') continue;
    const value = fn(v);
    if (keepUndefined || (value !== undefined && typeof value !== 'function')) out[k] = value;
  }
  return out;
}
