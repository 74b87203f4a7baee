import { describe, expect, it } from 'vitest';
import { isAllowedBotDomain } from '../../../lambdas/core/feishu/bots.js';

describe("a bot's config.domain (the host the app secret is sent to)", () => {
  it('accepts the platform names, https URLs, and plain http only to loopback', () => {
    for (const ok of [
      'feishu',
      'Lark',
      'https://open.feishu.cn',
      'https://open.larksuite.com/',
      'https://feishu.internal.example.com:8443/base',
      'http://127.0.0.1:43137',
      'http://localhost:8080',
      'http://LOCALHOST',
      'http://[::1]:9000',
    ]) {
      expect(isAllowedBotDomain(ok), ok).toBe(true);
    }
  });

  it('refuses cleartext http to any other host, other schemes, credentials in the URL and garbage', () => {
    for (const bad of [
      'http://open.feishu.cn',
      'http://example.com',
      'http://10.0.0.5:8080',
      'http://192.168.1.1',
      'http://localhost.example.com',
      'http://127.0.0.1.nip.io',
      'ftp://open.feishu.cn',
      'file:///etc/passwd',
      'https://user:pass@open.feishu.cn',
      'https://',
      'open.feishu.cn',
      'https://open.feishu.cn/a b',
      'feishu.cn',
    ]) {
      expect(isAllowedBotDomain(bad), bad).toBe(false);
    }
  });
});
