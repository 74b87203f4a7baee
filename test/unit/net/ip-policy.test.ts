import { describe, expect, it } from 'vitest';
import { checkAddress, ipLiteralFamily, isBlockedHostname, parseIPv4, parseIPv6 } from '../../../lambdas/core/net/ip-policy.js';

const REFUSED: Array<[string, string]> = [
  // IPv4
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'reserved'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['100.64.0.1', 'shared'],
  ['100.127.255.255', 'shared'],
  ['100.100.100.200', 'shared'],
  ['169.254.169.254', 'metadata'],
  ['169.254.0.1', 'link-local'],
  ['169.254.170.2', 'link-local'],
  ['192.0.0.1', 'ietf-special'],
  ['192.0.0.192', 'ietf-special'],
  ['192.0.2.10', 'documentation'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['198.18.0.1', 'benchmark'],
  ['198.19.255.255', 'benchmark'],
  ['192.88.99.1', 'reserved'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  // IPv6
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['[::1]', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['fc00::1', 'unique-local'],
  ['fd12:3456::1', 'unique-local'],
  ['fd00:ec2::254', 'metadata'],
  ['fd00:ec2::253', 'metadata'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['febf::1', 'link-local'],
  ['fec0::1', 'site-local'],
  ['ff02::1', 'multicast'],
  ['ff0e::1', 'multicast'],
  ['100::1', 'reserved'],
  ['2001:db8::1', 'documentation'],
  ['3fff::1', 'documentation'],
  ['2001::1', 'ietf-special'], // Teredo
  ['2001:2::1', 'ietf-special'], // benchmarking
  ['64:ff9b:1::1', 'ietf-special'],
  ['4000::1', 'not-global-unicast'],
  ['::2', 'reserved'], // embeds 0.0.0.2
  // IPv4-mapped / compatible / translated / NAT64 / 6to4 embedding a bad IPv4
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['0:0:0:0:0:ffff:7f00:0001', 'loopback'],
  ['::ffff:10.1.2.3', 'private'],
  ['::ffff:a9fe:a9fe', 'metadata'],
  ['::ffff:0.0.0.0', 'unspecified'],
  ['::127.0.0.1', 'loopback'],
  ['::7f00:1', 'loopback'],
  ['::8.8.8.8', 'ipv4-compatible'],
  ['::ffff:0:127.0.0.1', 'loopback'],
  ['::ffff:0:8.8.8.8', 'ietf-special'],
  ['64:ff9b::127.0.0.1', 'loopback'],
  ['64:ff9b::a9fe:a9fe', 'metadata'],
  ['64:ff9b::c0a8:101', 'private'],
  ['2002:7f00:1::', 'loopback'],
  ['2002:a9fe:a9fe::1', 'metadata'],
  ['2002:c0a8:0101::1', 'private'],
  // garbage
  ['', 'invalid'],
  ['localhost', 'invalid'],
  ['127.1', 'invalid'],
  ['2130706433', 'invalid'],
  ['0x7f.0.0.1', 'invalid'],
  ['1.2.3.4.5', 'invalid'],
  [':::1', 'invalid'],
];

const ALLOWED = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.216.34',
  '52.94.76.1',
  '172.15.255.255',
  '172.32.0.1',
  '100.63.255.255',
  '100.128.0.1',
  '169.253.255.255',
  '192.167.255.255',
  '198.17.255.255',
  '198.20.0.1',
  '223.255.255.255',
  '2606:4700:4700::1111',
  '2a00:1450:4001:82a::200e',
  '2600:1f18::1',
  '2001:4860:4860::8888',
  '::ffff:8.8.8.8',
  '::ffff:808:808',
  '64:ff9b::808:808',
  '2002:808:808::1',
];

describe('checkAddress', () => {
  it.each(REFUSED)('refuses %s (%s)', (ip, category) => {
    const v = checkAddress(ip);
    expect(v.allowed).toBe(false);
    if (!v.allowed) expect(v.category).toBe(category);
  });

  it.each(ALLOWED)('allows %s', (ip) => {
    expect(checkAddress(ip)).toMatchObject({ allowed: true });
  });

  it('reports the embedded IPv4 of mapped / NAT64 / 6to4 forms', () => {
    expect(checkAddress('::ffff:7f00:1')).toEqual({ allowed: false, category: 'loopback', embedded: '127.0.0.1' });
    expect(checkAddress('2002:a9fe:a9fe::')).toMatchObject({ embedded: '169.254.169.254' });
  });
});

describe('parsers', () => {
  it('parses IPv4 strictly', () => {
    expect(parseIPv4('127.0.0.1')).toBe(0x7f000001);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIPv4('127.1')).toBeNull();
    expect(parseIPv4('01.2.3.4')).toBeNull();
  });

  it('expands IPv6 forms', () => {
    const hex = (s: string) => Buffer.from(parseIPv6(s)!).toString('hex');
    expect(hex('::1')).toBe('00000000000000000000000000000001');
    expect(hex('::ffff:127.0.0.1')).toBe('00000000000000000000ffff7f000001');
    expect(hex('[fe80::1%25eth0]'.replace('%25', '%'))).toBe('fe800000000000000000000000000001');
    expect(hex('1:2:3:4:5:6:7:8')).toBe('00010002000300040005000600070008');
    expect(parseIPv6('1::2::3')).toBeNull();
    expect(parseIPv6('127.0.0.1')).toBeNull();
  });

  it('ipLiteralFamily', () => {
    expect(ipLiteralFamily('10.0.0.1')).toBe(4);
    expect(ipLiteralFamily('[::1]')).toBe(6);
    expect(ipLiteralFamily('example.com')).toBe(0);
  });
});

describe('isBlockedHostname', () => {
  it.each([
    'localhost',
    'LOCALHOST',
    'localhost.',
    'foo.localhost',
    'a.b.localhost.',
    'metadata.google.internal',
    'metadata.google.internal.',
    'metadata',
    'instance-data',
    'ip-10-0-0-1.ec2.internal',
    'printer.local',
    '',
  ])('blocks %j', (h) => {
    expect(isBlockedHostname(h)).toBe(true);
  });

  it.each(['example.com', 'localhost.example.com', 'images.internal.example.com', 'mylocalhost'])('allows %s', (h) => {
    expect(isBlockedHostname(h)).toBe(false);
  });
});
