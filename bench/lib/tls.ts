import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throw-away certificate for the bench's TLS simulator, and the trust file handed to NODE_EXTRA_CA_CERTS. */
export interface BenchCert {
  dir: string;
  certFile: string;
  keyFile: string;
  /** PEM file for NODE_EXTRA_CA_CERTS: this certificate, plus whatever NODE_EXTRA_CA_CERTS already named. */
  trustFile: string;
  remove(): void;
}

// A little DER (X.690), enough for one self-signed X.509 v3 certificate.
const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
};
const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const oid = (dotted: string): Buffer => {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const v of rest) {
    const part = [v & 0x7f];
    for (let x = v >> 7; x > 0; x >>= 7) part.unshift((x & 0x7f) | 0x80);
    bytes.push(...part);
  }
  return tlv(0x06, Buffer.from(bytes));
};
const utcTime = (d: Date) => tlv(0x17, Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-:T]/g, '')}Z`));
const name = (cn: string) => seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn)))));
const SHA256_WITH_RSA = seq(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]));

/**
 * A self-signed certificate for 127.0.0.1 / localhost, made here (RSA 2048 and SHA-256, what Amazon's endpoints
 * serve, so a handshake costs about what a real one does; valid one day; basicConstraints CA so that it can be its
 * own trust anchor). Returns a reason instead when it cannot: the bench then skips its TLS rows and says why.
 */
export function makeSelfSignedCert(random: (n: number) => Buffer = randomBytes): BenchCert | { error: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bench-tls-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    // A DER INTEGER is minimal and this one positive: the first byte in 0x40–0x7f, never a leading zero (a random
    // serial starting 0x00 0x00–0x7f is "illegal padding" to OpenSSL, about one run in 256).
    const serial = random(16);
    serial[0] = (serial[0] & 0x3f) | 0x40;
    const now = Date.now();
    const subjectAltName = seq(tlv(0x87, Buffer.from([127, 0, 0, 1])), tlv(0x82, Buffer.from('localhost')));
    const basicConstraints = seq(tlv(0x01, Buffer.from([0xff])));
    const tbs = seq(
      tlv(0xa0, tlv(0x02, Buffer.from([2]))), // v3
      tlv(0x02, serial),
      SHA256_WITH_RSA,
      name('127.0.0.1'),
      seq(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + 86_400_000))),
      name('127.0.0.1'),
      publicKey.export({ type: 'spki', format: 'der' }),
      tlv(
        0xa3,
        seq(
          seq(oid('2.5.29.17'), tlv(0x04, subjectAltName)),
          seq(oid('2.5.29.19'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, basicConstraints)),
        ),
      ),
    );
    const signature = sign('sha256', tbs, privateKey);
    const der = seq(tbs, SHA256_WITH_RSA, tlv(0x03, Buffer.from([0]), signature));
    const pem = `-----BEGIN CERTIFICATE-----\n${(der.toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    const trustFile = join(dir, 'trust.pem');
    writeFileSync(certFile, pem);
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    let trust = pem;
    const previous = process.env.NODE_EXTRA_CA_CERTS;
    if (previous && existsSync(previous)) trust = `${readFileSync(previous, 'utf8').trimEnd()}\n${trust}`;
    writeFileSync(trustFile, trust);
    return { dir, certFile, keyFile, trustFile, remove };
  } catch (e) {
    remove();
    return { error: `could not make a self-signed certificate (${(e as Error).message})` };
  }
}
