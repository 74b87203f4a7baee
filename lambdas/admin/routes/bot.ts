import { z } from 'zod';
import { saveBot } from '../../core/feishu/bots.js';
import { type Route, searchListRoute } from '../../core/http/router.js';
import { parse, zId } from '../../core/validate.js';
import { botView } from '../../core/http/views.js';
import { deleteBot, listBots, sealLegacyBotSecrets } from '../../core/store/bots.js';

/** Bots saved in clear by an older version are sealed when a list shows them (then the list reads them again). */
async function listSealed(q?: string) {
  const bots = await listBots(q);
  return (await sealLegacyBotSecrets(bots)) ? listBots(q) : bots;
}

/**
 * /admin/bot/feishu/* — Feishu / Lark bots. save creates (no id) or updates (id); the rules are in
 * core/feishu/bots.ts. Secrets never leave in full: appSecret, verificationToken and encryptKey are sealed in the
 * table (this function may seal, not open them) and shown masked by their stored hint; the key shows its hint.
 */
export const botRoutes: Route[] = [
  searchListRoute('/admin/bot/feishu/list', listSealed, botView),
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
