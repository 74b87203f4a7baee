/**
 * Upstream (Bedrock) error text is shown to API clients and stored in thread records users can read, and it may
 * name ARNs (account ids, role and profile names). One sanitiser for every provider: ARNs become `arn:…`, bare
 * 12-digit account ids are masked, whitespace is collapsed and the text is capped. Everything else is kept, because
 * the rest of a validation message is what tells the client what to fix.
 */

/** Longest message handed to a client (characters, before the trailing ellipsis). */
export const MAX_UPSTREAM_MESSAGE = 300;

/** Input is cut to this before any regex runs, so a hostile or huge upstream message costs bounded work. */
const MAX_SCANNED = MAX_UPSTREAM_MESSAGE * 4;

// Every regex below is a single pass with no nested or adjacent overlapping quantifiers (linear time).
const ARN = /arn:aws[a-z-]*:[^\s,;"'`)\]}>]*/gi;
const ACCOUNT_ID = /(?<!\d)\d{12}(?!\d)/g;

export function sanitizeUpstreamMessage(message: string): string {
  const cleaned = message.slice(0, MAX_SCANNED).replace(ARN, 'arn:…').replace(ACCOUNT_ID, '************').replace(/\s+/g, ' ').trim();
  return cleaned.length > MAX_UPSTREAM_MESSAGE ? `${cleaned.slice(0, MAX_UPSTREAM_MESSAGE).trimEnd()}…` : cleaned;
}
