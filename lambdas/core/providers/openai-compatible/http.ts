import { GatewayError } from '../../errors.js';
import { passGate } from '../../upstream-gate.js';
import { sanitizeUpstreamMessage } from '../sanitize-upstream-message.js';
import type { ProviderContext } from '../types.js';
import type { OpenAICompatibleConfig } from './config.js';

/** The HTTP call the providers make; swapped for a fake in tests. */
export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/**
 * POSTs one JSON body to `<baseUrl><path>` with the config's key and headers, within the config's timeout and the
 * request's signal. Resolves with an OK response; a refusal is thrown as the neutral GatewayError of its status.
 */
export async function post(
  fetchFn: Fetch,
  config: OpenAICompatibleConfig,
  path: string,
  body: unknown,
  ctx: ProviderContext,
  stream = false,
) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
    ...config.headers,
  };
  if (config.apiKey) headers.authorization = `Bearer ${config.apiKey}`;
  await passGate(ctx.signal); // nothing goes upstream before the call's gate opens (upstream-gate.ts)
  const timeout = AbortSignal.timeout(config.timeoutMs ?? 60_000);
  let res: Response;
  try {
    res = await fetchFn(`${config.baseUrl.replace(/\/+$/, '')}${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.any([ctx.signal, timeout]),
      // Never followed: a redirect would carry the prompt and the config's headers to a host nobody checked.
      redirect: 'manual',
    });
  } catch (e) {
    if (ctx.signal.aborted)
      throw new GatewayError(499, 'The request was cancelled.', { kind: 'cancelled', code: 'request_cancelled', cause: e });
    if (timeout.aborted)
      throw new GatewayError(503, 'The upstream did not answer in time.', {
        kind: 'timeout',
        code: 'upstream_timeout',
        retryable: true,
        cause: e,
      });
    throw new GatewayError(502, 'The upstream is unreachable.', {
      kind: 'upstream',
      code: 'upstream_unreachable',
      retryable: true,
      retryAfter: 2,
      cause: e,
    });
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel();
    throw new GatewayError(
      502,
      `The upstream answered a redirect (HTTP ${res.status}); the gateway does not follow redirects (check the model's baseUrl).`,
      {
        kind: 'upstream',
        code: 'upstream_redirect',
      },
    );
  }
  if (!res.ok) throw await upstreamError(res);
  return res;
}

async function upstreamError(res: Response): Promise<GatewayError> {
  let message = '';
  try {
    const j = (await res.json()) as { error?: { message?: unknown } | string; message?: unknown };
    const m = typeof j.error === 'string' ? j.error : (j.error?.message ?? j.message);
    message = typeof m === 'string' ? sanitizeUpstreamMessage(m) : '';
  } catch {
    /* not JSON */
  }
  const text = message || `HTTP ${res.status}`;
  const retryAfter = Number(res.headers.get('retry-after')) || undefined;
  if (res.status === 429)
    return new GatewayError(429, `The upstream is rate limiting: ${text}`, {
      kind: 'rate_limit',
      code: 'throttled',
      retryable: true,
      retryAfter: retryAfter ?? 2,
    });
  if (res.status === 400 || res.status === 422)
    return new GatewayError(400, text, { kind: 'invalid_request', code: 'upstream_validation_error' });
  if (res.status === 404)
    return new GatewayError(502, `The upstream does not know this model: ${text}`, { kind: 'upstream', code: 'upstream_model_not_found' });
  if (res.status === 401 || res.status === 403)
    return new GatewayError(502, 'The upstream refused the gateway’s credentials (check the model config).', {
      kind: 'upstream',
      code: 'upstream_auth_failed',
    });
  if (res.status === 503 || res.status === 504)
    return new GatewayError(503, `The upstream is unavailable: ${text}`, {
      kind: 'overloaded',
      code: 'upstream_unavailable',
      retryable: true,
      retryAfter: retryAfter ?? 2,
    });
  return new GatewayError(502, `The upstream failed: ${text}`, { kind: 'upstream', code: 'upstream_error' });
}
