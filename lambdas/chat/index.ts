import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { errors, isGatewayError } from '../core/openai/errors.js';
import { parseJsonBody } from '../core/http/validate.js';
import { lowerCase, safeDecode } from '../core/http/router.js';
import { chatCompletions, type V1Request } from '../core/llm/chat-completions.js';
import { embeddings } from '../core/llm/embeddings.js';
import { type V1Response, v1Error } from '../core/llm/http.js';
import { listModelsV1 } from '../core/llm/models.js';

/**
 * /v1/* on a Lambda function URL with response streaming (invoke mode RESPONSE_STREAM). Thin: parse the
 * event, dispatch by path, hand back status, headers and a string or a stream of SSE frames.
 */
async function route(event: APIGatewayProxyEventV2, context: Context): Promise<V1Response> {
  const method = event.requestContext?.http?.method?.toUpperCase() ?? 'GET';
  const path = (event.rawPath ?? '/').replace(/\/+$/, '') || '/';
  const requestId = context.awsRequestId || event.requestContext?.requestId || crypto.randomUUID();
  const headers = lowerCase(event.headers);
  const request = (): V1Request => ({ requestId, headers, body: parseJsonBody(event.body, event.isBase64Encoded) });
  try {
    if (method === 'POST' && path === '/v1/chat/completions') return await chatCompletions(request());
    if (method === 'POST' && path === '/v1/embeddings') return await embeddings(request());
    if (method === 'GET' && path === '/v1/models') return await listModelsV1({ requestId, headers, body: undefined });
    if (method === 'GET' && path.startsWith('/v1/models/')) {
      return await listModelsV1({ requestId, headers, body: undefined }, safeDecode(path.slice('/v1/models/'.length)));
    }
    throw errors.notFound(`Unknown route: ${method} ${path}`);
  } catch (e) {
    return v1Error(isGatewayError(e) ? e : errors.internal(), requestId);
  }
}

export const handler = middy<APIGatewayProxyEventV2, V1Response, Error, Context>({ streamifyResponse: true }).handler(route);
