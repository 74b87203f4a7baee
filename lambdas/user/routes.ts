import type { Route } from '../core/http/router.js';
import { allowedModels } from '../core/auth/model-access.js';
import { page } from '../core/http/envelope.js';
import { parse, zPage } from '../core/validate.js';
import {
  idParams,
  parseQuery,
  requireSession,
  requireThread,
  sessionDetail,
  sessionList,
  sessionListSchema,
  threadList,
  threadListSchema,
} from '../core/http/records.js';
import { keyViewWithLimits, modelView, threadView } from '../core/http/views.js';
import { limitsFor } from '../core/limits/effective.js';

/**
 * /user/*: every route is scoped to the caller's own key. The key filter is never taken from the request, and a
 * record of another key answers 404 exactly like a missing one.
 */
const userSessionList = sessionListSchema.omit({ key_id: true });
const userThreadList = threadListSchema.omit({ key_id: true });

export const userRoutes: Route[] = [
  {
    method: 'GET',
    path: '/user/api-key/mine',
    run: async ({ caller }) => keyViewWithLimits(caller, await limitsFor(caller)),
  },
  {
    method: 'GET',
    path: '/user/model/list',
    run: async ({ caller, query }) => {
      const { limit, offset } = parseQuery(zPage, query);
      const items = (await allowedModels(caller)).map((m) => {
        // Users see what they may call and what it costs, not the upstream configuration.
        const { config: _config, ...rest } = modelView(m);
        return rest;
      });
      return page(items, limit, offset);
    },
  },
  {
    method: 'GET',
    path: '/user/session/list',
    run: async ({ caller, query }) => sessionList({ ...parseQuery(userSessionList, query), key_id: caller.id }),
  },
  {
    method: 'GET',
    path: '/user/session/detail/:id',
    run: async ({ caller, params }) => sessionDetail(parse(idParams, params).id, caller.id),
  },
  {
    method: 'GET',
    path: '/user/thread/list',
    run: async ({ caller, query }) => {
      const q = parseQuery(userThreadList, query);
      // Another key's session is a 404, not an empty list: nothing about it is revealed either way.
      if (q.session_id !== undefined) await requireSession(q.session_id, caller.id);
      return threadList({ ...q, key_id: caller.id }, true);
    },
  },
  {
    method: 'GET',
    path: '/user/thread/detail/:id',
    run: async ({ caller, params }) => threadView(await requireThread(parse(idParams, params).id, caller.id), { forOwner: true }),
  },
];
