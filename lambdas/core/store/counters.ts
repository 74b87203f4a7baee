import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from './table.js';
import { itemKeys } from './table-keys.js';

export type CounterName = 'apikey' | 'group' | 'model' | 'payment' | 'session' | 'thread' | 'bot';

/**
 * Ids taken from the counter at a time, per instance. Every call writes a thread: one ADD per call would be a
 * write unit and a round trip per call on one item that takes the whole gateway's call rate. A block is one ADD
 * per this many calls; what an instance leaves unused when it goes is a gap (ids are never reused). Lists order
 * by id, so across instances "newest first" holds to within a block; in one process (npm start) exactly.
 */
const BLOCK: Partial<Record<CounterName, number>> = { thread: 16 };

/** The unused rest of each counter's block in this instance (not a request's state: ids are the instance's). */
const blocks = new Map<CounterName, { next: number; last: number }>();
const refills = new Map<CounterName, Promise<void>>();

/** Next numeric id for an entity: from the instance's block, else one atomic ADD on the counter item. */
export async function nextId(name: CounterName): Promise<number> {
  const size = BLOCK[name] ?? 1;
  if (size === 1) return add(name, 1);
  for (;;) {
    const block = blocks.get(name);
    if (block && block.next <= block.last) return block.next++;
    let refill = refills.get(name);
    if (!refill) {
      refill = add(name, size)
        .then((last) => void blocks.set(name, { next: last - size + 1, last }))
        .finally(() => refills.delete(name));
      refills.set(name, refill);
    }
    await refill;
  }
}

/** Adds `n` to the counter; returns its new value (the last id of the range taken). */
async function add(name: CounterName, n: number): Promise<number> {
  const out = await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: itemKeys.counter(name),
      UpdateExpression: 'ADD #v :n',
      ExpressionAttributeNames: { '#v': 'value' },
      ExpressionAttributeValues: { ':n': n },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return Number(out.Attributes?.value);
}
