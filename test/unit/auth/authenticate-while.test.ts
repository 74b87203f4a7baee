/**
 * authenticateWhile(): the key's GetItem is on its way to DynamoDB before the body is validated, so a large body's
 * validation overlaps the lookup instead of delaying it; a bad key still wins over a bad body.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { authenticateWhile, servePresented } from '../../../lambdas/core/auth/authenticate.js';
import { confirmationOf, isUnconfirmed } from '../../../lambdas/core/store/key-cache.js';
import { overrideConfig } from '../../../lambdas/core/config.js';
import { db, tableName } from '../../../lambdas/core/store/table.js';
import { ensureTable } from '../../../local/table.js';

const ADMIN = 'br-auth-while-admin-key-0123456789abcdefgh';
/** GetItem calls that have reached the HTTP handler (the innermost step: their request is being written). */
let handed = 0;

beforeAll(async () => {
  overrideConfig({ adminApiKey: ADMIN });
  await ensureTable(tableName());
  db().middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'GetItemCommand') handed++;
      return next(args);
    },
    { step: 'deserialize', priority: 'low', name: 'countHandedGetItems' },
  );
  await authenticateWhile({ authorization: `Bearer ${ADMIN}` }, () => 1); // the bootstrap admin key exists now
});

describe('authenticateWhile', () => {
  it('validates the body only once the key lookup has been handed to the HTTP layer', async () => {
    const before = handed;
    let seenAtValidation = -1;
    const { key, value } = await authenticateWhile({ authorization: `Bearer ${ADMIN}` }, () => {
      seenAtValidation = handed - before;
      return 'ok';
    });
    expect(seenAtValidation).toBe(1);
    expect(value).toBe('ok');
    expect(key.role).toBe('admin');
  });

  it('a bad key wins over a bad body: 401, not the validation error', async () => {
    const err = await authenticateWhile({ authorization: 'Bearer br-nobody' }, () => {
      throw new Error('bad body');
    }).then(
      () => undefined,
      (e: unknown) => e as { status?: number },
    );
    expect(err?.status).toBe(401);
  });

  it('a good key with a bad body: the validation error', async () => {
    const err = await authenticateWhile({ authorization: `Bearer ${ADMIN}` }, () => {
      throw new Error('bad body');
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toBe('bad body');
  });
});

describe('authenticateWhile under fake timers', () => {
  it('does not wait for a faked timer turn (a test that fakes timers still gets its answer)', async () => {
    vi.useFakeTimers();
    try {
      const { value } = await authenticateWhile({ authorization: `Bearer ${ADMIN}` }, () => 'ok');
      expect(value).toBe('ok');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('servePresented', () => {
  it('a recalled admin key: its confirming read is handed to the HTTP layer before the call is served on it', async () => {
    await authenticateWhile({ authorization: `Bearer ${ADMIN}` }, () => 1); // seen: remembered
    const before = handed;
    let seenAtServe = -1;
    const served = await servePresented(
      { authorization: `Bearer ${ADMIN}` },
      () => 'body',
      async (key, body) => {
        seenAtServe = handed - before;
        expect(isUnconfirmed(key)).toBe(true);
        await confirmationOf(key); // what the call's upstream gate waits for
        expect(isUnconfirmed(key)).toBe(false);
        return `${key.role} ${body}`;
      },
    );
    expect(seenAtServe).toBe(1);
    expect(served).toBe('admin body');
  });
});
