import { createCipheriv, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkTimestamp,
  decryptEvent,
  decryptToString,
  encryptEvent,
  FeishuCryptoError,
  signBody,
  verifySignature,
} from '../../../lambdas/core/feishu/crypto.js';

const KEY = 'kEy-0123456789';

describe('decryptEvent / encryptEvent', () => {
  it('decrypts the example from the Feishu documentation', () => {
    expect(decryptToString('P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=', 'test key')).toBe('hello world');
  });

  it('decrypts a vector computed by hand with node:crypto (fixed IV)', () => {
    const iv = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    const plain = JSON.stringify({ challenge: 'abc', token: 'tok', type: 'url_verification', 中文: '✓' });
    const cipher = createCipheriv('aes-256-cbc', createHash('sha256').update(KEY).digest(), iv);
    const encrypt = Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
    expect(decryptEvent(encrypt, KEY)).toEqual(JSON.parse(plain));
    // encryptEvent with the same IV is byte-for-byte what Feishu would send.
    expect(encryptEvent(JSON.parse(plain), KEY, iv)).toBe(encrypt);
  });

  it('round-trips with a random IV', () => {
    const obj = { schema: '2.0', header: { event_id: 'e1' }, event: { text: 'x'.repeat(1000) } };
    const a = encryptEvent(obj, KEY);
    const b = encryptEvent(obj, KEY);
    expect(a).not.toBe(b);
    expect(decryptEvent(a, KEY)).toEqual(obj);
    expect(decryptEvent(b, KEY)).toEqual(obj);
  });

  it('throws a typed error on garbage, wrong key, bad lengths', () => {
    const enc = encryptEvent({ a: 1 }, KEY);
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(FeishuCryptoError);
        return (err as FeishuCryptoError).code;
      }
      throw new Error('did not throw');
    };
    expect(codeOf(() => decryptEvent('%%%not base64%%%', KEY))).toBe('bad_payload');
    expect(codeOf(() => decryptEvent(Buffer.alloc(20).toString('base64'), KEY))).toBe('bad_payload');
    expect(codeOf(() => decryptEvent('', KEY))).toBe('bad_payload');
    expect(['decrypt_failed', 'bad_json']).toContain(codeOf(() => decryptEvent(enc, 'another key')));
    const notJson = encryptEvent('plain text', KEY);
    expect(codeOf(() => decryptEvent(notJson, KEY))).toBe('bad_json');
  });
});

describe('signatures', () => {
  const base = { timestamp: '1700000000', nonce: 'n0nce', encryptKey: KEY, rawBody: '{"encrypt":"abc"}' };

  it('is hex sha256(timestamp + nonce + encryptKey + body)', () => {
    const expected = createHash('sha256')
      .update(base.timestamp + base.nonce + base.encryptKey + base.rawBody)
      .digest('hex');
    expect(signBody(base)).toBe(expected);
    expect(signBody({ ...base, rawBody: Buffer.from(base.rawBody) })).toBe(expected);
  });

  it('verifies good, rejects bad / tampered / malformed', () => {
    const signature = signBody(base);
    expect(verifySignature({ ...base, signature })).toBe(true);
    expect(verifySignature({ ...base, signature: signature.toUpperCase() })).toBe(true);
    expect(verifySignature({ ...base, rawBody: '{"encrypt":"abd"}', signature })).toBe(false);
    expect(verifySignature({ ...base, rawBody: base.rawBody + ' ', signature })).toBe(false);
    expect(verifySignature({ ...base, nonce: 'other', signature })).toBe(false);
    expect(verifySignature({ ...base, timestamp: '1700000001', signature })).toBe(false);
    expect(verifySignature({ ...base, encryptKey: 'x', signature })).toBe(false);
    expect(verifySignature({ ...base, signature: signature.slice(0, 63) })).toBe(false);
    expect(verifySignature({ ...base, signature: 'zz'.repeat(32) })).toBe(false);
    expect(verifySignature({ ...base, signature: undefined })).toBe(false);
  });

  it('checks the timestamp window (header in seconds)', () => {
    const now = 1_700_000_000_000;
    expect(checkTimestamp('1700000000', now)).toBe(true);
    expect(checkTimestamp(String(1_700_000_000 - 7 * 3600), now)).toBe(true);
    expect(checkTimestamp(String(1_700_000_000 - 9 * 3600), now)).toBe(false);
    expect(checkTimestamp(String(1_700_000_000 + 600), now)).toBe(false);
    expect(checkTimestamp('1700000000', now + 301_000, { maxAgeSeconds: 300, maxFutureSeconds: 60 })).toBe(false);
    expect(checkTimestamp('abc', now)).toBe(false);
    expect(checkTimestamp(undefined, now)).toBe(false);
    // milliseconds by mistake look like the far future
    expect(checkTimestamp(String(now), now)).toBe(false);
  });
});
