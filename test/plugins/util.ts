/** Helpers for the plug-in tests: running traces on an implementation next to the reference. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REGISTER_BY_NAME } from '../../models/arch/registers.js';
import { VOCABULARIES, type Trace, type Vocabulary } from '../../models/arch/vocabulary.js';
import { parseTraceText } from '../../src/trace/parse.js';

export { firstDivergenceOf as firstDivergence, type Divergence } from '../support/run.js';
export { agrees } from '../support/oracle.js';
/** A valid random trace (the tests' own arbitrary, test/support/arbitraries.ts). */
import { validTraceArbOf } from '../support/arbitraries.js';

/** Traces of the first trace vocabulary: what the example implementations (vocabulary 1) understand. */
export const traceArb = validTraceArbOf(1);

/** Does `t` use only what trace vocabulary `v` has (its ops, registers, features, and `absent` where allowed)? */
export function inVocabulary(t: Trace, v: Vocabulary): boolean {
  const row = VOCABULARIES[v];
  return t.ops.every((o) => row.ops.includes(o.op) && (o.op !== 'msr' && o.op !== 'mrs' || (REGISTER_BY_NAME.get(o.reg)?.since ?? 1) <= v)) &&
    t.config.features.every((f) => row.features.includes(f)) && (row.absent || !t.config.absent?.length);
}

/**
 * Every trace in examples/ and examples/plugin/ (the hand-written ones the plug-ins must pass)
 * within trace vocabulary `v` (default 1: what the example implementations speak).
 */
export function exampleTraces(v: Vocabulary = 1): { file: string; trace: Trace }[] {
  const files = ['examples', 'examples/plugin'].flatMap((d) =>
    readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => join(d, f)));
  return files.map((file) => ({ file, trace: parseTraceText(readFileSync(file, 'utf8'), file) })).filter(({ trace }) => inVocabulary(trace, v));
}

export function loadTrace(file: string): Trace {
  return parseTraceText(readFileSync(file, 'utf8'), file);
}
