/**
 * Upstream error text (Bedrock's, or an openai-compatible server's) is shown to API clients and stored in thread
 * records users can read, and it may name ARNs (account ids, role and profile names), internal URLs or credentials
 * the upstream echoes. One sanitiser for every provider: ARNs become `arn:…`, bare 12-digit account ids are masked,
 * URLs become `<url>`, bearer tokens, `sk-`-style API keys and AWS access key ids become `****`, whitespace is
 * collapsed and the text is capped. Everything else is kept, because the rest of a validation message is what tells
 * the client what to fix.
 */

/** Longest message handed to a client (characters, before the trailing ellipsis). */
export const MAX_UPSTREAM_MESSAGE = 300;

/** Input is cut to this before any regex runs, so a hostile or huge upstream message costs bounded work. */
const MAX_SCANNED = MAX_UPSTREAM_MESSAGE * 4;

// Every regex below is a single pass with no nested or adjacent overlapping quantifiers (linear time).
const ARN = /arn:aws[a-z-]*:[^\s,;"'`)\]}>]*/gi;
const ACCOUNT_ID = /(?<!\d)\d{12}(?!\d)/g;
const URL_TEXT = /\b(?:https?|wss?):\/\/[^\s"'`<>,)]*/gi;
const BEARER = /\bBearer\s+[^\s"'`,;)]+/gi;
const API_KEY = /\b(?:sk|pk|rk|br)[-_][A-Za-z0-9_-]{8,}/g;
const AWS_ACCESS_KEY = /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g;

export function sanitizeUpstreamMessage(message: string): string {
  const cleaned = message
    .slice(0, MAX_SCANNED)
    .replace(ARN, 'arn:…')
    .replace(URL_TEXT, '<url>')
    .replace(BEARER, 'Bearer ****')
    .replace(API_KEY, '****')
    .replace(AWS_ACCESS_KEY, '****')
    .replace(ACCOUNT_ID, '************')
    .replace(/\s+/g, ' ')
    .trim();
  return cleaned.length > MAX_UPSTREAM_MESSAGE ? `${cleaned.slice(0, MAX_UPSTREAM_MESSAGE).trimEnd()}…` : cleaned;
}
