import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { overrideConfig } from '../../../lambdas/core/config.js';
import { GatewayError } from '../../../lambdas/core/errors.js';
import { type HostResolver, fetchImage, parseAllowEntry, redactUrl } from '../../../lambdas/core/net/safe-fetch.js';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 1, 2, 3]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1]);
const GIF = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1');
const WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.from([26, 0, 0, 0]), Buffer.from('WEBPVP8 ')]);

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

interface TestServer {
  port: number;
  hits: number;
  requests: Array<{ url: string; host: string | undefined }>;
  handler: Handler;
  close(): Promise<void>;
}

/** Dual-stack loopback server (reachable as 127.0.0.1, [::1] and [::ffff:127.0.0.1]) that counts requests. */
async function startServer(handler: Handler): Promise<TestServer> {
  const sockets = new Set<import('node:net').Socket>();
  const state: TestServer = {
    port: 0,
    hits: 0,
    requests: [],
    handler,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    state.hits++;
    state.requests.push({ url: req.url ?? '', host: req.headers.host });
    state.handler(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '::', () => resolve());
  }).catch(
    () =>
      new Promise<void>((resolve) => {
        server.listen(0, '127.0.0.1', () => resolve());
      }),
  );
  state.port = (server.address() as AddressInfo).port;
  return state;
}

const sendImage =
  (body: Buffer, contentType: string | null = 'image/png'): Handler =>
  (_req, res) => {
    if (contentType) res.setHeader('content-type', contentType);
    res.end(body);
  };

async function expect400(p: Promise<unknown>, message?: RegExp): Promise<GatewayError> {
  const err = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  const ge = err as GatewayError;
  expect(ge.status).toBe(400);
  expect(ge.param).toBe('messages');
  if (message) expect(ge.message).toMatch(message);
  return ge;
}

/** A resolver that must never be consulted. */
const noLookup: HostResolver = async (h) => {
  throw new Error(`unexpected DNS lookup of ${h}`);
};

/** Undoes the config override a test made (overrideConfig), after each test. */
let undoConfig: () => void = () => undefined;
let srv: TestServer;
let other: TestServer;

beforeAll(async () => {
  srv = await startServer(sendImage(PNG));
  other = await startServer(sendImage(PNG));
});
afterAll(async () => {
  await srv.close();
  await other.close();
});
afterEach(() => {
  srv.hits = 0;
  srv.requests = [];
  srv.handler = sendImage(PNG);
  other.hits = 0;
  other.handler = sendImage(PNG);
  undoConfig();
  undoConfig = () => undefined;
});

describe('scheme and URL checks', () => {
  it.each([
    'file:///etc/passwd',
    'ftp://example.com/a.png',
    'gopher://example.com/',
    'data:image/png;base64,iVBORw0KGgo=',
    'javascript:alert(1)',
    'ws://example.com/',
  ])('refuses %s', async (url) => {
    await expect400(fetchImage(url, { lookup: noLookup }), /http or https/);
  });

  it('refuses credentials in the URL', async () => {
    await expect400(fetchImage('http://user:pass@example.com/a.png', { lookup: noLookup }), /credentials/);
    await expect400(fetchImage('https://token@example.com/a.png', { lookup: noLookup }), /credentials/);
  });

  it('refuses invalid URLs', async () => {
    await expect400(fetchImage('not a url', { lookup: noLookup }), /not a valid URL/);
    await expect400(fetchImage('http://[::1/', { lookup: noLookup }), /not a valid URL/);
  });
});

