/**
 * The console's security headers, one definition for both places that serve it: the local server
 * (local/console-static.ts) and the stack's CloudFront response headers policy (lib/constructs/console-site.ts).
 *
 * The SPA loads only its own hashed scripts and styles; it talks to the gateway APIs (same origin locally, the
 * HTTP API and the chat function URL in the stack) and shows images the user picked (data: and blob: URLs).
 * `style-src 'unsafe-inline'` is the one concession: Mantine writes its theme variables into a <style> element at
 * run time. Scripts stay strictly 'self'.
 */
export function consoleCsp(connectSrc: string[] = []): string {
  const directives: Record<string, string[]> = {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:', 'blob:'],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'", ...connectSrc],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, values]) => `${name} ${values.join(' ')}`)
    .join('; ');
}

/** The other headers every console response carries (CloudFront sets the same through its policy). */
export const CONSOLE_SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};
