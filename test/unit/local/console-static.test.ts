import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isConsolePath, serveConsole } from '../../../local/console-static.js';

/** The local server's /console/* as a browser meets it, against a made-up build and against no build at all. */
let dist: string;
let missing: string;
let server: Server;
let base: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'console-static-'));
  dist = join(dir, 'dist');
  missing = join(dir, 'not-built');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><div id="root"></div>');
  writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
  writeFileSync(join(dist, 'assets', 'index-abc123.css'), 'body{}');
  writeFileSync(join(dir, 'secret.txt'), 'outside the build');
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const root = url.searchParams.has('unbuilt') ? missing : dist;
    if (!isConsolePath(url.pathname)) {
      res.writeHead(404).end();
      return;
    }
    void serveConsole(req, res, url.pathname, root);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((ok) => server.close(ok));
  rmSync(join(dist, '..'), { recursive: true, force: true });
});

describe('the console under /console/', () => {
  it('redirects /console to /console/', async () => {
    const res = await fetch(`${base}/console`, { redirect: 'manual' });
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe('/console/');
  });

  it('serves index.html at /console/, revalidated on every load, with the security headers and a CSP', async () => {
    const res = await fetch(`${base}/console/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(await res.text()).toContain('id="root"');
  });

  it('caches hashed assets for a year as immutable, with their content types', async () => {
    const js = await fetch(`${base}/console/assets/index-abc123.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const css = await fetch(`${base}/console/assets/index-abc123.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('answers client-side routes with index.html (SPA fallback)', async () => {
    for (const path of ['/console/keys', '/console/threads/12', '/console/my/threads']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await res.text()).toContain('id="root"');
    }
  });

  it('answers a missing file 404 instead of index.html', async () => {
    expect((await fetch(`${base}/console/assets/gone-123.js`)).status).toBe(404);
    expect((await fetch(`${base}/console/favicon.ico`)).status).toBe(404);
  });

  it('tells the console that the APIs are on this origin (config.json)', async () => {
    const res = await fetch(`${base}/console/config.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ apiBase: '', chatBase: '' });
  });

  it('never serves a file outside the build', async () => {
    for (const path of ['/console/..%2fsecret.txt', '/console/%2e%2e/secret.txt', '/console/assets/..%2f..%2fsecret.txt']) {
      const res = await fetch(`${base}${path}`);
      expect(await res.text(), path).not.toContain('outside the build');
    }
    expect((await fetch(`${base}/console/%E0%A4%A`)).status).toBe(400);
  });

  it('refuses other methods', async () => {
    const res = await fetch(`${base}/console/`, { method: 'POST' });
    expect(res.status).toBe(405);
  });

  it('says to run npm run build when there is no build', async () => {
    const res = await fetch(`${base}/console/?unbuilt`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toContain('npm run build');
  });
});
