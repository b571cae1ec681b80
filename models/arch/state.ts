/**
 * Model states as plain records: bigints, numbers, booleans, strings, undefined, and arrays and
 * records of them. Every model keeps its whole state in one such record, so that a state can be
 * copied, compared and hashed without knowing the model (the exhaustive search depends on it).
 */

export type StateValue = bigint | number | boolean | string | undefined | null | readonly StateValue[] | { readonly [k: string]: StateValue };

/** A deep copy of a state record (any record made of StateValues: interfaces need no index signature). */
export function cloneState<T>(s: T): T {
  if (typeof s !== 'object' || s === null) return s;
  if (Array.isArray(s)) return s.map(cloneState) as unknown as T;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(s)) out[k] = cloneState((s as Record<string, unknown>)[k]);
  return out as T;
}

/** A canonical text of a state: equal states (field by field) give equal keys, different ones different keys. */
export function stateKey(s: unknown): string {
  switch (typeof s) {
    case 'bigint': return s.toString(16) + 'n';
    case 'number': return String(s);
    case 'boolean': return s ? 'T' : 'F';
    case 'string': return JSON.stringify(s);
    case 'undefined': return 'u';
    case 'object': {
      if (s === null) return 'N';
      if (Array.isArray(s)) return '[' + s.map(stateKey).join(',') + ']';
      const o = s as Record<string, unknown>;
      return '{' + Object.keys(o).sort().map((k) => k + ':' + stateKey(o[k])).join(',') + '}';
    }
    default:
      throw new Error(`stateKey: not a state value (${typeof s})`);
  }
}

/** Are two states equal field by field? */
export const sameState = (a: unknown, b: unknown): boolean => stateKey(a) === stateKey(b);
