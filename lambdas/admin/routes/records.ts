import type { Route } from '../../core/http/router.js';
import { parse } from '../../core/validate.js';
import {
  idParams,
  parseQuery,
  requireThread,
  sessionDetail,
  sessionList,
  sessionListSchema,
  threadList,
  threadListSchema,
  usage,
  usageSchema,
} from '../../core/http/records.js';
import { threadView } from '../../core/http/views.js';

/**
 * /admin/session/*, /admin/thread/*, /admin/statistics/*: every key's records. Lists are GSI queries (never a
 * Scan); q searches read a bounded window (docs/data-model.md, "Search and listing cost").
 */
export const recordRoutes: Route[] = [
  {
    method: 'GET',
    path: '/admin/session/list',
    run: async ({ query }) => sessionList(parseQuery(sessionListSchema, query)),
  },
  {
    method: 'GET',
    path: '/admin/session/detail/:id',
    run: async ({ params }) => sessionDetail(parse(idParams, params).id),
  },
  {
    method: 'GET',
    path: '/admin/thread/list',
    run: async ({ query }) => threadList(parseQuery(threadListSchema, query)),
  },
  {
    method: 'GET',
    path: '/admin/thread/detail/:id',
    run: async ({ params }) => threadView(await requireThread(parse(idParams, params).id)),
  },
  {
    method: 'GET',
    path: '/admin/statistics/usage',
    run: async ({ query }) => usage(parseQuery(usageSchema, query)),
  },
];
