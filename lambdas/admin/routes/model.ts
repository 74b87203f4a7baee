import { z } from 'zod';
import { type Route, searchListRoute } from '../../core/http/router.js';
import { parse, zId, zJsonObject, zMoney, zName } from '../../core/validate.js';
import { errors } from '../../core/errors.js';
import { billsOutput, providerNames, validateModelConfig } from '../../core/providers/registry.js';
import { bindModel } from '../../core/store/grants.js';
import { deleteModel, listModels, type Model, requireModel, saveModel } from '../../core/store/models.js';
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
  // The seed API's flag, kept and shown as given; 0 and 1 are read as false and true, null as not given (false).
  multiple: z
    .union([z.boolean(), z.literal(0), z.literal(1)])
    .nullish()
    .transform((v) => v === true || v === 1),
  config: zJsonObject,
  provider: z.string().trim().max(100).default('bedrock-converse'),
  price_in: zPrice.optional(),
  price_out: zPrice.optional(),
  /** Omitted on update: unchanged; null: back to the default (10% / 125% of price_in). */
  price_cache_read: zPrice.nullish(),
  price_cache_write: zPrice.nullish(),
  /** Calls are not charged: the only way to save a model with zero or no prices. Omitted on update: unchanged. */
  free: z.boolean().optional(),
});

type SaveInput = z.infer<typeof saveSchema>;

/**
 * The prices a save stores. A zero or missing price is never a default: it is either the admin's explicit
 * `free: true` (then every given price must be 0) or a 400, so that a typo cannot give a model away. On update,
 * omitted prices and `free` keep the stored ones. Embeddings models bill input only and need no output price.
 */
function pricesOf(input: SaveInput, existing: Model | undefined) {
  const free = input.free ?? existing?.free ?? false;
  const priceIn = input.price_in ?? existing?.priceIn;
  const priceOut = input.price_out ?? existing?.priceOut ?? (billsOutput(input.provider) ? undefined : 0n);
  if (free) {
    const charged = (['price_in', 'price_out', 'price_cache_read', 'price_cache_write'] as const).find((f) => (input[f] ?? 0n) !== 0n);
    if (charged)
      throw errors.badRequest(`Invalid '${charged}': a model saved with 'free': true has no prices (send 0 or omit it).`, charged);
    return { free, priceIn: 0n, priceOut: 0n, priceCacheRead: undefined, priceCacheWrite: undefined };
  }
  const zeroOrMissing = (v: bigint | undefined) => v === undefined || v === 0n;
  const missing = zeroOrMissing(priceIn) ? 'price_in' : billsOutput(input.provider) && zeroOrMissing(priceOut) ? 'price_out' : undefined;
  if (missing) {
    throw errors.badRequest(
      `Invalid '${missing}': is required and must be greater than 0 (USD per 1M tokens). To record a model whose calls are not charged, send 'free': true.`,
      missing,
    );
  }
  return {
    free,
    priceIn: priceIn!,
    priceOut: priceOut ?? 0n,
    priceCacheRead: input.price_cache_read,
    priceCacheWrite: input.price_cache_write,
  };
}

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
      const existing = input.id === undefined ? undefined : await requireModel(input.id);
      // A masked upstream API key or header value sent back (as the list shows it) keeps the stored one — but only
      // for the same upstream: a new baseUrl gets secrets only when they are given again in full, or an edit could
      // send the stored ones to any host.
      const given = input.config;
      const movesUpstream = existing !== undefined && given.baseUrl !== existing.config.baseUrl;
      const maskedField =
        typeof given.apiKey === 'string' && given.apiKey.startsWith(MASK)
          ? 'config.apiKey'
          : given.headers && typeof given.headers === 'object'
            ? Object.entries(given.headers as Record<string, unknown>)
                .filter(([, v]) => typeof v === 'string' && v.startsWith(MASK))
                .map(([k]) => `config.headers.${k}`)[0]
            : undefined;
      if (movesUpstream && maskedField) {
        throw errors.badRequest(
          `Invalid '${maskedField}': a new baseUrl needs the upstream's secrets given again in full (the stored ones are not sent to another host).`,
          maskedField,
        );
      }
      if (typeof given.apiKey === 'string' && given.apiKey.startsWith(MASK) && existing) {
        const stored = existing.config.apiKey;
        if (typeof stored === 'string') given.apiKey = stored;
      }
      const givenHeaders = given.headers;
      const storedHeaders = existing?.config.headers as Record<string, unknown> | undefined;
      if (givenHeaders && typeof givenHeaders === 'object' && !Array.isArray(givenHeaders)) {
        given.headers = Object.fromEntries(
          Object.entries(givenHeaders as Record<string, unknown>).map(([k, v]) =>
            typeof v === 'string' && v.startsWith(MASK) && typeof storedHeaders?.[k] === 'string' ? [k, storedHeaders[k]] : [k, v],
          ),
        );
      }
      const config = validateModelConfig(input.provider, given, input.name);
      const model = await saveModel({
        id: input.id,
        name: input.name,
        groupId: input.group_id,
        multiple: input.multiple,
        provider: input.provider,
        config,
        ...pricesOf(input, existing),
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
