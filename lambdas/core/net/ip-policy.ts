/**
 * Address and hostname policy for outbound fetches of user-supplied URLs (SSRF guard).
 *
 * Pure functions, no I/O. The policy is "public unicast only": anything that is loopback, unspecified, private,
 * shared (CGNAT), link-local (incl. cloud metadata), unique-local, multicast, reserved, benchmarking,
 * documentation, or an IPv6 form that embeds such an IPv4 address is refused. Unparseable input is refused
 * (fail closed).
 */
import { isIP } from 'node:net';

type AddressCategory =
  | 'invalid'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link-local'
  | 'metadata'
  | 'unique-local'
  | 'site-local'
  | 'multicast'
  | 'reserved'
  | 'broadcast'
  | 'benchmark'
  | 'documentation'
  | 'ietf-special'
  | 'ipv4-compatible'
  | 'not-global-unicast';

export type AddressVerdict =
  | { allowed: true; family: 4 | 6 }
  | { allowed: false; category: AddressCategory; /** For v6 forms embedding a v4 address: that address. */ embedded?: string };

// ---------------------------------------------------------------------------------------------------------------
// Parsing

/** Strict dotted-quad IPv4 → unsigned 32-bit integer; null if not exactly four decimal octets. */
export function parseIPv4(s: string): number | null {
  if (isIP(s) !== 4) return null;
  const parts = s.split('.');
  let n = 0;
  for (const p of parts) n = n * 256 + Number(p);
  return n >>> 0;
}

function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** IPv6 (optionally with a `%zone` suffix or surrounding brackets) → 16 bytes; null if invalid. */
export function parseIPv6(input: string): Uint8Array | null {
  let s = input;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (isIP(s) !== 6) return null;

  const words: number[] = [];
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const toWords = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const groups = part.split(':');
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (g.includes('.')) {
        if (i !== groups.length - 1) return null;
        const v4 = parseIPv4(g);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const head = toWords(halves[0]);
  const tail = halves.length === 2 ? toWords(halves[1]) : [];
  if (head === null || tail === null) return null;
  if (halves.length === 2) {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return null;
    words.push(...head, ...new Array<number>(fill).fill(0), ...tail);
  } else {
    words.push(...head);
  }
  if (words.length !== 8) return null;
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[2 * i] = w >>> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  return bytes;
}

// ---------------------------------------------------------------------------------------------------------------
// IPv4

interface V4Range {
  base: number;
  prefix: number;
  category: AddressCategory;
}

const v4 = (cidr: string, category: AddressCategory): V4Range => {
  const [addr, len] = cidr.split('/');
  const base = parseIPv4(addr);
  if (base === null) throw new Error(`bad CIDR ${cidr}`);
  return { base, prefix: Number(len), category };
};

/** Order matters only for the reported category (more specific first). */
const V4_DENY: V4Range[] = [
  v4('169.254.169.254/32', 'metadata'), // AWS/GCP/Azure instance metadata
  v4('255.255.255.255/32', 'broadcast'),
  v4('0.0.0.0/32', 'unspecified'),
  v4('0.0.0.0/8', 'reserved'), // "this network"
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'shared'), // CGNAT (also Alibaba metadata 100.100.100.200)
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'ietf-special'), // IETF protocol assignments (incl. Oracle metadata 192.0.0.192)
  v4('192.0.2.0/24', 'documentation'), // TEST-NET-1
  v4('192.31.196.0/24', 'ietf-special'), // AS112-v4
  v4('192.52.193.0/24', 'ietf-special'), // AMT
  v4('192.88.99.0/24', 'reserved'), // deprecated 6to4 relay anycast
  v4('192.168.0.0/16', 'private'),
  v4('192.175.48.0/24', 'ietf-special'), // direct delegation AS112
  v4('198.18.0.0/15', 'benchmark'),
  v4('198.51.100.0/24', 'documentation'), // TEST-NET-2
  v4('203.0.113.0/24', 'documentation'), // TEST-NET-3
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved'),
];

function inV4(n: number, r: V4Range): boolean {
  if (r.prefix === 0) return true;
  const mask = r.prefix === 32 ? 0xffffffff : ~((1 << (32 - r.prefix)) - 1) >>> 0;
  return (n & mask) >>> 0 === (r.base & mask) >>> 0;
}

function checkV4(n: number): AddressVerdict {
  for (const r of V4_DENY) if (inV4(n, r)) return { allowed: false, category: r.category };
  return { allowed: true, family: 4 };
}

// ---------------------------------------------------------------------------------------------------------------
// IPv6

/** Does `b` start with the first `bits` bits of `prefix`? */
function hasPrefix(b: Uint8Array, prefix: number[], bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if ((b[byte] & mask) !== ((prefix[byte] ?? 0) & mask)) return false;
  }
  return true;
}

const v4At = (b: Uint8Array, offset: number): number =>
  ((b[offset] << 24) | (b[offset + 1] << 16) | (b[offset + 2] << 8) | b[offset + 3]) >>> 0;

function embeddedVerdict(n: number): AddressVerdict {
  const inner = checkV4(n);
  if (inner.allowed) return { allowed: true, family: 6 };
  return { allowed: false, category: inner.category, embedded: formatIPv4(n) };
}

