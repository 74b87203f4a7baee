import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { correlation } from '../core/http/correlation.js';
import { createApiHandler } from '../core/http/router.js';
import { userRoutes } from './routes.js';

/** /user/* on the HTTP API: any valid key; every route is scoped to the caller's own records. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(correlation())
  .handler(createApiHandler(userRoutes, {}));