describe('address policy (server never contacted)', () => {
  const refusedToLoopbackServer = (port: number) => [
    `http://127.0.0.1:${port}/a.png`,
    `http://127.0.0.2:${port}/a.png`,
    `http://[::1]:${port}/a.png`,
    `http://[::ffff:127.0.0.1]:${port}/a.png`,
    `http://[::ffff:7f00:1]:${port}/a.png`,
    `http://[0:0:0:0:0:ffff:7f00:0001]:${port}/a.png`,
    `http://2130706433:${port}/a.png`, // decimal
    `http://0177.0.0.1:${port}/a.png`, // octal
    `http://0x7f.1:${port}/a.png`, // hex + short
    `http://0x7f000001:${port}/a.png`,
    `http://127.1:${port}/a.png`, // short
    `http://0:${port}/a.png`, // 0.0.0.0
    `http://[::]:${port}/a.png`,
    `http://%31%32%37.0.0.1:${port}/a.png`, // percent-encoded
    `http://localhost:${port}/a.png`,
    `http://LOCALHOST.:${port}/a.png`,
    `http://images.localhost:${port}/a.png`,
  ];

  it('refuses every loopback spelling and never reaches the server', async () => {
    for (const url of refusedToLoopbackServer(srv.port)) {
      await expect400(fetchImage(url, { lookup: noLookup }), /not allowed/);
    }
    expect(srv.hits).toBe(0);
  });

  it.each([
    'http://10.0.0.1/a.png',
    'http://10.255.255.254:8080/a.png',
    'http://172.16.0.1/a.png',
    'http://172.31.1.1/a.png',
    'http://192.168.1.1/a.png',
    'http://100.64.0.1/a.png',
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://[fc00::1]/a.png',
    'http://[fe80::1]/a.png',
    'http://[ff02::1]/a.png',
    'http://[::ffff:169.254.169.254]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://[2002:a9fe:a9fe::1]/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://198.18.0.1/',
    'http://192.0.2.1/',
    'https://2852039166/', // 169.254.169.254 in decimal
  ])('refuses %s before connecting', async (url) => {
    await expect400(fetchImage(url, { lookup: noLookup, timeoutMs: 2000 }), /private or loopback address and is not allowed/);
  });

  it.each(['http://metadata.google.internal/computeMetadata/v1/', 'http://metadata/', 'http://instance-data/latest/'])(
    'refuses metadata hostname %s without DNS',
    async (url) => {
      await expect400(fetchImage(url, { lookup: noLookup }), /host is not allowed/);
    },
  );

  it('refuses a hostname that resolves to a private address', async () => {
    const lookup = vi.fn<HostResolver>(async () => [{ address: '127.0.0.1', family: 4 }]);
    await expect400(
      fetchImage(`http://images.example.test:${srv.port}/a.png`, { lookup }),
      /resolves to a private or loopback address and is not allowed/,
    );
    expect(lookup).toHaveBeenCalledWith('images.example.test');
    expect(srv.hits).toBe(0);
  });

  it('refuses when ANY resolved address is disallowed', async () => {
    const lookup: HostResolver = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.1.2.3', family: 4 },
    ];
    await expect400(fetchImage('http://mixed.example.test/a.png', { lookup }), /private or loopback/);
    const lookup6: HostResolver = async () => [
      { address: '2606:4700::1', family: 6 },
      { address: '::ffff:192.168.0.1', family: 6 },
    ];
    await expect400(fetchImage('http://mixed6.example.test/a.png', { lookup: lookup6 }), /private or loopback/);
  });

  it('refuses unresolvable hosts and garbage resolver answers with 400', async () => {
    await expect400(fetchImage('http://nx.example.test/a.png', { lookup: async () => [] }), /could not resolve/);
    const enotfound: HostResolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    await expect400(fetchImage('http://nx.example.test/a.png', { lookup: enotfound }), /could not resolve/);
    await expect400(
      fetchImage('http://x.example.test/a.png', { lookup: async () => [{ address: 'evil', family: 4 }] }),
      /could not resolve/,
    );
  });

  it('never echoes the query string in errors', async () => {
    const e = await expect400(fetchImage('http://127.0.0.1/a.png?token=SECRET123', { lookup: noLookup }));
    expect(e.message).not.toContain('SECRET123');
    srv.handler = (_q, r) => {
      r.statusCode = 404;
      r.end();
    };
    const e2 = await expect400(
      fetchImage(`http://127.0.0.1:${srv.port}/a.png?sig=SECRET456`, { allowHosts: [`127.0.0.1:${srv.port}`] }),
      /HTTP 404/,
    );
    expect(e2.message).not.toContain('SECRET456');
    expect(redactUrl('https://u:p@h.example:8443/p/a.png?sig=SECRET#frag')).toBe('https://h.example:8443/p/a.png');
  });
});

