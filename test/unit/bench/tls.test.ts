/**
 * The bench's self-signed certificate (bench/lib/tls.ts) is valid DER whatever its random serial: a serial starting
 * with zero bytes once made OpenSSL refuse it ("illegal padding") and crashed a bench run.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeSelfSignedCert } from '../../../bench/lib/tls.js';

describe('the bench certificate', () => {
  it.each([
    ['all zero', 0x00],
    ['all 0xff', 0xff],
  ])('loads with a serial of %s bytes, for 127.0.0.1', (_label, byte) => {
    const cert = makeSelfSignedCert((n) => Buffer.alloc(n, byte));
    if ('error' in cert) throw new Error(cert.error);
    try {
      const x509 = new X509Certificate(readFileSync(cert.certFile));
      expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(x509.serialNumber).toMatch(/^[4-7]/);
    } finally {
      cert.remove();
    }
  });
});
