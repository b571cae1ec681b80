/**
 * The exhaustive phase's set of product states: against a Map of the keys' full text, over keys
 * that collide on purpose (few distinct words, equal words with different texts, different lengths)
 * and enough of them to grow the table and the arena several times.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StateSet, type StateKey } from '../../src/check/exhaustive.js';

const keyOf = (ws: readonly bigint[], text: string): StateKey => {
  const words = new BigUint64Array(64);
  ws.forEach((w, i) => (words[i] = w));
  return { words, halves: new Uint32Array(words.buffer), n: ws.length, text };
};
const textOf = (ws: readonly bigint[], text: string): string => `${ws.map((w) => w.toString(16)).join(',')}#${text}`;

const keyArb = fc.tuple(
  fc.array(fc.constantFrom(0n, 1n, 1n << 32n, (1n << 64n) - 1n), { maxLength: 6 }),
  fc.constantFrom('', '|', 'a', 'ab'),
);

describe('StateSet', () => {
  it('finds exactly the keys added, with their ids, however they collide', () => {
    fc.assert(fc.property(fc.array(keyArb, { maxLength: 300 }), (keys) => {
      const set = new StateSet();
      const model = new Map<string, number>();
      keys.forEach(([ws, text], id) => {
        const k = keyOf(ws, text);
        const t = textOf(ws, text);
        expect(set.get(k)).toBe(model.get(t));
        if (!model.has(t)) {
          set.set(k, id);
          model.set(t, id);
        }
      });
      for (const [ws, text] of keys) expect(set.get(keyOf(ws, text))).toBe(model.get(textOf(ws, text)));
    }), { seed: 1, numRuns: 200 });
  });

  it('keeps every key through many rounds of growth', () => {
    const set = new StateSet();
    const n = 50_000;
    for (let i = 0; i < n; i++) set.set(keyOf([BigInt(i), BigInt(i * 7) << 40n], i % 3 ? 'x' : ''), i);
    for (let i = 0; i < n; i++) expect(set.get(keyOf([BigInt(i), BigInt(i * 7) << 40n], i % 3 ? 'x' : ''))).toBe(i);
    expect(set.get(keyOf([BigInt(n), BigInt(n * 7) << 40n], ''))).toBeUndefined();
    // The same words with another text are another state.
    expect(set.get(keyOf([1n, 7n << 40n], ''))).toBeUndefined();
  });
});
