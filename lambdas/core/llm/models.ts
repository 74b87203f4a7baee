import { allowedModels } from '../auth/model-access.js';
import { authenticate } from '../auth/authenticate.js';
import { errors } from '../openai/errors.js';
import type { Model } from '../store/models.js';
import { asGatewayError, type V1Request } from './chat-completions.js';
import { type V1Response, v1Error, v1Json } from './http.js';

function openAIModel(m: Model) {
  return { id: m.name, object: 'model', created: Math.floor(Date.parse(m.createdAt) / 1000) || 0, owned_by: m.provider };
}

/** GET /v1/models and /v1/models/{id}: only the models this key may use, in OpenAI's list shape. */
export async function listModelsV1(input: V1Request, id?: string): Promise<V1Response> {
  try {
    const key = await authenticate(input.headers);
    const models = await allowedModels(key);
    if (id === undefined) return v1Json(200, { object: 'list', data: models.map(openAIModel) });
    const found = models.find((m) => m.name === id);
    if (!found) throw errors.modelNotFound(id);
    return v1Json(200, openAIModel(found));
  } catch (e) {
    return v1Error(asGatewayError(e, input.requestId), input.requestId);
  }
}
