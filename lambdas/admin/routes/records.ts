import type { Route } from '../../core/http/router.js';

/** /admin/session/*, /admin/thread/*, /admin/statistics/* */
export const recordRoutes: Route[] = [];
