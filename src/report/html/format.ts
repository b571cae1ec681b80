/**
 * Plain-text views of the document's values, shared by the SVG, the details panels and the op
 * table: observations as the text reports print them, counts and their differences, and the
 * comparison of an observation with its expectation (to shade where they differ).
 */

const MASK64 = (1n << 64n) - 1n;

/** A "0x.." string as a 64-bit BigInt, or undefined when it is not one. */
export function parseHex(s: unknown): bigint | undefined {
  if (typeof s !== 'string' || !/^0x[0-9a-fA-F]{1,16}$/.test(s)) return undefined;
  return BigInt(s);
}

/** A 64-bit value as lower-case "0x..". */
export function hex(v: bigint): string {
  return '0x' + (v & MASK64).toString(16);
}

/** The counts that passed from `before` to `after` (modulo 2^64), as "+0x..", or "" when none or unreadable. */
export function countDelta(before: string, after: string): string {
  const a = parseHex(before);
  const b = parseHex(after);
  if (a === undefined || b === undefined) return before === after ? '' : '?';
  const d = (b - a) & MASK64;
  return d === 0n ? '' : '+' + hex(d);
}

/** Two counts are the same count (case and leading zeros aside). */
export function sameCount(a: string, b: string): boolean {
  const x = parseHex(a);
  const y = parseHex(b);
  return x !== undefined && y !== undefined ? x === y : a === b;
}

function valueText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return '[' + v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(',') + ']';
  return JSON.stringify(v) ?? String(v);
}

/** The fields of an observation in the order the text report prints them; anything else after, sorted. */
const FIELD_ORDER = ['value', 'unknown', 'fault', 'elapsed', 'irq'] as const;

/** An observation as one line, "value=0x0 unknown=0xffffffff irq=[vtimer]". */
export function observationText(obs: Readonly<Record<string, unknown>> | null): string {
  if (obs === null) return 'implementation failed';
  const parts: string[] = [];
  for (const k of FIELD_ORDER) if (k in obs && obs[k] !== undefined) parts.push(`${k}=${valueText(obs[k])}`);
  const rest = Object.keys(obs)
    .filter((k) => !(FIELD_ORDER as readonly string[]).includes(k) && obs[k] !== undefined)
    .sort();
  for (const k of rest) parts.push(`${k}=${valueText(obs[k])}`);
  return parts.join(' ');
}

/** The interrupt lines an observation lists as asserted (empty when it lists none or is null). */
export function irqLines(obs: Readonly<Record<string, unknown>> | null): readonly string[] {
  const v = obs?.['irq'];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * Whether `observed` agrees with `expected` as the trace format defines it: equal `irq`, `fault`
 * and `elapsed`, and `value` equal outside the expectation's `unknown` mask. A null observation
 * never agrees. (The property may still allow a difference, e.g. the deferred contract's lag:
 * the page shades differences and marks only `divergentOp` as the failure.)
 */
export function agrees(expected: Readonly<Record<string, unknown>>, observed: Readonly<Record<string, unknown>> | null): boolean {
  return observed !== null && linesAgree(expected, observed) && readAgrees(expected, observed);
}

/** The `irq` lists name the same lines. */
export function linesAgree(expected: Readonly<Record<string, unknown>>, observed: Readonly<Record<string, unknown>> | null): boolean {
  if (observed === null) return false;
  const set = (o: Readonly<Record<string, unknown>>): string => [...irqLines(o)].sort().join(',');
  return set(expected) === set(observed);
}

/** `fault`, `elapsed` and `value` (outside the `unknown` mask) agree: everything but the lines. */
export function readAgrees(expected: Readonly<Record<string, unknown>>, observed: Readonly<Record<string, unknown>> | null): boolean {
  if (observed === null) return false;
  for (const k of ['fault', 'elapsed'] as const) {
    if (!sameScalar(expected[k], observed[k])) return false;
  }
  const ev = expected['value'];
  const ov = observed['value'];
  if (ev === undefined || ov === undefined) return ev === ov;
  const e = parseHex(ev);
  const o = parseHex(ov);
  if (e === undefined || o === undefined) return ev === ov;
  const mask = parseHex(expected['unknown']) ?? 0n;
  return ((e ^ o) & ~mask & MASK64) === 0n;
}

/** What an op read or how it ended, in a few characters: the value, "fault trap", "elapsed 0x40"; "" when none. */
export function readText(obs: Readonly<Record<string, unknown>> | null): string {
  if (obs === null) return '✕ failed';
  const parts: string[] = [];
  if (obs['fault'] !== undefined) parts.push(`fault ${valueText(obs['fault'])}`);
  if (obs['value'] !== undefined) parts.push(valueText(obs['value']));
  if (obs['elapsed'] !== undefined) parts.push(`elapsed ${valueText(obs['elapsed'])}`);
  return parts.join(' ');
}

function sameScalar(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  const x = parseHex(a);
  const y = parseHex(b);
  if (x !== undefined && y !== undefined) return x === y;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The timers' long names, for lane labels and the legend. */
export const TIMER_INFO: Readonly<Record<string, { readonly name: string; readonly ppi: number }>> = {
  hptimer: { name: 'EL2 physical', ppi: 26 },
  hvtimer: { name: 'EL2 virtual', ppi: 28 },
  ptimer: { name: 'EL1 physical', ppi: 30 },
  vtimer: { name: 'EL1 virtual', ppi: 27 },
};

/** "0x1f0" for a slot offset. */
export function offsetText(offset: number): string {
  return '0x' + Math.max(0, Math.trunc(offset)).toString(16);
}
