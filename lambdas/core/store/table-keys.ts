/**
 * Every key of the single table — item keys (pk/sk), index keys (gsiNpk/gsiNsk) and the index partitions lists read
 * — built here and nowhere else. The layout is documented in docs/data-model.md; a new entity adds its builders here.
 * Ids in sort keys are zero-padded so that string order is numeric order.
 */
export interface ItemKey {
  pk: string;
  sk: string;
}

type IndexName = 'gsi1' | 'gsi2' | 'gsi3';

/**
 * A partition a list reads: of an index, or of the table itself (`table`: its pk/sk). Items every call writes
 * (threads, statistics, counters, sessions) are keyed straight into the sharded partitions the global lists read,
 * so writing one costs no index write for that list (docs/data-model.md, "Capacity").
 */
export interface IndexPartition {
  index: IndexName | 'table';
  pk: string;
}

/** The key attributes of a partition's items: `pk`/`sk` for the table, `gsiNpk`/`gsiNsk` for an index. */
export function keyNames(index: IndexPartition['index']): { pk: string; sk: string } {
  return index === 'table' ? { pk: 'pk', sk: 'sk' } : { pk: `${index}pk`, sk: `${index}sk` };
}

/** Zero-padded decimal so that string order is numeric order in sort keys. */
export function pad(n: number): string {
  return String(n).padStart(12, '0');
}

/**
 * Partitions every call writes to are split over this many shards (by id), so no single partition takes the whole
 * gateway's write rate: threads, sessions, daily statistics and record counters, each keyed straight into its shard.
 * A list over everything reads all shards and merges them (docs/data-model.md, "Capacity").
 */
const LIST_SHARDS = 8;
const shard = (id: number) => id % LIST_SHARDS;
const shards = <T>(f: (s: number) => T): T[] => Array.from({ length: LIST_SHARDS }, (_, s) => f(s));

export type Grantee = { kind: 'group'; id: number } | { kind: 'key'; id: number };
export type CountKind = 'THREADS' | 'SESSIONS';
const countsPartition = (kind: CountKind) => `${kind.slice(0, -1)}COUNTS`;

/** Prefix of a grantee partition's grant items (`GRANT#MODEL#<model id>`). */
export const GRANT_SK_PREFIX = 'GRANT#MODEL#';
/** Prefix of a model partition's reverse grant items (`GRANTEE#GROUP#<id>` / `GRANTEE#KEY#<id>`). */
export const GRANTEE_SK_PREFIX = 'GRANTEE#';

export const itemKeys = {
  counter: (entity: string): ItemKey => ({ pk: `COUNTER#${entity}`, sk: 'COUNTER' }),
  /** An API key, by the SHA-256 of its secret: authentication is one GetItem. */
  apiKey: (hash: string): ItemKey => ({ pk: `APIKEY#${hash}`, sk: 'APIKEY' }),
  /** Public id → hash pointer; also the partition of the key's model grants. */
  keyId: (id: number): ItemKey => ({ pk: `KEYID#${id}`, sk: 'KEYID' }),
  bootstrap: (): ItemKey => ({ pk: 'BOOTSTRAP', sk: 'BOOTSTRAP' }),
  /** Never written: reading it tells whether the store answers (GET /health). */
  health: (): ItemKey => ({ pk: 'HEALTH', sk: 'HEALTH' }),
  group: (id: number): ItemKey => ({ pk: `GROUP#${id}`, sk: 'GROUP' }),
  /** Makes group names unique (409 on a clash), like model names. */
  groupName: (name: string): ItemKey => ({ pk: `GROUPNAME#${name.toLowerCase()}`, sk: 'GROUPNAME' }),
  model: (id: number): ItemKey => ({ pk: `MODEL#${id}`, sk: 'MODEL' }),
  /** Makes model names unique and resolves a request's `model`. */
  modelName: (name: string): ItemKey => ({ pk: `MODELNAME#${name}`, sk: 'MODELNAME' }),
  /** The grantee's own item (what a grant is checked against). */
  grantee: (g: Grantee): ItemKey => (g.kind === 'group' ? itemKeys.group(g.id) : itemKeys.keyId(g.id)),
  /** "Grantee may use model": under the grantee's partition. */
  grant: (g: Grantee, modelId: number): ItemKey => ({ pk: itemKeys.grantee(g).pk, sk: `${GRANT_SK_PREFIX}${pad(modelId)}` }),
  /** The reverse side under the model, so deleting a model finds every grant. */
  reverseGrant: (modelId: number, g: Grantee): ItemKey => ({
    pk: itemKeys.model(modelId).pk,
    sk: `${GRANTEE_SK_PREFIX}${g.kind === 'group' ? 'GROUP' : 'KEY'}#${pad(g.id)}`,
  }),
  payment: (id: number): ItemKey => ({ pk: `PAYMENT#${id}`, sk: 'PAYMENT' }),
  /** In the shard the list of every session reads (`SESSIONS#<id mod 8>`), by id. */
  session: (id: number): ItemKey => ({ pk: `SESSIONS#${shard(id)}`, sk: pad(id) }),
  /** (key, client session id) → session id. */
  sessionPointer: (keyId: number, sessionKey: string): ItemKey => ({ pk: `SESSIONKEY#${keyId}#${sessionKey}`, sk: 'SESSIONKEY' }),
  /** In the shard the list of every thread reads (`THREADS#<id mod 8>`), by id. */
  thread: (id: number): ItemKey => ({ pk: `THREADS#${shard(id)}`, sk: pad(id) }),
  /** Makes a settlement idempotent (TTL). */
  charge: (requestId: string): ItemKey => ({ pk: `CHARGE#${requestId}`, sk: 'CHARGE' }),
  /** Daily usage aggregate of one key and model, in the key's statistics shard, ordered by day. */
  stat: (day: string, keyId: number, model: string): ItemKey => ({
    pk: `STATS#${shard(keyId)}`,
    sk: `${day}#KEY#${keyId}#MODEL#${model}`,
  }),
  /** Exact list totals per key and kind, in the kind's shard of all keys' counters. */
  count: (keyId: number, kind: CountKind): ItemKey => ({ pk: `${countsPartition(kind)}#${shard(keyId)}`, sk: pad(keyId) }),
  bot: (id: number): ItemKey => ({ pk: `BOT#${id}`, sk: 'BOT' }),
  /** A stored Responses API response: its head item (owner, TTL, part count); its body parts share the partition. */
  response: (id: string): ItemKey => ({ pk: `RESPONSE#${id}`, sk: 'RESPONSE' }),
  /** One part of a stored response's compressed body (parts keep every item below DynamoDB's 400 KB). */
  responsePart: (id: string, n: number): ItemKey => ({ pk: `RESPONSE#${id}`, sk: `PART#${String(n).padStart(4, '0')}` }),
  /** An output item of a stored response, by its id (what an `item_reference` names). */
  responseItem: (itemId: string): ItemKey => ({ pk: `RESPONSEITEM#${itemId}`, sk: 'ITEM' }),
  feishuEvent: (botId: number, eventId: string): ItemKey => ({ pk: `FEISHUEVENT#${botId}#${eventId}`, sk: 'EVENT' }),
  feishuChatReset: (botId: number, chatId: string): ItemKey => ({ pk: feishuChatPk(botId, chatId), sk: 'RESET' }),
  feishuChatTurn: (botId: number, chatId: string, at: number, messageId: string): ItemKey => ({
    pk: feishuChatPk(botId, chatId),
    sk: feishuTurnSk(at, messageId),
  }),
};

