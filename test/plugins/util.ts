/** Helpers for the plug-in tests: running traces on an implementation next to the reference. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Trace } from '../../models/arch/vocabulary.js';
import { parseTraceText } from '../../src/trace/parse.js';

export { firstDivergenceOf as firstDivergence, type Divergence } from '../support/run.js';
export { agrees } from '../support/oracle.js';
/** A valid random trace (the tests' own arbitrary, test/support/arbitraries.ts). */
import { validTraceArbOf } from '../support/arbitraries.js';

/** Traces of the first trace vocabulary: what the example implementations (vocabulary 1) understand. */
export const traceArb = validTraceArbOf(1);

/** Every trace in examples/ and examples/plugin/ (the hand-written ones the plug-ins must pass). */
export function exampleTraces(): { file: string; trace: Trace }[] {
  const files = ['examples', 'examples/plugin'].flatMap((d) =>
    readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => join(d, f)));
  return files.map((file) => ({ file, trace: parseTraceText(readFileSync(file, 'utf8'), file) }));
}

export function loadTrace(file: string): Trace {
  return parseTraceText(readFileSync(file, 'utf8'), file);
}
