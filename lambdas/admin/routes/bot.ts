import { z } from 'zod';
import { saveBot } from '../../core/feishu/bots.js';
import { type Route, searchListRoute } from '../../core/http/router.js';
import { parse, zId } from '../../core/validate.js';
import { botView } from '../../core/http/views.js';
import { deleteBot, listBots } from '../../core/store/bots.js';

/**
 * /admin/bot/feishu/* — Feishu / Lark bots. save creates (no id) or updates (id); the rules are in
 * core/feishu/bots.ts. Secrets never leave in full: appSecret, verificationToken and encryptKey are masked, the key
 * shows its hint.
 */
export const botRoutes: Route[] = [
  searchListRoute('/admin/bot/feishu/list', listBots, botView),
  {
    method: 'POST',
    path: '/admin/bot/feishu/save',
    run: async ({ body }) => botView(await saveBot(body)),
  },
  {
    method: 'POST',
    path: '/admin/bot/feishu/delete',
    run: async ({ body }) => {
      const { id } = parse(z.object({ id: zId }), body);
      await deleteBot(id);
      return { id, deleted: true };
    },
  },
];