describe('allow-listed fetches', () => {
  it('fetches bytes and the media type from an allow-listed loopback server', async () => {
    const img = await fetchImage(`http://127.0.0.1:${srv.port}/a.png?x=1`, { allowHosts: [`127.0.0.1:${srv.port}`] });
    expect(Buffer.from(img.bytes)).toEqual(PNG);
    expect(img.mediaType).toBe('image/png');
    expect(srv.hits).toBe(1);
    expect(srv.requests[0].url).toBe('/a.png?x=1');
  });

  it("honours the operator's allowlist (IMAGE_FETCH_ALLOW_HOSTS, config().imageFetch), read per call", async () => {
    const url = `http://127.0.0.1:${srv.port}/a.png`;
    await expect400(fetchImage(url), /not allowed/);
    undoConfig = overrideConfig({
      imageFetch: { allowHosts: ['example.org', `127.0.0.1:${srv.port}`], timeoutMs: undefined, maxBytes: undefined },
    });
    const img = await fetchImage(url);
    expect(img.mediaType).toBe('image/png');
    expect(srv.hits).toBe(1);
  });

  it("honours the operator's byte cap (IMAGE_FETCH_MAX_BYTES); an explicit option wins", async () => {
    const url = `http://127.0.0.1:${srv.port}/a.png`;
    undoConfig = overrideConfig({ imageFetch: { allowHosts: [`127.0.0.1:${srv.port}`], timeoutMs: undefined, maxBytes: PNG.length - 1 } });
    await expect400(fetchImage(url), /larger than the \d+-byte limit/);
    expect((await fetchImage(url, { maxBytes: PNG.length })).bytes).toHaveLength(PNG.length);
  });

  it('host entry without a port allows any port; with a port only that port', async () => {
    await fetchImage(`http://127.0.0.1:${srv.port}/a.png`, { allowHosts: ['127.0.0.1'] });
    await expect400(fetchImage(`http://127.0.0.1:${other.port}/a.png`, { allowHosts: [`127.0.0.1:${srv.port}`] }), /not allowed/);
    expect(other.hits).toBe(0);
  });

  it('allows IPv6 loopback when listed in bracket form', async () => {
    const img = await fetchImage(`http://[::1]:${srv.port}/a.png`, { allowHosts: [`[::1]:${srv.port}`] });
    expect(img.mediaType).toBe('image/png');
  });

  it('connects to the checked address (one resolution) and keeps the Host header', async () => {
    const lookup = vi.fn<HostResolver>(async () => [{ address: '127.0.0.1', family: 4 }]);
    const img = await fetchImage(`http://images.example.test:${srv.port}/cat.png`, {
      lookup,
      allowHosts: ['images.example.test'],
    });
    expect(img.mediaType).toBe('image/png');
    expect(lookup).toHaveBeenCalledTimes(1);
    // images.example.test does not exist in real DNS: the connection used the pinned address.
    expect(srv.requests[0].host).toBe(`images.example.test:${srv.port}`);
  });

  it.each([
    [PNG, 'image/png', 'image/png'],
    [JPEG, 'image/jpeg', 'image/jpeg'],
    [JPEG, 'image/jpg', 'image/jpeg'],
    [GIF, 'image/gif', 'image/gif'],
    [WEBP, 'image/webp', 'image/webp'],
    [JPEG, 'application/octet-stream', 'image/jpeg'],
    [GIF, null, 'image/gif'],
    [JPEG, 'image/png', 'image/jpeg'], // mislabelled: the bytes win
    [WEBP, 'IMAGE/WEBP; charset=binary', 'image/webp'],
  ] as Array<[Buffer, string | null, string]>)('media type: %#', async (body, ct, expected) => {
    srv.handler = sendImage(body, ct);
    const img = await fetchImage(`http://127.0.0.1:${srv.port}/i`, { allowHosts: [`127.0.0.1:${srv.port}`] });
    expect(img.mediaType).toBe(expected);
    expect(Buffer.from(img.bytes)).toEqual(body);
  });

  it.each([
    [Buffer.from('<html>hi</html>'), 'text/html', /unsupported content type 'text\/html'/],
    [PNG, 'text/html', /unsupported content type/],
    [Buffer.from('<svg/>'), 'image/svg+xml', /unsupported content type 'image\/svg\+xml'/],
    [Buffer.from('BM....'), 'image/bmp', /unsupported content type/],
    [Buffer.from('not an image'), 'image/png', /did not return a png, jpeg, gif or webp/],
    [Buffer.from('{}'), 'application/octet-stream', /did not return a png/],
    [Buffer.alloc(0), 'image/png', /did not return a png/],
  ] as Array<[Buffer, string, RegExp]>)('refuses non-image content %#', async (body, ct, msg) => {
    srv.handler = sendImage(body, ct);
    await expect400(fetchImage(`http://127.0.0.1:${srv.port}/i`, { allowHosts: [`127.0.0.1:${srv.port}`] }), msg);
  });

  it('refuses compressed responses', async () => {
    srv.handler = (_q, r) => {
      r.setHeader('content-type', 'image/png');
      r.setHeader('content-encoding', 'gzip');
      r.end(PNG);
    };
    await expect400(fetchImage(`http://127.0.0.1:${srv.port}/i`, { allowHosts: [`127.0.0.1:${srv.port}`] }), /content-encoding/);
  });

  it.each([404, 403, 500, 503])('maps upstream HTTP %i to 400', async (status) => {
    srv.handler = (_q, r) => {
      r.statusCode = status;
      r.end('nope');
    };
    await expect400(
      fetchImage(`http://127.0.0.1:${srv.port}/i`, { allowHosts: [`127.0.0.1:${srv.port}`] }),
      new RegExp(`^could not fetch image: HTTP ${status}$`),
    );
  });

  it('maps connection failures to 400', async () => {
    const closed = await startServer(sendImage(PNG));
    const port = closed.port;
    await closed.close();
    await expect400(fetchImage(`http://127.0.0.1:${port}/i`, { allowHosts: [`127.0.0.1:${port}`] }), /could not fetch image: ECONNREFUSED/);
  });
});

