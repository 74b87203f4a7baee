import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { authenticate, requireAdmin } from '../auth/authenticate.js';
import { errors, GatewayError, isGatewayError } from '../errors.js';
import { logger } from '../log.js';
import type { ApiKey } from '../store/keys.js';
import { fail, ok, page } from './envelope.js';
import { dropEmpty, parse, parseJsonBody, zSearchPage } from '../validate.js';

interface RouteInput {
  caller: ApiKey;
  body: unknown;
  query: Record<string, string | undefined>;
  params: Record<string, string>;
  headers: Record<string, string | undefined>;
}

/** A route returns the `data` of the success envelope. */
type RouteFn = (input: RouteInput) => Promise<unknown>;

export interface Route {
  method: 'GET' | 'POST';
  /** e.g. `/admin/api-key/apply`, `/user/session/detail/:id` */
  path: string;
  run: RouteFn;
}

interface Compiled extends Route {
  pattern: RegExp;
  names: string[];
}

function compile(route: Route): Compiled {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((seg) => {
      if (seg.startsWith(':')) {
        names.push(seg.slice(1));
        return '([^/]+)';
      }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { ...route, pattern: new RegExp(`^${source}/?$`), names };
}

/**
 * The /admin and /user Lambdas: route by method and path, authenticate (401), check the role (403), parse the
 * body, run, and wrap everything — including every failure — in the `{success, data|error}` envelope.
 */
export function createApiHandler(routes: Route[], opts: { requireRole?: 'admin' }) {
  const compiled = routes.map(compile);
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    try {
      const method = event.requestContext?.http?.method?.toUpperCase() ?? 'GET';
      const path = event.rawPath ?? '/';
      const headers = lowerCase(event.headers);
      const caller = await authenticate(headers);
      if (opts.requireRole === 'admin') requireAdmin(caller);
      let pathMatched = false;
      for (const route of compiled) {
        const m = route.pattern.exec(path);
        if (!m) continue;
        pathMatched = true;
        if (route.method !== method) continue;
        const params: Record<string, string> = {};
        route.names.forEach((n, i) => (params[n] = safeDecode(m[i + 1])));
        const body = method === 'POST' ? parseJsonBody(event.body, event.isBase64Encoded) : undefined;
        const data = await route.run({ caller, body, query: event.queryStringParameters ?? {}, params, headers });
        return ok(data);
      }
      throw pathMatched
        ? new GatewayError(405, `Method ${method} is not allowed on ${path}.`, { code: 'method_not_allowed' })
        : errors.notFound(`No route ${method} ${path}.`);
    } catch (e) {
      if (isGatewayError(e)) return fail(e);
      logger.error('unhandled error in API route', { error: e as Error });
      return fail(errors.internal());
    }
  };
}

/** A malformed percent-escape in a path is the client's mistake (400), not a server error. */
export function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw errors.badRequest('The request path is not valid URL encoding.');
  }
}

/**
 * GET <path>?q=&limit=&offset= over an admin-sized collection: list (filtered by q), then one page of views.
 * The shape every admin list route shares (groups, models, bots).
 */
export function searchListRoute<T>(path: string, list: (q?: string) => Promise<T[]>, view: (item: T) => unknown): Route {
  return {
    method: 'GET',
    path,
    run: async ({ query }) => {
      const q = parse(zSearchPage, dropEmpty(query));
      return page((await list(q.q)).map(view), q.limit, q.offset);
    },
  };
}

export function lowerCase(headers: Record<string, string | undefined> | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k.toLowerCase()] = v;
  return out;
}
