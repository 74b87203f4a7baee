import { z } from 'zod';
import { type Route, searchListRoute } from '../../core/http/router.js';
import { page } from '../../core/http/envelope.js';
import { dropEmpty, parse, zId, zPage } from '../../core/http/validate.js';
import { bindModel, grantedModelIds, unbindModel } from '../../core/store/grants.js';
import { deleteGroup, listGroups, requireGroup, saveGroup } from '../../core/store/groups.js';
import { groupView } from '../../core/views.js';
import { modelsByIds } from './api-key.js';

const bindSchema = z.object({ group_id: zId, model_id: zId });

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
  {
    method: 'GET',
    path: '/admin/group/list-model',
    run: async ({ query }) => {
      const { group_id, limit, offset } = parse(zPage.extend({ group_id: zId }), dropEmpty(query));
      await requireGroup(group_id);
      return page(await modelsByIds(await grantedModelIds({ kind: 'group', id: group_id })), limit, offset);
    },
  },
  {
    method: 'POST',
    path: '/admin/group/bind-model',
    run: async ({ body }) => {
      const { group_id, model_id } = parse(bindSchema, body);
      await bindModel({ kind: 'group', id: group_id }, model_id);
      return { group_id, model_id };
    },
  },
  {
    method: 'POST',
    path: '/admin/group/unbind-model',
    run: async ({ body }) => {
      const { group_id, model_id } = parse(bindSchema, body);
      await unbindModel({ kind: 'group', id: group_id }, model_id);
      return { group_id, model_id };
    },
  },
];
