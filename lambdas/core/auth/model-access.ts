import { config } from '../config.js';
import { errors } from '../errors.js';
import { cacheEpoch } from '../store/cache-epoch.js';
import { grantedModelIds, isGranted } from '../store/grants.js';
import type { ApiKey } from '../store/keys.js';
import { getModel, getModelByName, listModels, type Model } from '../store/models.js';

/**
 * Which models a key may use: role admin → every model; otherwise the union of the models bound to its group
 * and those bound to the key itself. Lookups on the request path are cached for config().modelCacheTtlMs per
 * instance (this process's own admin writes invalidate at once, see cache-epoch.ts).
 */
interface Cached<T> {
  value: T;
  expires: number;
  epoch: number;
}

const modelsByName = new Map<string, Cached<Model | undefined>>();
const grants = new Map<string, Cached<boolean>>();

function fresh<T>(c: Cached<T> | undefined): c is Cached<T> {
  return c !== undefined && c.expires > Date.now() && c.epoch === cacheEpoch();
}

async function cached<T>(map: Map<string, Cached<T>>, key: string, load: () => Promise<T>): Promise<T> {
  const hit = map.get(key);
  if (fresh(hit)) return hit.value;
  const epoch = cacheEpoch();
  const value = await load();
  const ttl = config().modelCacheTtlMs;
  if (ttl > 0) {
    if (map.size > 5000) map.clear();
    map.set(key, { value, expires: Date.now() + ttl, epoch });
  }
  return value;
}

/**
 * The model a request names, if this key may use it. A model the key may not use is the same 404 model_not_found
 * as one that does not exist, so a key cannot enumerate the models of others (admins see every model anyway).
 */
export async function resolveModelForKey(key: ApiKey, name: string): Promise<Model> {
  const model = await cached(modelsByName, name, () => getModelByName(name));
  if (!model) throw errors.modelNotFound(name);
  if (key.role === 'admin') return model;
  const allowed = await cached(grants, `${key.id}|${key.groupId ?? ''}|${model.id}`, () => isGranted(key.id, key.groupId, model.id));
  if (!allowed) throw errors.modelNotFound(name);
  return model;
}

export async function allowedModels(key: ApiKey): Promise<Model[]> {
  if (key.role === 'admin') return listModels();
  const [groupIds, keyIds] = await Promise.all([
    key.groupId === null ? Promise.resolve([] as number[]) : grantedModelIds({ kind: 'group', id: key.groupId }),
    grantedModelIds({ kind: 'key', id: key.id }),
  ]);
  const ids = [...new Set([...groupIds, ...keyIds])].sort((a, b) => a - b);
  const models = await Promise.all(ids.map((id) => getModel(id)));
  return models.filter((m): m is Model => m !== undefined);
}
