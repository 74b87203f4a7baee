import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { asGatewayError, errors } from '../core/errors.js';
import { correlation } from '../core/http/correlation.js';
import { lowerCase, safeDecode } from '../core/http/router.js';
import { Invocation } from '../core/invocation.js';
import { parseJsonBody } from '../core/validate.js';
import { anthropicErrorResponse } from '../core/wire/anthropic-messages/errors.js';
import { anthropicModels } from '../core/wire/anthropic-messages/models.js';
import { countTokens, messages } from '../core/wire/anthropic-messages/route.js';
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
async function route(event: APIGatewayProxyEventV2, context: Context, invocation: Invocation): Promise<V1Response> {
  const method = event.requestContext?.http?.method?.toUpperCase() ?? 'GET';
  const path = (event.rawPath ?? '/').replace(/\/+$/, '') || '/';
  const requestId = context.awsRequestId || event.requestContext?.requestId || crypto.randomUUID();
  const headers = lowerCase(event.headers);
  const query = event.queryStringParameters ?? {};
  const request = (): V1Request => ({ requestId, headers, query, invocation, body: parseJsonBody(event.body, event.isBase64Encoded) });
  // Anthropic clients (Claude Code, the Anthropic SDKs) get Anthropic's shapes, errors included.
  const anthropic =
    path === '/v1/messages' || path.startsWith('/v1/messages/') || (path.startsWith('/v1/models') && !!headers['anthropic-version']);
  try {
    // Claude Code probes the base URL (HEAD /) before its first call.
    if ((method === 'HEAD' || method === 'GET') && path === '/')
      return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: method === 'HEAD' ? '' : '{"status":"ok"}' };
    if (method === 'POST' && path === '/v1/chat/completions') return await chatCompletions(request());
    if (method === 'POST' && path === '/v1/messages') return await messages(request());
    if (method === 'POST' && path === '/v1/messages/count_tokens') return await countTokens(request());
    if (method === 'POST' && path === '/v1/embeddings') return await embeddings(request());
    if (path === '/v1/responses' || path.startsWith('/v1/responses/')) {
      return await responses(method, path, method === 'POST' ? request() : { requestId, headers, query, body: undefined });
    }
    if (method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/'))) {
      const id = path === '/v1/models' ? undefined : safeDecode(path.slice('/v1/models/'.length));
      const input: V1Request = { requestId, headers, query, body: undefined };
      return await (anthropic ? anthropicModels(input, id) : listModelsV1(input, id));
    }
    throw errors.notFound(`Unknown route: ${method} ${path}`);
  } catch (e) {
    const err = asGatewayError(e, requestId);
    return anthropic ? anthropicErrorResponse(err, requestId) : openAIErrorResponse(err, requestId);
  }
}

/** Each invocation's held work (its calls' settlements), by the invocation's context object. */
const invocations = new WeakMap<Context, Invocation>();

// `requestEnd` runs after the response stream has ended: the client has its last byte while the call's settlement
// finishes, and the invocation returns only once it has (invocation.ts). A client that leaves early destroys the
// stream, which waits for the settlement itself (wire/sse.ts).
export const handler = middy<APIGatewayProxyEventV2, V1Response, Error, Context>({
  streamifyResponse: true,
  requestEnd: (request) => invocations.get(request.context)?.done(),
})
  .use(correlation())
  .handler((event, context) => {
    const invocation = new Invocation();
    invocations.set(context, invocation);
    return route(event, context, invocation);
  });
