import { z } from 'zod';
import { GatewayError } from '../../errors.js';
import { checkAddress, ipLiteralFamily, isMetadataHostname, normalizeHostname } from '../../net/ip-policy.js';

/** Alibaba Cloud's metadata service: inside the shared 100.64/10 range, which stays allowed. */
const ALIBABA_METADATA = '100.100.100.200';

/**
 * Loopback and private upstreams are fine (a vLLM next door); link-local addresses — the cloud metadata service
 * among them — unspecified and multicast addresses are never an OpenAI-compatible server, so they are refused.
 */
function isRefusedHost(hostname: string): boolean {
  const host = normalizeHostname(hostname);
  if (isMetadataHostname(host) || host === ALIBABA_METADATA) return true;
  if (ipLiteralFamily(host) === 0) return false;
  const verdict = checkAddress(host);
  return !verdict.allowed && ['link-local', 'metadata', 'unspecified', 'multicast', 'broadcast', 'invalid'].includes(verdict.category);
}

/**
 * An `openai-compatible` model row's config: any server that speaks OpenAI chat completions (vLLM, Ollama, LM
 * Studio, another gateway). The base URL is the admin's own choice, so loopback and private addresses are allowed,
 * link-local and metadata ones are not (client-supplied URLs, such as image URLs, keep the full SSRF guard); the API
 * key and header values are shown masked by the admin API.
 */
export const openAICompatibleConfigSchema = z.object({
  /** e.g. http://127.0.0.1:11434/v1 — `/chat/completions` is appended. */
  baseUrl: z
    .string()
    .trim()
    .max(2048)
    .refine((v) => {
      try {
        const u = new URL(v);
        return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password;
      } catch {
        return false;
      }
    }, 'must be an http(s) URL without credentials')
    .refine((v) => !isRefusedHost(URL.canParse(v) ? new URL(v).hostname : ''), 'must not name a link-local or metadata address'),
  /** The upstream's model name. */
  modelId: z.string().trim().min(1).max(256),
  apiKey: z.string().max(4096).optional(),
  /** Extra request headers (e.g. an organisation header); at most 20. */
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'header names are letters, digits and hyphens'), z.string().max(4096))
    .refine((h) => Object.keys(h).length <= 20, 'at most 20 headers')
    .optional(),
  maxTokens: z.number().int().positive().optional(),
  /** Time to the upstream's response headers (default 60 s). */
  timeoutMs: z.number().int().positive().max(900_000).optional(),
});
export type OpenAICompatibleConfig = z.infer<typeof openAICompatibleConfigSchema>;

export function parseOpenAICompatibleConfig(raw: unknown): OpenAICompatibleConfig {
  const parsed = openAICompatibleConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new GatewayError(500, `This model's openai-compatible config is invalid (${where}).`, {
      kind: 'internal',
      code: 'model_config_invalid',
    });
  }
  return parsed.data;
}
