import { authenticate } from '../../auth/authenticate.js';
import { allowedModels } from '../../auth/model-access.js';
import { asGatewayError, errors } from '../../errors.js';
import type { Model } from '../../store/models.js';
import { jsonResponse, type V1Request, type V1Response } from '../http.js';
import { openAIErrorResponse } from '../openai/errors.js';
import { checkModelId } from '../../validate.js';

function openAIModel(m: Model) {
  return { id: m.name, object: 'model', created: Math.floor(Date.parse(m.createdAt) / 1000) || 0, owned_by: m.provider };
}

/** GET /v1/models and /v1/models/{id}: only the models this key may use, in OpenAI's list shape. */
export async function listModelsV1(input: V1Request, id?: string): Promise<V1Response> {
  try {
    const key = await authenticate(input.headers);
    const models = await allowedModels(key);
    if (id === undefined) return jsonResponse(200, { object: 'list', data: models.map(openAIModel) }, { 'x-request-id': input.requestId });
    const wanted = checkModelId(id);
    const found = models.find((m) => m.name === wanted);
    if (!found) throw errors.modelNotFound(id);
    return jsonResponse(200, openAIModel(found), { 'x-request-id': input.requestId });
  } catch (e) {
    return openAIErrorResponse(asGatewayError(e, input.requestId), input.requestId);
  }
}
