/**
 * A typed client for the /admin and /user envelopes. The response types are the gateway's own: the return types of
 * the view functions (lambdas/core/http/views.ts) and of the record routes' halves (lambdas/core/http/records.ts),
 * so a test that reads a field the API does not have fails to compile. Only types are imported from the product:
 * black-box tests (npm start, the bundles) may use this client without loading any of its code.
 *
 * `get('/admin/api-key/list?limit=2')` is typed by its path: the query is ignored, a `/detail/<id>` segment matches
 * the route's `/detail/:id`, and a path that is no known route (or a plain `string`) has `data: unknown`.
 */
import type { Page } from '../../lambdas/core/http/envelope.js';
import type { sessionDetail, sessionList, threadList, usage } from '../../lambdas/core/http/records.js';
import type {
  botView,
  groupView,
  keyViewWithLimits,
  modelView,
  paymentView,
  sessionView,
  threadView,
} from '../../lambdas/core/http/views.js';

export type { Page };

/** A key as the admin routes and /user/api-key/mine show it: its view and the limits that apply to it. */
export type KeyView = ReturnType<typeof keyViewWithLimits>;
/** What apply and reset answer: the key's view and, this once, its plaintext. */
export type NewKeyView = KeyView & { api_key: string };
type ModelView = ReturnType<typeof modelView>;
/** /user/model/list shows what a key may call and what it costs, not the upstream configuration. */
type UserModelView = Omit<ModelView, 'config'>;
type GroupView = ReturnType<typeof groupView>;
export type PaymentView = ReturnType<typeof paymentView>;
export type SessionView = ReturnType<typeof sessionView>;
export type ThreadView = ReturnType<typeof threadView>;
type BotView = ReturnType<typeof botView>;
/** A session or thread list page: a list envelope, plus what a q search read. */
type SessionList = Awaited<ReturnType<typeof sessionList>>;
type ThreadList = Awaited<ReturnType<typeof threadList>>;
/** A session with its first threads (`threads`: a list envelope). */
type SessionDetail = Awaited<ReturnType<typeof sessionDetail>>;
type UsageReport = Awaited<ReturnType<typeof usage>>;
interface Deleted {
  id: number;
  deleted: boolean;
}
interface KeyGrant {
  key_id: number;
  model_id: number;
}
interface GroupGrant {
  group_id: number;
  model_id: number;
}

/** `data` of each GET route (paths as the router writes them). */
export interface GetRoutes {
  '/admin/api-key/list': Page<KeyView>;
  '/admin/api-key/list-model': Page<ModelView>;
  '/admin/payment/list': Page<PaymentView>;
  '/admin/model/list': Page<ModelView>;
  '/admin/group/list': Page<GroupView>;
  '/admin/group/list-model': Page<ModelView>;
  '/admin/bot/feishu/list': Page<BotView>;
  '/admin/session/list': SessionList;
  '/admin/session/detail/:id': SessionDetail;
  '/admin/thread/list': ThreadList;
  '/admin/thread/detail/:id': ThreadView;
  '/admin/statistics/usage': UsageReport;
  '/user/api-key/mine': KeyView;
  '/user/model/list': Page<UserModelView>;
  '/user/session/list': SessionList;
  '/user/session/detail/:id': SessionDetail;
  '/user/thread/list': ThreadList;
  '/user/thread/detail/:id': ThreadView;
}

/** `data` of each POST route. */
export interface PostRoutes {
  '/admin/api-key/apply': NewKeyView;
  '/admin/api-key/update': KeyView;
  '/admin/api-key/disable': KeyView;
  '/admin/api-key/enable': KeyView;
  '/admin/api-key/recharge': PaymentView;
  '/admin/api-key/reset': NewKeyView;
  '/admin/api-key/delete': Deleted;
  '/admin/api-key/bind-model': KeyGrant;
  '/admin/api-key/unbind-model': KeyGrant;
  '/admin/model/save': ModelView;
  '/admin/model/delete': Deleted;
  '/admin/group/save': GroupView;
  '/admin/group/delete': Deleted;
  '/admin/group/bind-model': GroupGrant;
  '/admin/group/unbind-model': GroupGrant;
  '/admin/bot/feishu/save': BotView;
  '/admin/bot/feishu/delete': Deleted;
}

type WithoutQuery<P extends string> = P extends `${infer Path}?${string}` ? Path : P;
type RouteKey<P extends string> = P extends `${infer Base}/detail/${string}` ? `${Base}/detail/:id` : P;
/** The `data` type of a request path in a route table; unknown for a path that is no route of it. */
export type DataOf<Routes, P extends string> =
  RouteKey<WithoutQuery<P>> extends infer K ? (K extends keyof Routes ? Routes[K] : unknown) : never;

export interface ApiError {
  code: string;
  message: string;
}

export interface Envelope<T> {
  status: number;
  /** `{success:true, data}` or `{success:false, error}`; a body that is not JSON arrives as `{raw: text}`. */
  body: { success: boolean; data: T; error?: ApiError };
  headers: Headers;
}

export interface RawResponse {
  status: number;
  /** The parsed JSON body, or `{raw: text}` when it is not JSON. */
  body: unknown;
  headers: Headers;
}

/** One HTTP call with an optional Bearer key and JSON body (a string body is sent as is, for malformed JSON). */
export async function request(
  base: string,
  method: string,
  path: string,
  opts: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = { raw: text };
  }
  return { status: res.status, body, headers: res.headers };
}

/** A small client for the /admin and /user envelopes, typed by route. */
export function api(base: string, key?: string) {
  // The one unchecked step: the gateway's JSON is taken to be the envelope its route declares.
  const call = async <T>(method: 'GET' | 'POST', path: string, body: unknown, headers?: Record<string, string>) =>
    (await request(base, method, path, { key, body, headers })) as Envelope<T>;
  return {
    get: <P extends string>(path: P, headers?: Record<string, string>) => call<DataOf<GetRoutes, P>>('GET', path, undefined, headers),
    post: <P extends string>(path: P, body?: unknown, headers?: Record<string, string>) =>
      call<DataOf<PostRoutes, P>>('POST', path, body ?? {}, headers),
  };
}

export type ApiClient = ReturnType<typeof api>;
