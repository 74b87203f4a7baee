import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { correlation } from '../core/http/correlation.js';
import { createApiHandler } from '../core/http/router.js';
import { apiKeyRoutes } from './routes/api-key.js';
import { botRoutes } from './routes/bot.js';
import { groupRoutes } from './routes/group.js';
import { modelRoutes } from './routes/model.js';
import { paymentRoutes } from './routes/payment.js';
import { recordRoutes } from './routes/records.js';

/** /admin/* on the HTTP API: every route needs an admin key. One file per URL segment under ./routes. */
export const adminRoutes = [...apiKeyRoutes, ...modelRoutes, ...groupRoutes, ...paymentRoutes, ...recordRoutes, ...botRoutes];

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(correlation())
  .handler(createApiHandler(adminRoutes, { requireRole: 'admin' }));
