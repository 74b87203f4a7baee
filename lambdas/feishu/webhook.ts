import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handleWebhook } from '../core/feishu/webhook-handler.js';
import { correlation } from '../core/http/correlation.js';
import { json } from '../core/http/envelope.js';
import { logger } from '../core/log.js';

/**
 * POST /bot/feishu/{id}/webhook on the HTTP API (payload 2.0). Public: the bot's verification token or encryptKey
 * signature is the authentication (see core/feishu/webhook-handler.ts). The raw body is kept byte for byte,
 * because the signature covers it.
 */
const PATH = /^\/bot\/feishu\/([^/]+)\/webhook\/?$/;

async function webhook(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const method = event.requestContext?.http?.method?.toUpperCase() ?? 'POST';
  // API Gateway hands the path parameter over decoded already; only the raw path needs decoding (once).
  const botId = event.pathParameters?.id ?? decodeOrUndefined(PATH.exec(event.rawPath ?? '')?.[1]);
  if (!botId) return json(404, { error: { code: 'not_found', message: 'No such route.' } });
  if (method !== 'POST') return json(405, { error: { code: 'method_not_allowed', message: 'Use POST.' } });
  const rawBody = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  try {
    const res = await handleWebhook({ botId, rawBody, headers: event.headers ?? {} });
    return json(res.status, res.body);
  } catch (e) {
    logger.error('feishu webhook failed', { error: e as Error });
    // Not acknowledged: Feishu retries, and the event ledger keeps the retry from answering twice.
    return json(500, { error: { code: 'internal_error', message: 'Internal error.' } });
  }
}

/** A malformed escape (`%ZZ`) names no bot: undefined, answered 404. */
function decodeOrUndefined(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().use(correlation()).handler(webhook);
