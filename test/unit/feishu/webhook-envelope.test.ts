import { describe, expect, it } from 'vitest';
import { encryptEvent, signBody } from '../../../lambdas/core/feishu/crypto.js';
import { parseWebhook, type WebhookHeaders } from '../../../lambdas/core/feishu/webhook-envelope.js';

const TOKEN = 'verif-token-123';
const KEY = 'encrypt-key-456';
const NOW = 1_720_000_000_000;
const TS = String(NOW / 1000);

const v2Event = (token = TOKEN) => ({
  schema: '2.0',
  header: {
    event_id: 'ev_1',
    event_type: 'im.message.receive_v1',
    token,
    create_time: String(NOW),
    app_id: 'cli_x',
    tenant_key: 'tk_1',
  },
  event: { message: { message_id: 'om_1' } },
});

function signed(payload: unknown, key = KEY, opts: { ts?: string; nonce?: string } = {}) {
  const rawBody = JSON.stringify({ encrypt: encryptEvent(payload, key) });
  const timestamp = opts.ts ?? TS;
  const nonce = opts.nonce ?? 'nonce-1';
  const headers: WebhookHeaders = {
    'X-Lark-Request-Timestamp': timestamp,
    'X-Lark-Request-Nonce': nonce,
    'X-Lark-Signature': signBody({ timestamp, nonce, encryptKey: key, rawBody }),
  };
  return { rawBody, headers };
}

