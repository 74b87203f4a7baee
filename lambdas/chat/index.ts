import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { asGatewayError, errors } from '../core/errors.js';
import { correlation } from '../core/http/correlation.js';
import { lowerCase, safeDecode } from '../core/http/router.js';
import { parseJsonBody } from '../core/validate.js';
import type { V1Request, V1Response } from '../core/wire/http.js';
import { listModelsV1 } from '../core/wire/models/route.js';
import { openAIErrorResponse } from '../core/wire/openai/errors.js';
import { chatCompletions } from '../core/wire/openai-chat/route.js';
import { embeddings } from '../core/wire/openai-embeddings/route.js';
import { responses } from '../core/wire/openai-responses/route.js';

/**
 * /v1/* on a Lambda function URL with response streaming (invoke mode RESPONSE_STREAM). Thin: parse the
 * event, dispatch by path to the wire API's route, hand back status, headers and a string or a stream of frames.
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
    if (path === '/v1/responses' || path.startsWith('/v1/responses/')) {
      const query = event.queryStringParameters ?? {};
      return await responses(method, path, method === 'POST' ? { ...request(), query } : { requestId, headers, body: undefined, query });
    }
    if (method === 'GET' && path === '/v1/models') return await listModelsV1({ requestId, headers, body: undefined });
    if (method === 'GET' && path.startsWith('/v1/models/')) {
      return await listModelsV1({ requestId, headers, body: undefined }, safeDecode(path.slice('/v1/models/'.length)));
    }
    throw errors.notFound(`Unknown route: ${method} ${path}`);
  } catch (e) {
    return openAIErrorResponse(asGatewayError(e, requestId), requestId);
  }
}

export const handler = middy<APIGatewayProxyEventV2, V1Response, Error, Context>({ streamifyResponse: true })
  .use(correlation())
  .handler(route);
