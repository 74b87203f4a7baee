import { randomBytes } from 'node:crypto';
import { type DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isSealed,
  kmsKeyProvider,
  localKeyProvider,
  openSecret,
  overrideKeyProvider,
  sealSecret,
} from '../../../lambdas/core/store/secret-envelope.js';

const SECRET = 'app-secret-0123456789abcdef';
const CONTEXT = { purpose: 'feishu-bot-secret', bot: '7', field: 'appSecret' };

afterEach(() => overrideKeyProvider(undefined));

describe('envelope encryption of stored secrets (local key provider)', () => {
  it('seals to an opaque value that holds no trace of the secret, and opens back', async () => {
    overrideKeyProvider(localKeyProvider(randomBytes(32)));
    const sealed = await sealSecret(SECRET, CONTEXT);
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).toMatch(/^env1:local:[\w-]+:[\w-]+:[\w-]+$/);
    expect(sealed).not.toContain(SECRET);
    expect(sealed).not.toContain(Buffer.from(SECRET).toString('base64url').slice(0, 12));
    expect(await openSecret(sealed, CONTEXT)).toBe(SECRET);
    // a fresh data key and IV every time
    expect(await sealSecret(SECRET, CONTEXT)).not.toBe(sealed);
  });

  it('does not open under another context (bot or field), another master key, or when tampered with', async () => {
    const master = randomBytes(32);
    overrideKeyProvider(localKeyProvider(master));
    const sealed = await sealSecret(SECRET, CONTEXT);
    await expect(openSecret(sealed, { ...CONTEXT, bot: '8' })).rejects.toMatchObject({ status: 503 });
    await expect(openSecret(sealed, { ...CONTEXT, field: 'encryptKey' })).rejects.toMatchObject({ status: 503 });
    const parts = sealed.split(':');
    const flipped = Buffer.from(parts[4], 'base64url');
    flipped[0] ^= 1;
    await expect(openSecret([...parts.slice(0, 4), flipped.toString('base64url')].join(':'), CONTEXT)).rejects.toThrow();
    overrideKeyProvider(localKeyProvider(randomBytes(32)));
    await expect(openSecret(sealed, CONTEXT)).rejects.toMatchObject({ status: 503 });
    overrideKeyProvider(localKeyProvider(master));
    expect(await openSecret(sealed, CONTEXT)).toBe(SECRET);
  });

  it('refuses a value sealed by another provider, and what is not sealed at all', async () => {
    overrideKeyProvider(localKeyProvider(randomBytes(32)));
    const sealed = await sealSecret(SECRET, CONTEXT);
    overrideKeyProvider(kmsKeyProvider('alias/x', { send: async () => ({}) } as unknown as KMSClient));
    await expect(openSecret(sealed, CONTEXT)).rejects.toThrow(/sealed by the 'local' key provider/);
    await expect(openSecret('plain text', CONTEXT)).rejects.toThrow(/not a sealed secret/);
    expect(isSealed(SECRET)).toBe(false);
  });
});

describe('KMS key provider', () => {
  it('asks KMS for a data key and to decrypt it, with the context as encryption context; opened values are cached', async () => {
    const calls: Array<{ name: string; input: Record<string, unknown> }> = [];
    const wrappedBy = new Map<string, Buffer>();
    const client = {
      send: async (command: GenerateDataKeyCommand | DecryptCommand) => {
        calls.push({ name: command.constructor.name, input: command.input as unknown as Record<string, unknown> });
        if (command instanceof GenerateDataKeyCommand) {
          const plaintext = randomBytes(32);
          const blob = randomBytes(48);
          wrappedBy.set(blob.toString('hex'), plaintext);
          return { Plaintext: new Uint8Array(plaintext), CiphertextBlob: new Uint8Array(blob) };
        }
        const key = wrappedBy.get(Buffer.from(command.input.CiphertextBlob!).toString('hex'));
        if (!key) throw new Error('InvalidCiphertextException');
        return { Plaintext: new Uint8Array(key) };
      },
    } as unknown as KMSClient;
    overrideKeyProvider(kmsKeyProvider('arn:aws:kms:us-east-1:111122223333:key/abc', client));
    const sealed = await sealSecret(SECRET, CONTEXT);
    expect(sealed.startsWith('env1:kms:')).toBe(true);
    expect(calls).toEqual([
      {
        name: 'GenerateDataKeyCommand',
        input: { KeyId: 'arn:aws:kms:us-east-1:111122223333:key/abc', KeySpec: 'AES_256', EncryptionContext: CONTEXT },
      },
    ]);
    expect(await openSecret(sealed, CONTEXT)).toBe(SECRET);
    expect(await openSecret(sealed, CONTEXT)).toBe(SECRET);
    expect(calls.map((c) => c.name)).toEqual(['GenerateDataKeyCommand', 'DecryptCommand']);
    expect(calls[1].input).toMatchObject({ KeyId: 'arn:aws:kms:us-east-1:111122223333:key/abc', EncryptionContext: CONTEXT });
  });

  it('a KMS failure is a retryable 503, never the secret or a 500', async () => {
    const client = { send: async () => Promise.reject(new Error('AccessDeniedException')) } as unknown as KMSClient;
    overrideKeyProvider(kmsKeyProvider('k', client));
    await expect(sealSecret(SECRET, CONTEXT)).rejects.toMatchObject({ status: 503, retryable: true });
  });
});
