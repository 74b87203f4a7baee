import { z } from 'zod';
import { type Route, searchListRoute } from '../../core/http/router.js';
import { parse, zId } from '../../core/validate.js';
import { deleteGroup, listGroups, requireGroup, saveGroup } from '../../core/store/groups.js';
import { groupView } from '../../core/http/views.js';
import { modelGrantRoutes } from './model-grants.js';

export const groupRoutes: Route[] = [
  searchListRoute('/admin/group/list', listGroups, groupView),
  {
    method: 'POST',
    path: '/admin/group/save',
    run: async ({ body }) => {
      const input = parse(z.object({ id: zId.optional(), name: z.string().trim().min(1, 'is required').max(200) }), body);
      return groupView(await saveGroup(input));
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
