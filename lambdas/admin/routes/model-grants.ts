import { z } from 'zod';
import { page } from '../../core/http/envelope.js';
import type { Route } from '../../core/http/router.js';
import { dropEmpty, parse, zId, zPage } from '../../core/validate.js';
import { bindModel, grantedModelIds, unbindModel } from '../../core/store/grants.js';
import { getModel } from '../../core/store/models.js';
import { modelView } from '../../core/http/views.js';

/**
 * The three model-authorization routes a grantee has (`<prefix>/list-model`, `/bind-model`, `/unbind-model`):
 * the same for groups (`group_id`) and API keys (`key_id`).
 */
export function modelGrantRoutes(opts: {
  prefix: '/admin/group' | '/admin/api-key';
  idField: 'group_id' | 'key_id';
  kind: 'group' | 'key';
  /** 404 when the grantee does not exist. */
  requireGrantee: (id: number) => Promise<unknown>;
}): Route[] {
  const { prefix, idField, kind } = opts;
  const bindSchema = z.object({ [idField]: zId, model_id: zId });
  const change =
    (op: typeof bindModel) =>
    async ({ body }: { body: unknown }) => {
      const input = parse(bindSchema, body) as Record<string, number>;
      await op({ kind, id: input[idField] }, input.model_id);
      return { [idField]: input[idField], model_id: input.model_id };
    };
  return [
    {
      method: 'GET',
      path: `${prefix}/list-model`,
      run: async ({ query }) => {
        const q = parse(zPage.extend({ [idField]: zId }), dropEmpty(query)) as { limit: number; offset: number } & Record<string, number>;
        await opts.requireGrantee(q[idField]);
        return page(await modelsByIds(await grantedModelIds({ kind, id: q[idField] })), q.limit, q.offset);
      },
    },
    { method: 'POST', path: `${prefix}/bind-model`, run: change(bindModel) },
    { method: 'POST', path: `${prefix}/unbind-model`, run: change(unbindModel) },
  ];
}

/** Model views for granted ids (a grant whose model vanished meanwhile is skipped). */
async function modelsByIds(ids: number[]) {
  const models = await Promise.all(ids.map((id) => getModel(id)));
  return models.filter((m) => m !== undefined).map(modelView);
}
