/**
 * Escaping for every string that comes from a document. One function serves text content and
 * quoted attribute values alike (HTML and inline SVG), so that nothing from a document can open
 * a tag, close an attribute or start an entity.
 */

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `s` safe inside element content and inside a double- or single-quoted attribute value. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** A number for an SVG coordinate attribute: at most two decimals, no "-0", no exponent. */
export function num(n: number): string {
  if (!Number.isFinite(n)) return '0';
  const r = Math.round(n * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}
