/** Reading item attributes back: the table holds what the store wrote, but a missing attribute must not become "undefined". */
export function str(v: unknown, fallback = ''): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return fallback;
}
