import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONSOLE_SECURITY_HEADERS, consoleCsp } from '../console/security-headers.js';

/**
 * GET /console and /console/*: the built web console (console/dist) as the stack's CloudFront would serve it.
 * Hashed files under assets/ are cached for a year (their name changes with their content); index.html is
 * revalidated every time; a path without a file extension that matches no file is a client-side route and gets
 * index.html (SPA fallback); a missing file with an extension is a plain 404. config.json (the stack deploys one
 * with its API URLs) says "same origin" here unless the build has one. Without a build, a short page says how to
 * make one.
 */
const CONSOLE_PREFIX = '/console';
const DEFAULT_DIST = fileURLToPath(new URL('../console/dist/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

export function isConsolePath(pathname: string): boolean {
  return pathname === CONSOLE_PREFIX || pathname.startsWith(`${CONSOLE_PREFIX}/`);
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Console not built</title></head>
<body><h1>The web console is not built yet</h1>
<p>Run <code>npm run build</code> in the repository, then reload this page.</p></body></html>
`;

function send(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer | string): void {
  res.writeHead(status, {
    ...CONSOLE_SECURITY_HEADERS,
    'content-security-policy': consoleCsp(),
    ...headers,
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

async function fileAt(path: string): Promise<Buffer | undefined> {
  try {
    if (!(await stat(path)).isFile()) return undefined;
    return await readFile(path);
  } catch {
    return undefined;
  }
}

export async function serveConsole(req: IncomingMessage, res: ServerResponse, pathname: string, distDir = DEFAULT_DIST): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(req, res, 405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, 'Method not allowed\n');
    return;
  }
  if (pathname === CONSOLE_PREFIX) {
    send(req, res, 308, { location: `${CONSOLE_PREFIX}/`, 'content-type': 'text/plain; charset=utf-8' }, '');
    return;
  }
  const root = resolve(distDir);
  const index = await fileAt(join(root, 'index.html'));
  if (!index) {
    send(req, res, 503, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, NOT_BUILT_PAGE);
    return;
  }

  let relative: string;
  try {
    relative = decodeURIComponent(pathname.slice(CONSOLE_PREFIX.length + 1));
  } catch {
    send(req, res, 400, { 'content-type': 'text/plain; charset=utf-8' }, 'Bad request\n');
    return;
  }
  const target = resolve(root, relative);
  if (relative.includes('\0') || (target !== root && !target.startsWith(root + sep))) {
    send(req, res, 404, { 'content-type': 'text/plain; charset=utf-8' }, 'Not found\n');
    return;
  }

  const file = relative === '' ? undefined : await fileAt(target);
  if (file) {
    const type = CONTENT_TYPES[extname(target).toLowerCase()] ?? 'application/octet-stream';
    const cache = relative.startsWith('assets/') ? IMMUTABLE : REVALIDATE;
    send(req, res, 200, { 'content-type': type, 'cache-control': cache }, file);
    return;
  }
  if (relative === 'config.json') {
    send(
      req,
      res,
      200,
      { 'content-type': CONTENT_TYPES['.json'], 'cache-control': 'no-store' },
      JSON.stringify({ apiBase: '', chatBase: '' }),
    );
    return;
  }
  const lastSegment = relative.split('/').pop() ?? '';
  if (lastSegment.includes('.')) {
    send(req, res, 404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, 'Not found\n');
    return;
  }
  send(req, res, 200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': REVALIDATE }, index);
}
