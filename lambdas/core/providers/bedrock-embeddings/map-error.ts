import { GatewayError } from '../../openai/errors.js';
// Upstream messages may name ARNs (account ids, role names): stripped before they reach an API client.
import { sanitizeUpstreamMessage as sanitize } from '../sanitize-upstream-message.js';

/**
 * Maps a Bedrock runtime SDK error to the gateway's error. One place, so the chat and embeddings paths can agree.
 * ThrottlingException → 429 (retryable), ServiceQuotaExceededException → 429 (not retryable),
 * ValidationException → 400 (message kept, sanitised), AccessDeniedException → 403, ResourceNotFoundException → 404,
 * ModelNotReadyException / ServiceUnavailableException → 503, ModelTimeoutException → 408, anything else → 502.
 */
export function mapBedrockError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const e = (err ?? {}) as { name?: unknown; message?: unknown };
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : '';
  const opts = { cause: err };
  switch (name) {
    case 'ThrottlingException':
      return new GatewayError(429, 'Bedrock is throttling requests for this model; retry later.', {
        ...opts,
        type: 'rate_limit_error',
        code: 'rate_limit_exceeded',
        retryable: true,
      });
    case 'ServiceQuotaExceededException':
      return new GatewayError(429, 'The gateway exceeded a Bedrock service quota for this model.', {
        ...opts,
        type: 'rate_limit_error',
        code: 'upstream_quota_exceeded',
        retryable: false,
      });
    case 'ValidationException':
      return new GatewayError(400, `Bedrock rejected the request: ${sanitize(message) || 'validation error'}`, {
        ...opts,
        type: 'invalid_request_error',
        code: 'upstream_validation_error',
      });
    case 'AccessDeniedException':
      return new GatewayError(403, 'The gateway is not permitted to invoke this model on Bedrock.', {
        ...opts,
        type: 'permission_denied',
        code: 'upstream_access_denied',
      });
    case 'ResourceNotFoundException':
      return new GatewayError(404, 'The Bedrock model behind this model name was not found.', {
        ...opts,
        type: 'invalid_request_error',
        code: 'upstream_model_not_found',
      });
    case 'ModelNotReadyException':
    case 'ServiceUnavailableException':
      return new GatewayError(503, 'The Bedrock model is temporarily unavailable; retry later.', {
        ...opts,
        type: 'api_error',
        code: 'upstream_unavailable',
        retryable: true,
      });
    case 'ModelTimeoutException':
      return new GatewayError(408, 'The Bedrock model timed out.', { ...opts, type: 'api_error', code: 'upstream_timeout' });
    default: {
      const shown = /^[A-Za-z][A-Za-z0-9]{0,63}$/.test(name) ? name : 'unknown error';
      return new GatewayError(502, `Bedrock request failed (${shown}).`, {
        ...opts,
        type: 'api_error',
        code: 'upstream_error',
      });
    }
  }
}