function checkV6(b: Uint8Array): AddressVerdict {
  const allZeroUpTo = (n: number) => b.subarray(0, n).every((x) => x === 0);

  if (allZeroUpTo(16)) return { allowed: false, category: 'unspecified' };
  if (allZeroUpTo(15) && b[15] === 1) return { allowed: false, category: 'loopback' };
  // ::ffff:a.b.c.d (IPv4-mapped): judge the embedded IPv4 address.
  if (allZeroUpTo(10) && b[10] === 0xff && b[11] === 0xff) return embeddedVerdict(v4At(b, 12));
  // ::ffff:0:a.b.c.d (IPv4-translated, SIIT): never a legitimate destination here.
  if (allZeroUpTo(8) && b[8] === 0xff && b[9] === 0xff && b[10] === 0 && b[11] === 0) {
    const inner = embeddedVerdict(v4At(b, 12));
    return inner.allowed ? { allowed: false, category: 'ietf-special' } : inner;
  }
  // ::a.b.c.d (deprecated IPv4-compatible): refuse outright, report the embedded address when it is bad.
  if (allZeroUpTo(12)) {
    const inner = embeddedVerdict(v4At(b, 12));
    return inner.allowed ? { allowed: false, category: 'ipv4-compatible' } : inner;
  }
  // 64:ff9b::/96 (NAT64 well-known prefix): the embedded IPv4 is the real destination.
  if (hasPrefix(b, [0x00, 0x64, 0xff, 0x9b], 96)) return embeddedVerdict(v4At(b, 12));
  // 64:ff9b:1::/48 (local-use NAT64).
  if (hasPrefix(b, [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48)) return { allowed: false, category: 'ietf-special' };
  // 2002::/16 (6to4): the embedded IPv4 (bits 16..47) must itself be allowed.
  if (hasPrefix(b, [0x20, 0x02], 16)) return embeddedVerdict(v4At(b, 2));

  // AWS IPv6 instance metadata / DNS (inside fd00::/8, reported specifically).
  if (hasPrefix(b, [0xfd, 0x00, 0x0e, 0xc2], 32)) return { allowed: false, category: 'metadata' };
  if (hasPrefix(b, [0xfc], 7)) return { allowed: false, category: 'unique-local' };
  if (hasPrefix(b, [0xfe, 0x80], 10)) return { allowed: false, category: 'link-local' };
  if (hasPrefix(b, [0xfe, 0xc0], 10)) return { allowed: false, category: 'site-local' };
  if (hasPrefix(b, [0xff], 8)) return { allowed: false, category: 'multicast' };
  if (hasPrefix(b, [0x01, 0x00, 0, 0, 0, 0, 0, 0], 64)) return { allowed: false, category: 'reserved' }; // discard-only

  // Everything else outside 2000::/3 (global unicast) is unallocated/reserved.
  if (!hasPrefix(b, [0x20], 3)) return { allowed: false, category: 'not-global-unicast' };

  if (hasPrefix(b, [0x20, 0x01, 0x0d, 0xb8], 32)) return { allowed: false, category: 'documentation' };
  if (hasPrefix(b, [0x3f, 0xff], 20)) return { allowed: false, category: 'documentation' }; // 3fff::/20
  // 2001::/23 IETF protocol assignments: Teredo (2001::/32), benchmarking (2001:2::/48), ORCHID, AS112, ...
  if (hasPrefix(b, [0x20, 0x01, 0x00], 23)) return { allowed: false, category: 'ietf-special' };

  return { allowed: true, family: 6 };
}

// ---------------------------------------------------------------------------------------------------------------
// Public API

/** Classify an IP address string (v4 dotted quad, or v6 with optional brackets/zone). Unparseable → refused. */
export function checkAddress(ip: string): AddressVerdict {
  const n = parseIPv4(ip);
  if (n !== null) return checkV4(n);
  const b = parseIPv6(ip);
  if (b !== null) return checkV6(b);
  return { allowed: false, category: 'invalid' };
}

/** Is this string an IP literal (v4 dotted quad, or v6 with optional brackets)? Returns 4, 6 or 0. */
export function ipLiteralFamily(host: string): 0 | 4 | 6 {
  if (parseIPv4(host) !== null) return 4;
  if (parseIPv6(host) !== null) return 6;
  return 0;
}

/** Cloud metadata services by name. */
const METADATA_HOSTNAMES = ['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal'];

/** Hostnames refused before any DNS lookup: names that designate the local machine or cloud metadata. */
const BLOCKED_HOSTNAMES = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback', ...METADATA_HOSTNAMES]);

/** True for a cloud metadata service's name (any case, with or without a trailing dot). */
export const isMetadataHostname = (host: string): boolean => METADATA_HOSTNAMES.includes(normalizeHostname(host));
const BLOCKED_SUFFIXES = ['.localhost', '.internal', '.local', '.localdomain', '.home.arpa'];

/** Lower-case a hostname and strip one trailing dot (the fully-qualified form resolves identically). */
export function normalizeHostname(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** True for hostnames that must be refused regardless of what they resolve to. */
export function isBlockedHostname(host: string): boolean {
  const h = normalizeHostname(host);
  if (h === '') return true;
  if (BLOCKED_HOSTNAMES.has(h)) return true;
  return BLOCKED_SUFFIXES.some((s) => h.endsWith(s));
}
