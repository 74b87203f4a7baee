import { authenticate } from '../../auth/authenticate.js';
import { allowedModels } from '../../auth/model-access.js';
import { asGatewayError, errors } from '../../errors.js';
import type { Model } from '../../store/models.js';
import { jsonResponse, type V1Request, type V1Response } from '../http.js';
import { checkModelId } from '../../validate.js';
import { anthropicErrorResponse } from './errors.js';

/** Anthropic's model object: the model row's name is its id (what clients send as `model`). */
function anthropicModel(m: Model) {
  const created = Date.parse(m.createdAt);
  return {
    type: 'model' as const,
    id: m.name,
    display_name: m.name,
    created_at: new Date(Number.isFinite(created) ? created : 0).toISOString(),
  };
}

const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 20;

/**
 * GET /v1/models and /v1/models/{id} for Anthropic clients (the request has an `anthropic-version` header): only
 * the models this key may use, in Anthropic's list shape, newest first, paged by `limit`, `after_id` and `before_id`.
 */
export async function anthropicModels(input: V1Request, id?: string): Promise<V1Response> {
  const headers = { 'request-id': input.requestId, 'x-request-id': input.requestId };
  try {
    const key = await authenticate(input.headers);
    const models = (await allowedModels(key)).sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.name.localeCompare(b.name));
    if (id !== undefined) {
      const wanted = checkModelId(id);
      const found = models.find((m) => m.name === wanted);
      if (!found) throw errors.modelNotFound(id);
      return jsonResponse(200, anthropicModel(found), headers);
    }
    const q = input.query ?? {};
    const limit = q.limit === undefined || q.limit === '' ? DEFAULT_LIMIT : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw errors.badRequest(`limit must be a whole number from 1 to ${MAX_LIMIT}.`, 'limit');
    }
    let start = 0;
    let end = models.length;
    if (q.after_id) start = models.findIndex((m) => m.name === q.after_id) + 1;
    if (q.before_id)
      end = Math.max(
        0,
        models.findIndex((m) => m.name === q.before_id),
      );
    let page = models.slice(start, end);
    const hasMore = page.length > limit;
    page = q.before_id && !q.after_id ? page.slice(-limit) : page.slice(0, limit);
    const data = page.map(anthropicModel);
    return jsonResponse(200, { data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null }, headers);
  } catch (e) {
    return anthropicErrorResponse(asGatewayError(e, input.requestId), input.requestId);
  }
}
