import { z } from 'zod';
import { type Route, searchListRoute } from '../../core/http/router.js';
import { parse, zId, zLimit } from '../../core/validate.js';
import { deleteGroup, listGroups, requireGroup, saveGroup } from '../../core/store/groups.js';
import { groupView } from '../../core/http/views.js';
import { modelGrantRoutes } from './model-grants.js';

export const groupRoutes: Route[] = [
  searchListRoute('/admin/group/list', listGroups, groupView),
  {
    method: 'POST',
    path: '/admin/group/save',
    run: async ({ body }) => {
      const input = parse(
        z.object({
          id: zId.optional(),
          name: z.string().trim().min(1, 'is required').max(200),
          rpm_limit: zLimit.optional(),
          tpm_limit: zLimit.optional(),
          max_parallel: zLimit.optional(),
        }),
        body,
      );
      return groupView(
        await saveGroup({
          id: input.id,
          name: input.name,
          limits: {
            ...(input.rpm_limit === undefined ? {} : { rpm: input.rpm_limit }),
            ...(input.tpm_limit === undefined ? {} : { tpm: input.tpm_limit }),
            ...(input.max_parallel === undefined ? {} : { maxParallel: input.max_parallel }),
          },
        }),
      );
    },
  },
  {
    method: 'POST',
    path: '/admin/group/delete',
    run: async ({ body }) => {
      const { id } = parse(z.object({ id: zId }), body);
      await deleteGroup(id);
      return { id, deleted: true };
    },
  },
  ...modelGrantRoutes({ prefix: '/admin/group', idField: 'group_id', kind: 'group', requireGrantee: requireGroup }),
];
