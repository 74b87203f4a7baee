import type { Route } from '../core/http/router.js';
import { allowedModels } from '../core/auth/model-access.js';
import { keyView, modelView } from '../core/views.js';

export const userRoutes: Route[] = [
  {
    method: 'GET',
    path: '/user/api-key/mine',
    run: async ({ caller }) => keyView(caller),
  },
  {
    method: 'GET',
    path: '/user/model/list',
    run: async ({ caller }) => {
      const items = (await allowedModels(caller)).map((m) => {
        // Users see what they may call and what it costs, not the upstream configuration.
        const { config: _config, ...rest } = modelView(m);
        return rest;
      });
      return { items, total: items.length, limit: items.length, offset: 0 };
    },
  },
];
