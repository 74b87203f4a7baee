import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClientCommand } from '@aws-sdk/lib-dynamodb';
import { marshall, type marshallOptions, unmarshall, type unmarshallOptions } from '@aws-sdk/util-dynamodb';

/**
 * The document layer over one DynamoDBClient: callers build lib-dynamodb's commands (GetCommand, PutCommand,
 * TransactWriteCommand…) with plain JavaScript values, and this marshals their input, sends the DynamoDB command each
 * one wraps, and unmarshals its output — what DynamoDBDocumentClient does, at a lower cost per call.
 *
 * Why not DynamoDBDocumentClient itself: it resolves a fresh middleware stack on every call (its marshalling is a
 * middleware added to each command), and it cannot use the SDK's `cacheMiddleware`, since its resolved handler is
 * bound to the first command it ever sent. Here the base client caches its handler per command class, and marshalling
 * is a plain function call. `npm run bench` (the cost-per-call figures) and test/unit/store/document-client.test.ts
 * measure and pin the difference; the fields each command marshals are lib-dynamodb's own (its key nodes), so the two
 * layers marshal alike.
 */
type KeyNodes = Record<string, unknown> | unknown[] | null;

/** What this layer reads of a lib-dynamodb command: fields that the library declares protected, read as data. */
interface CommandParts {
  input: object;
  inputKeyNodes: KeyNodes;
  outputKeyNodes: KeyNodes;
  clientCommand: { constructor: new (input: object) => object };
}

/** Any lib-dynamodb command. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the base-layer type parameters are not ours to name
type DocumentCommand = DynamoDBDocumentClientCommand<any, any, any, any, any>;

/** A command's output type, as its own (internal) handler declares it: GetCommand → GetCommandOutput. */
type OutputOf<C extends DocumentCommand> = Awaited<ReturnType<ReturnType<C['resolveMiddleware']>>>['output'];

export interface TranslateOptions {
  marshallOptions: marshallOptions;
  unmarshallOptions: unmarshallOptions;
}

export class DocumentClient {
  private readonly marshallOptions: marshallOptions;
  private readonly unmarshallOptions: unmarshallOptions;

  constructor(
    readonly base: DynamoDBClient,
    options: TranslateOptions,
  ) {
    // lib-dynamodb's own defaults for values marshalled one attribute at a time.
    this.marshallOptions = { convertTopLevelContainer: true, ...options.marshallOptions };
    this.unmarshallOptions = { convertWithoutMapWrapper: true, ...options.unmarshallOptions };
  }

  /**
   * The base client's middleware (tests observe or fault the wire calls there). A middleware added after the first
   * calls applies to the next ones: adding one drops the handlers the base client has cached (its `handlers` field,
   * where the SDK keeps them; test/unit/store/document-client.test.ts fails if that ever stops working).
   */
  get middlewareStack(): DynamoDBClient['middlewareStack'] {
    const stack = this.base.middlewareStack;
    const base = this.base as unknown as { handlers?: unknown };
    const dropCache =
      <A extends unknown[], R>(fn: (...a: A) => R) =>
      (...a: A): R => {
        delete base.handlers;
        return fn(...a);
      };
    return Object.assign(Object.create(stack) as typeof stack, {
      add: dropCache(stack.add.bind(stack)),
      addRelativeTo: dropCache(stack.addRelativeTo.bind(stack)),
      use: dropCache(stack.use.bind(stack)),
      remove: dropCache(stack.remove.bind(stack)),
    });
  }

  async send<C extends DocumentCommand>(command: C): Promise<OutputOf<C>> {
    const parts = command as unknown as CommandParts;
    const Wire = parts.clientCommand.constructor;
    const input = pick(parts.input, parts.inputKeyNodes as Record<string, KeyNodes>, (v) => marshall(v, this.marshallOptions));
    const wire = new Wire(input as object) as Parameters<DynamoDBClient['send']>[0];
    let output: object;
    try {
      output = await this.base.send(wire);
    } finally {
      // The base client keeps the first command of each class with its cached handler: it lets go of its item.
      (wire as { input: object }).input = {};
    }
    return pick(output, parts.outputKeyNodes as Record<string, KeyNodes>, (v) => unmarshall(v as never, this.unmarshallOptions));
  }

  destroy(): void {
    this.base.destroy();
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