describe('redirects', () => {
  const allowSrv = () => [`127.0.0.1:${srv.port}`];
  const redirectTo =
    (location: string, status = 302): Handler =>
    (_q, r) => {
      r.statusCode = status;
      r.setHeader('location', location);
      r.end();
    };

  it('refuses a redirect to the metadata address', async () => {
    srv.handler = redirectTo('http://169.254.169.254/latest/meta-data/');
    await expect400(
      fetchImage(`http://127.0.0.1:${srv.port}/a.png`, { allowHosts: allowSrv(), lookup: noLookup }),
      /private or loopback address and is not allowed/,
    );
    expect(srv.hits).toBe(1);
  });

  it('refuses a redirect to a non-allow-listed loopback port (that server is never hit)', async () => {
    srv.handler = redirectTo(`http://127.0.0.1:${other.port}/secret`);
    await expect400(fetchImage(`http://127.0.0.1:${srv.port}/a.png`, { allowHosts: allowSrv() }), /not allowed/);
    expect(srv.hits).toBe(1);
    expect(other.hits).toBe(0);
  });

  it('refuses a redirect to a hostname resolving to a private address', async () => {
    srv.handler = redirectTo('http://rebind.example.test/x');
    const lookup: HostResolver = async () => [{ address: '10.0.0.7', family: 4 }];
    await expect400(fetchImage(`http://127.0.0.1:${srv.port}/a.png`, { allowHosts: allowSrv(), lookup }), /private/);
  });

  it.each(['file:///etc/passwd', 'gopher://127.0.0.1/', 'http://user:pw@example.com/'])('refuses a redirect to %s', async (loc) => {
    srv.handler = redirectTo(loc);
    await expect400(fetchImage(`http://127.0.0.1:${srv.port}/a.png`, { allowHosts: allowSrv(), lookup: noLookup }));
  });

  it('follows a relative redirect on an allow-listed server', async () => {
    srv.handler = (q, r) => {
      if (q.url === '/start') return redirectTo('img/final.png?v=2', 301)(q, r);
      sendImage(PNG)(q, r);
    };
    const img = await fetchImage(`http://127.0.0.1:${srv.port}/start`, { allowHosts: allowSrv() });
    expect(img.mediaType).toBe('image/png');
    expect(srv.requests.map((r) => r.url)).toEqual(['/start', '/img/final.png?v=2']);
  });

  it('follows a redirect to another allow-listed server', async () => {
    srv.handler = redirectTo(`http://127.0.0.1:${other.port}/b.png`, 307);
    other.handler = sendImage(GIF, 'image/gif');
    const img = await fetchImage(`http://127.0.0.1:${srv.port}/a.png`, {
      allowHosts: [...allowSrv(), `127.0.0.1:${other.port}`],
    });
    expect(img.mediaType).toBe('image/gif');
    expect(other.hits).toBe(1);
  });

  it('stops after maxRedirects (3 by default)', async () => {
    srv.handler = redirectTo('/loop');
    await expect400(fetchImage(`http://127.0.0.1:${srv.port}/a.png`, { allowHosts: allowSrv() }), /more than 3 times/);
    expect(srv.hits).toBe(4);
    srv.hits = 0;
    await expect400(fetchImage(`http://127.0.0.1:${srv.port}/a.png`, { allowHosts: allowSrv(), maxRedirects: 0 }), /more than 0 times/);
    expect(srv.hits).toBe(1);
  });

  it('accepts exactly 3 redirects', async () => {
    let n = 0;
    srv.handler = (q, r) => (++n <= 3 ? redirectTo(`/hop${n}`)(q, r) : sendImage(JPEG, 'image/jpeg')(q, r));
    const img = await fetchImage(`http://127.0.0.1:${srv.port}/a`, { allowHosts: allowSrv() });
    expect(img.mediaType).toBe('image/jpeg');
  });
});

