import type { Route } from '../../core/http/router.js';

/** /admin/bot/feishu/* */
export const botRoutes: Route[] = [];