const feishuChatPk = (botId: number, chatId: string) => `FEISHUCHAT#${botId}#${chatId}`;
const feishuTurnSk = (at: number, messageId: string) => `TURN#${String(at).padStart(13, '0')}#${messageId}`;

/** The sort-key range of a chat's turns from `fromMs` on (for a Query between the two). */
export function feishuTurnRange(botId: number, chatId: string, fromMs: number): { pk: string; from: string; to: string } {
  return { pk: feishuChatPk(botId, chatId), from: feishuTurnSk(fromMs, ''), to: 'TURN#~' };
}

/** Index attributes an item carries, so the lists below can find it. */
export const indexKeys = {
  /** On the key's id pointer item (written only at create and reset), never on the key item every call updates. */
  apiKey: (id: number) => ({ gsi1pk: 'APIKEYS', gsi1sk: pad(id) }),
  group: (id: number) => ({ gsi1pk: 'GROUPS', gsi1sk: pad(id) }),
  model: (id: number) => ({ gsi1pk: 'MODELS', gsi1sk: pad(id) }),
  bot: (id: number) => ({ gsi1pk: 'BOTS', gsi1sk: pad(id) }),
  payment: (id: number, keyId: number) => ({ gsi1pk: 'PAYMENTS', gsi1sk: pad(id), gsi2pk: `PAYMENTS#KEY#${keyId}`, gsi2sk: pad(id) }),
  session: (id: number, keyId: number) => ({ gsi2pk: `SESSIONS#KEY#${keyId}`, gsi2sk: pad(id) }),
  thread: (id: number, keyId: number, sessionId: number | null) => ({
    gsi2pk: `THREADS#KEY#${keyId}`,
    gsi2sk: pad(id),
    ...(sessionId === null ? {} : { gsi3pk: `THREADS#SESSION#${sessionId}`, gsi3sk: pad(id) }),
  }),
};

/** The index partitions lists read (each the partition the matching indexKeys builder writes). */
export const partitions = {
  apiKeys: { index: 'gsi1', pk: 'APIKEYS' },
  groups: { index: 'gsi1', pk: 'GROUPS' },
  models: { index: 'gsi1', pk: 'MODELS' },
  bots: { index: 'gsi1', pk: 'BOTS' },
  payments: { index: 'gsi1', pk: 'PAYMENTS' },
  paymentsOfKey: (keyId: number): IndexPartition => ({ index: 'gsi2', pk: `PAYMENTS#KEY#${keyId}` }),
  /** Every session, newest first: the merge of the shards. */
  sessions: shards((s): IndexPartition => ({ index: 'table', pk: `SESSIONS#${s}` })),
  sessionsOfKey: (keyId: number): IndexPartition => ({ index: 'gsi2', pk: `SESSIONS#KEY#${keyId}` }),
  /** Every thread, newest first: the merge of the shards. */
  threads: shards((s): IndexPartition => ({ index: 'table', pk: `THREADS#${s}` })),
  threadsOfKey: (keyId: number): IndexPartition => ({ index: 'gsi2', pk: `THREADS#KEY#${keyId}` }),
  threadsOfSession: (sessionId: number): IndexPartition => ({ index: 'gsi3', pk: `THREADS#SESSION#${sessionId}` }),
  stats: shards((s): IndexPartition => ({ index: 'table', pk: `STATS#${s}` })),
  /** The sort-key range of the days from..to (inclusive) in the stats partition. */
  statsRange: (from: string, to: string) => ({ from: `${from}#`, to: `${to}#~` }),
  counts: (kind: CountKind): IndexPartition[] => shards((s) => ({ index: 'table', pk: `${countsPartition(kind)}#${s}` })),
} as const satisfies Record<string, IndexPartition | IndexPartition[] | ((...args: never[]) => unknown)>;
