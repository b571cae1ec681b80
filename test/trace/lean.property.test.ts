/**
 * parseTraceText reads a trace without building its JSON tree (a lean scan, then one element at
 * a time). It must give exactly what JSON.parse + parseTraceValue give: the same trace, or the
 * same one-line error, on well-formed documents and on corrupted ones.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../models/arch/errors.js';
import { formatTrace, traceJson } from '../../src/trace/format.js';
import { parseTraceText, parseTraceValue } from '../../src/trace/parse.js';
import { validTraceArb as traceArb } from '../support/arbitraries.js';
import { referenceRun } from '../../src/engine/runner.js';

/** The reading by JSON.parse of the whole text, as parseTraceText did before the lean reader. */
function classic(text: string, source: string): unknown {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { error: `${source}: not valid JSON: ${(e as Error).message}` };
  }
  try {
    return parseTraceValue(doc);
  } catch (e) {
    if (e instanceof InputError) return { error: `${source}: ${e.message}` };
    throw e;
  }
}
function lean(text: string, source: string): unknown {
  try {
    return parseTraceText(text, source);
  } catch (e) {
    if (e instanceof InputError) return { error: e.message };
    throw e;
  }
}

const withObservations = traceArb.map((t) => ({ ...t, observations: referenceRun(t).map((x) => x.exp) }));
const texts = fc.oneof(
  traceArb.map((t) => formatTrace(t)),
  withObservations.map((t) => formatTrace(t)),
  withObservations.map((t) => JSON.stringify(traceJson(t))),
  withObservations.map((t) => JSON.stringify(traceJson(t), null, 1)),
);

describe('the lean trace reader agrees with JSON.parse + parseTraceValue', () => {
  it('on well-formed traces', () => {
    fc.assert(fc.property(texts, (text) => {
      expect(lean(text, 'f')).toEqual(classic(text, 'f'));
    }), { numRuns: 300, seed: 11 });
  });

  it('on traces with a character deleted, inserted or replaced', () => {
    const junk = fc.constantFrom('{', '}', '[', ']', '"', ',', ':', ' ', '\\', 'x', '0', 'null', '"op"', '{"op":"eret"}', '"__proto__"', '\u0001');
    fc.assert(fc.property(texts, fc.nat(), fc.nat(2), junk, (text, at, how, ch) => {
      const k = at % (text.length + 1);
      const t = how === 0 ? text.slice(0, k) + text.slice(k + 1) : how === 1 ? text.slice(0, k) + ch + text.slice(k) : text.slice(0, k) + ch + text.slice(k + 1);
      const want = classic(t, 'f');
      const got = lean(t, 'f');
      // Either both read a trace (the same), or both fail; a syntax error is JSON.parse's own message.
      expect(got).toEqual(want);
    }), { numRuns: 2000, seed: 12 });
  });

  it('on odd but valid documents', () => {
    for (const text of [
      '  {"format":"nvconform-trace/1","config":{"guest":"vhe"},"ops":[]}  \n',
      '{"ops":[ ],"config":{"guest":"nvhe"},"format":"nvconform-trace/1"}',
      '{"format":"nvconform-trace/1","format":"nvconform-trace/1","config":{"guest":"vhe"},"ops":[]}',
      '{"format":"nvconform-trace/1","config":{"guest":"vhe"},"ops":[],"__proto__":1}',
      '{"format":"nvconform-trace/1","config":{"guest":"vhe"},"ops":{"op":"eret"}}',
      '{"format":"nvconform-trace/1","config":{"guest":"vhe"},"ops":[{"op":"eret"}],"observations":[{"irq":[]},{"irq":[]}]}',
      '{"format":"nvconform-trace/1","config":{"guest":"vhe"},"ops":[{"op":"bogus"},{"op":"eret"}],"observations":7}',
      '{"format":"nvconform-trace/1","config":{"guest":"vhe"},"ops":[{"op":"bogus"}, {bad]}',
      '[]', '"x"', '', '{}', '{"a":1,}',
    ]) expect(lean(text, 'f'), text).toEqual(classic(text, 'f'));
  });
});