describe('parseWebhook', () => {
  it('answers a plain url_verification challenge when the token matches', () => {
    const rawBody = JSON.stringify({ challenge: 'ch-1', token: TOKEN, type: 'url_verification' });
    expect(parseWebhook({ rawBody, headers: {}, bot: { verificationToken: TOKEN, allowUnsigned: true }, now: NOW })).toEqual({
      kind: 'challenge',
      challenge: 'ch-1',
    });
  });

  it('refuses a plain challenge with a bad token (401)', () => {
    const rawBody = JSON.stringify({ challenge: 'ch-1', token: 'nope', type: 'url_verification' });
    expect(parseWebhook({ rawBody, headers: {}, bot: { verificationToken: TOKEN, allowUnsigned: true }, now: NOW })).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
  });

  it('answers an encrypted challenge (unsigned, as Feishu sends it)', () => {
    const rawBody = JSON.stringify({
      encrypt: encryptEvent({ challenge: 'ch-2', token: TOKEN, type: 'url_verification' }, KEY),
    });
    expect(parseWebhook({ rawBody, headers: {}, bot: { verificationToken: TOKEN, encryptKey: KEY }, now: NOW })).toEqual({
      kind: 'challenge',
      challenge: 'ch-2',
    });
    // encryptKey only: decrypting with the key is the proof.
    expect(parseWebhook({ rawBody, headers: {}, bot: { encryptKey: KEY }, now: NOW })).toEqual({
      kind: 'challenge',
      challenge: 'ch-2',
    });
    // token configured but different
    expect(parseWebhook({ rawBody, headers: {}, bot: { verificationToken: 'x', encryptKey: KEY }, now: NOW })).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
  });

  it('refuses a challenge encrypted with another key (401)', () => {
    const rawBody = JSON.stringify({
      encrypt: encryptEvent({ challenge: 'ch-3', token: TOKEN, type: 'url_verification' }, 'other key'),
    });
    expect(parseWebhook({ rawBody, headers: {}, bot: { encryptKey: KEY }, now: NOW })).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
  });

  it('accepts a signed, encrypted v2 event', () => {
    const { rawBody, headers } = signed(v2Event());
    expect(parseWebhook({ rawBody, headers, bot: { verificationToken: TOKEN, encryptKey: KEY }, now: NOW })).toEqual({
      kind: 'event',
      schema: '2.0',
      eventId: 'ev_1',
      eventType: 'im.message.receive_v1',
      event: { message: { message_id: 'om_1' } },
      tenantKey: 'tk_1',
      appId: 'cli_x',
      createTime: String(NOW),
    });
    // as a Buffer, with array-valued headers (node:http style)
    const h2 = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), [v as string]]));
    expect(parseWebhook({ rawBody: Buffer.from(rawBody), headers: h2, bot: { encryptKey: KEY }, now: NOW })).toMatchObject({
      kind: 'event',
      eventId: 'ev_1',
    });
  });

  it('refuses bad signatures, tampered bodies, missing signatures, stale timestamps (401)', () => {
    const bot = { verificationToken: TOKEN, encryptKey: KEY };
    const { rawBody, headers } = signed(v2Event());
    const bad = { ...headers, 'X-Lark-Signature': 'a'.repeat(64) };
    expect(parseWebhook({ rawBody, headers: bad, bot, now: NOW })).toMatchObject({ kind: 'rejected', status: 401 });
    // the body re-serialised with other whitespace no longer verifies: the signature is over the RAW body
    const reserialised = JSON.stringify(JSON.parse(rawBody), null, 1);
    expect(parseWebhook({ rawBody: reserialised, headers, bot, now: NOW })).toMatchObject({ kind: 'rejected', status: 401 });
    const { 'X-Lark-Signature': _sig, ...unsigned } = headers;
    expect(parseWebhook({ rawBody, headers: unsigned, bot, now: NOW })).toMatchObject({
      kind: 'rejected',
      status: 401,
      reason: 'missing x-lark-signature',
    });
    const old = signed(v2Event(), KEY, { ts: String(NOW / 1000 - 9 * 3600) });
    expect(parseWebhook({ rawBody: old.rawBody, headers: old.headers, bot, now: NOW })).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
    expect(
      parseWebhook({
        rawBody: old.rawBody,
        headers: old.headers,
        bot,
        now: NOW,
        timestampWindow: { maxAgeSeconds: 10 * 3600, maxFutureSeconds: 60 },
      }),
    ).toMatchObject({ kind: 'event' });
    // signed with another key
    const other = signed(v2Event(), 'other key');
    expect(parseWebhook({ rawBody: other.rawBody, headers: other.headers, bot, now: NOW })).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
  });

  it('checks the token inside an encrypted event when a verificationToken is configured', () => {
    const { rawBody, headers } = signed(v2Event('wrong'));
    expect(parseWebhook({ rawBody, headers, bot: { verificationToken: TOKEN, encryptKey: KEY }, now: NOW })).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
    expect(parseWebhook({ rawBody, headers, bot: { encryptKey: KEY }, now: NOW })).toMatchObject({ kind: 'event' });
  });

  it('plaintext events of a bot that allows unsigned events: the token must match (v2 header.token and v1 token)', () => {
    const bot = { verificationToken: TOKEN, allowUnsigned: true };
    expect(parseWebhook({ rawBody: JSON.stringify(v2Event()), headers: {}, bot, now: NOW })).toMatchObject({
      kind: 'event',
      eventId: 'ev_1',
    });
    expect(parseWebhook({ rawBody: JSON.stringify(v2Event('bad')), headers: {}, bot, now: NOW })).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
    const { token: _t, ...headerNoToken } = v2Event().header;
    expect(parseWebhook({ rawBody: JSON.stringify({ ...v2Event(), header: headerNoToken }), headers: {}, bot, now: NOW })).toMatchObject({
      kind: 'rejected',
      status: 401,
    });

    const v1 = {
      uuid: 'uuid-1',
      token: TOKEN,
      ts: '1720000000.1',
      type: 'event_callback',
      event: { type: 'message', app_id: 'cli_x', tenant_key: 'tk', text: 'hi' },
    };
    expect(parseWebhook({ rawBody: JSON.stringify(v1), headers: {}, bot, now: NOW })).toEqual({
      kind: 'event',
      schema: '1.0',
      eventId: 'uuid-1',
      eventType: 'message',
      event: v1.event,
      tenantKey: 'tk',
      appId: 'cli_x',
    });
    expect(parseWebhook({ rawBody: JSON.stringify({ ...v1, token: 'no' }), headers: {}, bot, now: NOW })).toMatchObject({
      kind: 'rejected',
      status: 401,
    });
  });

  it('a token-only bot without allowUnsigned refuses everything, even with the right token (401): nothing is signed', () => {
    const bot = { verificationToken: TOKEN };
    const v1 = { uuid: 'uuid-1', token: TOKEN, type: 'event_callback', event: { type: 'message' } };
    for (const body of [v2Event(), v1, { challenge: 'c', token: TOKEN, type: 'url_verification' }]) {
      expect(parseWebhook({ rawBody: JSON.stringify(body), headers: {}, bot, now: NOW })).toMatchObject({
        kind: 'rejected',
        status: 401,
        reason: expect.stringContaining('does not allow unsigned'),
      });
      expect(parseWebhook({ rawBody: JSON.stringify(body), headers: {}, bot: { ...bot, allowUnsigned: false }, now: NOW })).toMatchObject({
        status: 401,
      });
    }
    // The same bot with the flag accepts the genuine token, and still refuses a wrong one.
    expect(parseWebhook({ rawBody: JSON.stringify(v2Event()), headers: {}, bot: { ...bot, allowUnsigned: true }, now: NOW })).toMatchObject(
      {
        kind: 'event',
      },
    );
    expect(
      parseWebhook({ rawBody: JSON.stringify(v2Event('forged')), headers: {}, bot: { ...bot, allowUnsigned: true }, now: NOW }),
    ).toMatchObject({ status: 401 });
  });

  it('refuses everything when the bot has no secret at all (401)', () => {
    for (const bot of [{}, { verificationToken: '', encryptKey: '', allowUnsigned: true }, { verificationToken: null, encryptKey: null }]) {
      for (const body of [v2Event(), { challenge: 'c', token: TOKEN, type: 'url_verification' }]) {
        expect(parseWebhook({ rawBody: JSON.stringify(body), headers: {}, bot, now: NOW })).toMatchObject({
          kind: 'rejected',
          status: 401,
        });
      }
    }
  });

  it('with an encryptKey, the signature is checked first: an unsigned or mis-signed plain body is 401, a signed one is accepted', () => {
    const plain = JSON.stringify(v2Event());
    expect(parseWebhook({ rawBody: plain, headers: {}, bot: { encryptKey: KEY }, now: NOW })).toMatchObject({ status: 401 });
    const timestamp = String(Math.floor(NOW / 1000));
    const nonce = 'n0nce';
    const good = {
      'x-lark-request-timestamp': timestamp,
      'x-lark-request-nonce': nonce,
      'x-lark-signature': signBody({ timestamp, nonce, encryptKey: KEY, rawBody: plain }),
    };
    const bad = { ...good, 'x-lark-signature': signBody({ timestamp, nonce, encryptKey: 'another-key-0123456789', rawBody: plain }) };
    expect(parseWebhook({ rawBody: plain, headers: bad, bot: { encryptKey: KEY }, now: NOW })).toMatchObject({ status: 401 });
    // A mismatched signature is 401 even when the body is not JSON at all: nothing is read before the signature.
    expect(parseWebhook({ rawBody: 'not json', headers: bad, bot: { encryptKey: KEY }, now: NOW })).toMatchObject({ status: 401 });
    expect(parseWebhook({ rawBody: plain, headers: good, bot: { encryptKey: KEY }, now: NOW })).toMatchObject({
      kind: 'event',
      eventType: 'im.message.receive_v1',
    });
  });

  it('400 for malformed input', () => {
    const tokenBot = { verificationToken: TOKEN, allowUnsigned: true };
    expect(parseWebhook({ rawBody: 'not json', headers: {}, bot: tokenBot, now: NOW })).toMatchObject({ status: 400 });
    expect(parseWebhook({ rawBody: '{"hello":1}', headers: {}, bot: tokenBot, now: NOW })).toMatchObject({ status: 400 });
    expect(parseWebhook({ rawBody: 'null', headers: {}, bot: tokenBot, now: NOW })).toMatchObject({ status: 400 });
    // encrypted body for a bot without an encryptKey
    const { rawBody } = signed(v2Event());
    expect(parseWebhook({ rawBody, headers: {}, bot: tokenBot, now: NOW })).toMatchObject({ status: 400 });
  });
});