describe('caps', () => {
  const allow = () => ({ allowHosts: [`127.0.0.1:${srv.port}`] });

  it('refuses bodies over maxBytes announced by content-length', async () => {
    srv.handler = sendImage(Buffer.concat([PNG, Buffer.alloc(2000)]));
    await expect400(fetchImage(`http://127.0.0.1:${srv.port}/big`, { ...allow(), maxBytes: 1000 }), /1000-byte limit/);
  });

  it('refuses chunked bodies once they exceed maxBytes', async () => {
    let written = 0;
    srv.handler = (_q, r) => {
      r.setHeader('content-type', 'image/png');
      r.write(PNG);
      const t = setInterval(() => {
        if (r.destroyed || written > 1_000_000) {
          clearInterval(t);
          r.end();
          return;
        }
        written += 512;
        r.write(Buffer.alloc(512));
      }, 1);
    };
    await expect400(fetchImage(`http://127.0.0.1:${srv.port}/big`, { ...allow(), maxBytes: 4096 }), /4096-byte limit/);
    expect(written).toBeLessThan(1_000_000);
  });

  it('accepts a body of exactly maxBytes', async () => {
    const body = Buffer.concat([PNG, Buffer.alloc(100 - PNG.length)]);
    srv.handler = sendImage(body);
    const img = await fetchImage(`http://127.0.0.1:${srv.port}/ok`, { ...allow(), maxBytes: 100 });
    expect(img.bytes.byteLength).toBe(100);
  });

  it('times out on a server that never answers', async () => {
    srv.handler = () => {
      /* never respond */
    };
    const t0 = Date.now();
    await expect400(fetchImage(`http://127.0.0.1:${srv.port}/hang`, { ...allow(), timeoutMs: 300 }), /timed out .* 300 ms/);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('times out on a body that drips forever', async () => {
    srv.handler = (_q, r) => {
      r.setHeader('content-type', 'image/png');
      r.write(PNG);
      const t = setInterval(() => (r.destroyed ? clearInterval(t) : r.write(Buffer.from([0]))), 20);
    };
    const t0 = Date.now();
    await expect400(fetchImage(`http://127.0.0.1:${srv.port}/drip`, { ...allow(), timeoutMs: 300 }), /timed out/);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('times out on a DNS lookup that never returns', async () => {
    const hang: HostResolver = () => new Promise(() => {});
    const t0 = Date.now();
    await expect400(fetchImage('http://slow-dns.example.test/a.png', { lookup: hang, timeoutMs: 200 }), /timed out/);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('stops when the caller aborts', async () => {
    srv.handler = () => {};
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await expect400(fetchImage(`http://127.0.0.1:${srv.port}/hang`, { ...allow(), signal: ac.signal }), /aborted/);
  });
});

describe('helpers', () => {
  it('parses allowlist entries', () => {
    expect(parseAllowEntry('Images.Example.COM.')).toEqual({ host: 'images.example.com', port: null });
    expect(parseAllowEntry('img.example.com:8080')).toEqual({ host: 'img.example.com', port: '8080' });
    expect(parseAllowEntry('[::1]:80')).toEqual({ host: '::1', port: '80' });
    expect(parseAllowEntry('fd00::5')).toEqual({ host: 'fd00::5', port: null });
    expect(parseAllowEntry('2130706433')).toEqual({ host: '127.0.0.1', port: null });
    expect(parseAllowEntry('host:99999')).toBeNull();
    expect(parseAllowEntry('a:b:c')).toBeNull();
    expect(parseAllowEntry('')).toBeNull();
  });
});
