import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from '../log.js';

/**
 * Correlation for every function: each log line carries the Lambda request id (Powertools' logger context:
 * function_request_id, cold_start, ...; keys of one invocation never leak into the next), and every HTTP response
 * carries `x-request-id` with the same id, so a client's report finds the logs.
 */
export function correlation<E, R>(): Array<MiddlewareObj<E, R, Error, Context>> {
  return [injectLambdaContext(logger, { resetKeys: true }) as MiddlewareObj<E, R, Error, Context>, requestIdHeader<E, R>()];
}

function requestIdHeader<E, R>(): MiddlewareObj<E, R, Error, Context> {
  return {
    after: (request) => {
      const response = request.response as { statusCode?: number; headers?: Record<string, string | number | boolean> } | null | undefined;
      // HTTP responses only (API Gateway and function URL results); the worker and settle functions return data.
      if (response && typeof response === 'object' && typeof response.statusCode === 'number' && request.context?.awsRequestId) {
        response.headers = { ...response.headers, 'x-request-id': request.context.awsRequestId };
      }
    },
  };
}
