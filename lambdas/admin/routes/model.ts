import { z } from 'zod';
import { type Route, searchListRoute } from '../../core/http/router.js';
import { parse, zId, zJsonObject, zMoney, zName } from '../../core/validate.js';
import { errors } from '../../core/errors.js';
import { providerNames, validateModelConfig } from '../../core/providers/registry.js';
import { bindModel } from '../../core/store/grants.js';
import { deleteModel, listModels, requireModel, saveModel } from '../../core/store/models.js';
import { MASK } from '../../core/feishu/bots.js';
import { modelView } from '../../core/http/views.js';

const zPrice = zMoney({ decimals: 6, min: 'nonnegative' });
const saveSchema = z.object({
  id: zId.optional(),
  name: zName,
  group_id: z
    .union([z.null(), z.literal(0), zId])
    .optional()
    .transform((v) => (v === 0 || v === undefined ? null : v)),
  multiple: z.boolean().optional().default(false),
  config: zJsonObject,
  provider: z.string().trim().max(100).default('bedrock-converse'),
  price_in: zPrice.default(0n),
  price_out: zPrice.default(0n),
  price_cache_read: zPrice.optional(),
  price_cache_write: zPrice.optional(),
});

export const modelRoutes: Route[] = [
  searchListRoute('/admin/model/list', listModels, modelView),
  {
    method: 'POST',
    path: '/admin/model/save',
    run: async ({ body }) => {
      const input = parse(saveSchema, body);
      if (!providerNames().includes(input.provider)) {
        throw errors.badRequest(`Unknown provider '${input.provider}'; expected one of: ${providerNames().join(', ')}.`, 'provider');
      }
      // A masked upstream API key sent back (as the list shows it) keeps the stored one.
      const given = input.config;
      if (typeof given.apiKey === 'string' && given.apiKey.startsWith(MASK) && input.id !== undefined) {
        const stored = (await requireModel(input.id)).config.apiKey;
        if (typeof stored === 'string') given.apiKey = stored;
      }
      const config = validateModelConfig(input.provider, given, input.name);
      const model = await saveModel({
        id: input.id,
        name: input.name,
        groupId: input.group_id,
        multiple: input.multiple,
        provider: input.provider,
        config,
        priceIn: input.price_in,
        priceOut: input.price_out,
        priceCacheRead: input.price_cache_read,
        priceCacheWrite: input.price_cache_write,
      });
      // Naming a group on save also authorizes the model for that group (the seed API's shortcut).
      if (model.groupId !== null) await bindModel({ kind: 'group', id: model.groupId }, model.id);
      return modelView(model);
    },
  },
  {
    method: 'POST',
    path: '/admin/model/delete',
    run: async ({ body }) => {
      const { id } = parse(z.object({ id: zId }), body);
      await deleteModel(id);
      return { id, deleted: true };
    },
  },
];
