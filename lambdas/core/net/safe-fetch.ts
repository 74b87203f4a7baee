/**
 * SSRF-guarded fetch of a user-supplied http(s) image URL (Bedrock Converse only accepts image bytes).
 *
 * - http: / https: only, no credentials in the URL, any port.
 * - The host is resolved once (all addresses); if ANY address is disallowed by ./ip-policy.ts the URL is refused.
 *   Literal IPs are judged as they are (node's WHATWG URL parser already canonicalises decimal/octal/hex/short
 *   IPv4 forms to a dotted quad, and IPv6 to its compressed form).
 * - The connection goes to the checked address: node's `lookup` hook returns the validated address, so there is no
 *   second resolution (no DNS rebinding). Host header and TLS SNI keep the original hostname.
 * - Redirects are followed manually (default at most 3), each hop re-validated from scratch.
 * - Total time cap (default 10 s, includes DNS), byte cap (default 10 MiB), 2xx only, png/jpeg/gif/webp only.
 * - Every refusal is a 400 GatewayError (param 'messages'); the URL itself never appears in messages.
 *
 * Operator allowlist: IMAGE_FETCH_ALLOW_HOSTS (config.ts) (comma-separated `host` or `host:port`, IPv6 as `[::1]:8080`)
 * plus `opts.allowHosts`. An allow-listed host skips the hostname/address policy (for internal image servers);
 * scheme/credential checks and all caps still apply, and the connection is still pinned to the resolved address.
 */
import { promises as dnsPromises } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { config } from '../config.js';
import { IMAGE_TYPES, sniffImageType } from '../content/media.js';
import { errors, GatewayError } from '../errors.js';
import { checkAddress, ipLiteralFamily, isBlockedHostname, normalizeHostname, parseIPv6 } from './ip-policy.js';

/** A fetched image: its bytes and their sniffed media type. */
export interface FetchedImage {
  bytes: Uint8Array;
  mediaType: string;
}

interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a hostname to all of its addresses (default: dns.lookup with `all: true`). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface SafeFetchOptions {
  /** Total time budget in ms, DNS and redirects included. Default 10 000. */
  timeoutMs?: number;
  /** Largest accepted body in bytes. Default 10 MiB. */
  maxBytes?: number;
  /** Redirects followed at most. Default 3. */
  maxRedirects?: number;
  /** Injectable resolver (tests). */
  lookup?: HostResolver;
  /** Extra allow-listed `host` / `host:port` entries, added to IMAGE_FETCH_ALLOW_HOSTS. */
  allowHosts?: string[];
  /** Aborts the fetch (e.g. the client went away). */
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
const DEFAULT_MAX_REDIRECTS = 3;
const MAX_URL_LENGTH = 8192;
const USER_AGENT = 'bedrock-gateway-image-fetch/1.0';

// ---------------------------------------------------------------------------------------------------------------
// Configuration

interface AllowEntry {
  host: string;
  /** null → any port. */
  port: string | null;
}

/** Parses `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address; host canonicalised like URLs are. */
export function parseAllowEntry(raw: string): AllowEntry | null {
  const e = raw.trim().toLowerCase();
  if (e === '') return null;
  let host: string;
  let port: string | null = null;
  let m: RegExpExecArray | null;
  if ((m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(e))) {
    host = m[1];
    port = m[2] ?? null;
  } else if ((m = /^([^:]+):(\d{1,5})$/.exec(e))) {
    host = m[1];
    port = m[2];
  } else if (!e.includes(':')) {
    host = e;
  } else if (parseIPv6(e) !== null) {
    host = e;
  } else {
    return null;
  }
  try {
    const u = new URL(`http://${host.includes(':') ? `[${host}]` : host}/`);
    host = normalizeHostname(u.hostname);
  } catch {
    return null;
  }
  if (port !== null) {
    const p = Number(port);
    if (p > 65535) return null;
    port = String(p);
  }
  return { host, port };
}

const effectivePort = (u: URL): string => u.port || (u.protocol === 'https:' ? '443' : '80');

function isAllowListed(u: URL, entries: AllowEntry[]): boolean {
  const host = normalizeHostname(u.hostname);
  const port = effectivePort(u);
  return entries.some((e) => e.host === host && (e.port === null || e.port === port));
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

const bad = (message: string) => errors.badRequest(message, 'messages', 'invalid_image_url');

/** URL without credentials, query or fragment: safe to log. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.length > 200 ? `${u.pathname.slice(0, 200)}…` : u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}

function parseImageUrl(raw: string, base?: URL): URL {
  if (raw.length > MAX_URL_LENGTH) throw bad('image URL is too long');
  let u: URL;
  try {
    u = base ? new URL(raw, base) : new URL(raw);
  } catch {
    throw bad(base ? 'image URL redirected to an invalid URL' : 'image URL is not a valid URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw bad(base ? 'image URL redirected to a non-http(s) URL' : 'image URL must use http or https');
  }
  if (u.username !== '' || u.password !== '') throw bad('image URL must not contain credentials');
  if (u.hostname === '') throw bad('image URL has no host');
  return u;
}

const defaultResolver: HostResolver = async (hostname) => {
  const res = await dnsPromises.lookup(hostname, { all: true, verbatim: true });
  return res.map((r) => ({ address: r.address, family: r.family === 6 ? 6 : 4 }));
};

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // The reason is what abort() was given (a FetchTimeout, or the outer signal's reason), read by the caller.
    const reason = () => (signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) {
      reject(reason());
      return;
    }
    const onAbort = () => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** Validates the host of `u` and returns the one address to connect to. */
async function resolveTarget(u: URL, allow: AllowEntry[], resolver: HostResolver, signal: AbortSignal): Promise<ResolvedAddress> {
  const host = normalizeHostname(u.hostname);
  const allowListed = isAllowListed(u, allow);
  const literal = ipLiteralFamily(host);
  if (literal !== 0) {
    if (!allowListed && !checkAddress(host).allowed) {
      throw bad('image URL points to a private or loopback address and is not allowed');
    }
    return { address: host, family: literal };
  }
  if (!allowListed && isBlockedHostname(host)) throw bad('image URL host is not allowed');

  let addrs: ResolvedAddress[];
  try {
    addrs = await raceAbort(resolver(host), signal);
  } catch (e) {
    if (signal.aborted) throw e;
    throw bad('could not resolve the image URL host');
  }
  if (!Array.isArray(addrs) || addrs.length === 0) throw bad('could not resolve the image URL host');
  for (const a of addrs) {
    const fam = typeof a?.address === 'string' ? ipLiteralFamily(a.address) : 0;
    if (fam === 0) throw bad('could not resolve the image URL host');
    if (!allowListed && !checkAddress(a.address).allowed) {
      throw bad('image URL resolves to a private or loopback address and is not allowed');
    }
  }
  const first = addrs[0];
  return { address: normalizeHostname(first.address), family: ipLiteralFamily(first.address) === 6 ? 6 : 4 };
}

/** Sends one GET to `u`, connecting only to `target`. Resolves with the response head. */
function openResponse(u: URL, target: ResolvedAddress, signal: AbortSignal): Promise<http.IncomingMessage> {
  const host = normalizeHostname(u.hostname);
  const isHttps = u.protocol === 'https:';
  // Node calls this instead of DNS for non-literal hosts; it only ever returns the address we validated.
  const pinnedLookup: LookupFunction = (_hostname, options, callback) => {
    if ((options as { all?: boolean } | undefined)?.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const options: https.RequestOptions = {
    protocol: u.protocol,
    host,
    port: Number(effectivePort(u)),
    path: `${u.pathname}${u.search}`,
    method: 'GET',
    headers: {
      host: u.host,
      'user-agent': USER_AGENT,
      accept: 'image/png,image/jpeg,image/gif,image/webp;q=0.9,*/*;q=0.1',
      'accept-encoding': 'identity',
    },
    lookup: pinnedLookup,
    // No pooling: a socket opened under one validation must never serve another request.
    agent: false,
    signal,
  };
  if (isHttps && ipLiteralFamily(host) === 0) options.servername = host;
  return new Promise((resolve, reject) => {
    const req = (isHttps ? https : http).request(options, resolve);
    req.on('error', reject);
    req.end();
  });
}

async function readCapped(res: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      res.destroy();
      throw tooLarge(maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

const tooLarge = (maxBytes: number) => bad(`image is larger than the ${maxBytes}-byte limit`);

const TYPE_ALIASES: Record<string, string> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/x-png': 'image/png',
};
const GENERIC_TYPES = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

/** Content-Type essence, lower-case, aliases folded; '' when absent. */
function declaredMediaType(contentType: string | undefined): string {
  const essence = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return TYPE_ALIASES[essence] ?? essence;
}

function checkDeclaredType(declared: string): void {
  if (GENERIC_TYPES.has(declared)) return;
  if (!(IMAGE_TYPES as readonly string[]).includes(declared)) {
    const shown = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(declared) ? declared : 'unknown';
    throw bad(`image URL returned unsupported content type '${shown}'; allowed: png, jpeg, gif, webp`);
  }
}

/**
 * Final media type: the declared type must be an allowed image type or generic (absent / octet-stream), and the
 * bytes must carry a png/jpeg/gif/webp signature; the sniffed type wins over a mislabelled declared one.
 */
function decideMediaType(declared: string, bytes: Uint8Array): string {
  checkDeclaredType(declared);
  const sniffed = sniffImageType(bytes);
  if (sniffed === null) throw bad('image URL did not return a png, jpeg, gif or webp image');
  return sniffed;
}

class FetchTimeout extends Error {}

function describeNetworkError(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{2,64}$/.test(code) ? code : 'network error';
}

// ---------------------------------------------------------------------------------------------------------------
// Entry point

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function fetchImage(url: string, opts: SafeFetchOptions = {}): Promise<FetchedImage> {
  const env = config().imageFetch;
  const timeoutMs = opts.timeoutMs ?? env.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? env.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxRedirects = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const resolver = opts.lookup ?? defaultResolver;
  const allow = [...env.allowHosts, ...(opts.allowHosts ?? [])].map(parseAllowEntry).filter((e): e is AllowEntry => e !== null);

  let current = parseImageUrl(url);

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new FetchTimeout('timeout')), timeoutMs);
  const onOuterAbort = () => controller.abort(opts.signal?.reason);
  if (opts.signal?.aborted) controller.abort(opts.signal.reason);
  else opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const signal = controller.signal;

  try {
    for (let hop = 0; ; hop++) {
      const target = await resolveTarget(current, allow, resolver, signal);
      const res = await openResponse(current, target, signal);
      const status = res.statusCode ?? 0;

      if (REDIRECTS.has(status) && typeof res.headers.location === 'string' && res.headers.location !== '') {
        res.destroy();
        if (hop >= maxRedirects) throw bad(`image URL redirected more than ${maxRedirects} times`);
        current = parseImageUrl(res.headers.location, current);
        continue;
      }
      if (status < 200 || status > 299) {
        res.destroy();
        throw bad(`could not fetch image: HTTP ${status}`);
      }

      const encoding = (res.headers['content-encoding'] ?? '').trim().toLowerCase();
      if (encoding !== '' && encoding !== 'identity') {
        res.destroy();
        throw bad('image URL returned an unsupported content-encoding');
      }
      const declared = declaredMediaType(res.headers['content-type']);
      try {
        checkDeclaredType(declared);
      } catch (e) {
        res.destroy();
        throw e;
      }
      const lengthHeader = res.headers['content-length'];
      if (lengthHeader !== undefined && /^\d+$/.test(lengthHeader) && Number(lengthHeader) > maxBytes) {
        res.destroy();
        throw tooLarge(maxBytes);
      }

      const body = await readCapped(res, maxBytes);
      const mediaType = decideMediaType(declared, body);
      return { bytes: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), mediaType };
    }
  } catch (e) {
    if (e instanceof GatewayError) throw e;
    if (signal.reason instanceof FetchTimeout) throw bad(`timed out fetching image after ${timeoutMs} ms`);
    if (signal.aborted) throw bad('image fetch was aborted');
    throw bad(`could not fetch image: ${describeNetworkError(e)}`);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
}
