/**
 * Which table items each function may touch, by partition-key prefix (the prefixes come from the key builders in
 * table-keys.ts, so they cannot drift from the layout). The stack turns this into each role's IAM statements with
 * `dynamodb:LeadingKeys` conditions (lib/constructs/gateway-function.ts); test/e2e/table-access.test.ts records every
 * key each function writes through the local server and checks it is covered here.
 */
import type { FunctionName } from '../topology.js';
import { type ItemKey, itemKeys } from './table-keys.js';

/** A partition key's prefix: up to and including its first '#', or the whole key when it has none (a singleton). */
function pkPrefix(key: ItemKey | string): string {
  const pk = typeof key === 'string' ? key : key.pk;
  const i = pk.indexOf('#');
  return i < 0 ? pk : pk.slice(0, i + 1);
}

/** Every item's partition-key prefix, by entity. */
export const PK_PREFIX = {
  counter: pkPrefix(itemKeys.counter('x')),
  apiKey: pkPrefix(itemKeys.apiKey('x')),
  keyId: pkPrefix(itemKeys.keyId(1)),
  bootstrap: pkPrefix(itemKeys.bootstrap()),
  health: pkPrefix(itemKeys.health()),
  group: pkPrefix(itemKeys.group(1)),
  groupName: pkPrefix(itemKeys.groupName('x')),
  model: pkPrefix(itemKeys.model(1)),
  modelName: pkPrefix(itemKeys.modelName('x')),
  payment: pkPrefix(itemKeys.payment(1)),
  session: pkPrefix(itemKeys.session(1)),
  sessionPointer: pkPrefix(itemKeys.sessionPointer(1, 'x')),
  thread: pkPrefix(itemKeys.thread(1)),
  charge: pkPrefix(itemKeys.charge('x')),
  stat: pkPrefix(itemKeys.stat('d', 1, 'm')),
  threadCount: pkPrefix(itemKeys.count(1, 'THREADS')),
  sessionCount: pkPrefix(itemKeys.count(1, 'SESSIONS')),
  bot: pkPrefix(itemKeys.bot(1)),
  response: pkPrefix(itemKeys.response('x')),
  responseItem: pkPrefix(itemKeys.responseItem('x')),
  feishuEvent: pkPrefix(itemKeys.feishuEvent(1, 'x')),
  feishuChat: pkPrefix(itemKeys.feishuChatReset(1, 'x')),
} as const;

type Entity = keyof typeof PK_PREFIX;

export interface TableAccess {
  /** Partition-key prefixes the function reads (GetItem, BatchGetItem, ConditionCheckItem); 'all' for any item. */
  reads: readonly Entity[] | 'all';
  /** Whether it queries the table and its indexes (list pages, grant lookups, chat memory). */
  queries: boolean;
  /** Partition-key prefixes it writes (PutItem, UpdateItem, DeleteItem, BatchWriteItem); 'all' for the admin API. */
  writes: readonly Entity[] | 'all';
}

/**
 * The shared authentication path creates the bootstrap admin key's rows when a function happens to serve the first
 * request after a deploy (core/auth/bootstrap.ts): its key, id pointer, singleton and id counter.
 */
const BOOTSTRAP_WRITES = ['apiKey', 'keyId', 'bootstrap', 'counter'] as const satisfies readonly Entity[];

/** One settlement (core/billing/settle.ts): the key's spend, the charge marker, thread, session, stats and counts. */
const SETTLEMENT_WRITES = [
  'apiKey',
  'counter',
  'charge',
  'thread',
  'session',
  'sessionPointer',
  'stat',
  'threadCount',
  'sessionCount',
] as const satisfies readonly Entity[];

export const TABLE_ACCESS: Record<FunctionName, TableAccess> = {
  /** Manages every entity (keys and their grants, models, groups, bots, payments, record deletes). */
  admin: { reads: 'all', queries: true, writes: 'all' },
  /** Answers calls: admission and settlement on the caller's key, records, stored responses. */
  chat: {
    reads: 'all',
    queries: true,
    writes: [...new Set([...BOOTSTRAP_WRITES, ...SETTLEMENT_WRITES, 'response', 'responseItem'] as const)],
  },
  /** Reads the caller's own records; writes only the bootstrap admin key. */
  user: { reads: 'all', queries: true, writes: BOOTSTRAP_WRITES },
  /** Reads its bot and records each event id once: nothing else. */
  feishuWebhook: { reads: ['bot', 'feishuEvent'], queries: false, writes: ['feishuEvent'] },
  /** Answers one event: claims it, keeps the chat's memory and settles the bot key's call. */
  feishuWorker: { reads: 'all', queries: true, writes: [...new Set([...SETTLEMENT_WRITES, 'feishuEvent', 'feishuChat'] as const)] },
  /** Applies settlements that failed in-line. */
  settle: { reads: 'all', queries: false, writes: SETTLEMENT_WRITES },
};

/** The IAM `dynamodb:LeadingKeys` patterns of some entities (a singleton key matches only itself). */
export function leadingKeyPatterns(entities: readonly Entity[]): string[] {
  return [...new Set(entities.map((e) => (PK_PREFIX[e].endsWith('#') ? `${PK_PREFIX[e]}*` : PK_PREFIX[e])))].sort();
}
