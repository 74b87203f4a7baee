import { randomBytes } from 'node:crypto';
import { encryptEvent, signBody } from '../../lambdas/core/feishu/crypto.js';

/** Posts `payload` to a bot's webhook as Feishu sends it to a bot with an encryptKey: encrypted, then signed. */
export function postEncryptedEvent(gatewayUrl: string, botId: number, payload: unknown, encryptKey: string): Promise<Response> {
  const rawBody = JSON.stringify({ encrypt: encryptEvent(payload, encryptKey) });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(8).toString('hex');
  return fetch(`${gatewayUrl}/bot/feishu/${botId}/webhook`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-lark-request-timestamp': timestamp,
      'x-lark-request-nonce': nonce,
      'x-lark-signature': signBody({ timestamp, nonce, encryptKey, rawBody }),
    },
    body: rawBody,
  });
}
