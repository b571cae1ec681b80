/**
 * Properties: each judges one side-by-side execution op by op. A property is a factory of
 * per-trace judges, so that one judge holds whatever history it needs (versions, anchors).
 */
import type { Declaration, StepDetail } from '../models/arch/implementation.js';
import type { Meaning, RegisterRow } from '../models/arch/registers.js';
import type { El, Expectation, Observation, Op, TraceConfig } from '../models/arch/vocabulary.js';
import type { Route } from '../models/nv2/routing.js';
import type { ReferenceModel } from '../models/reference/reference.js';

export const PROPERTY_NAMES = ['architectural', 'deferred', 'cval-tval', 'no-tval-in-vncr', 'vncr-verbatim'] as const;
export type PropertyName = (typeof PROPERTY_NAMES)[number];

/** What every judge is told about the run it judges. */
export interface RunContext {
  readonly config: TraceConfig;
  /** What the implementation declares: its layout, whether it has a page, its host policy, whether it reports detail. */
  readonly declaration: Declaration;
}

/** One op, executed on both sides. */
export interface OpContext {
  readonly index: number;
  readonly op: Op;
  /** The vCPU's EL before and after the op (architecture). */
  readonly el: El;
  readonly elAfter: El;
  readonly exp: Expectation;
  readonly obs: Observation;
  readonly detail: StepDetail | undefined;
  /** The reference after the op. */
  readonly ref: ReferenceModel;
  /** For msr/mrs: the register row and its architectural meaning at `el`. */
  readonly row: RegisterRow | undefined;
  readonly meaning: Meaning | undefined;
  /** For msr/mrs at vEL2: where the NV2 hardware sends it under the implementation's declaration. */
  readonly route: Route | undefined;
}

export interface Violation {
  readonly index: number;
  /** One sentence in the architecture's terms. */
  readonly explanation: string;
}

export interface Judge {
  /** Called once with the reference in its initial state, before the first op. */
  begin?(ref: ReferenceModel): void;
  /** undefined: the op is fine. */
  step(c: OpContext): Violation | undefined;
  /**
   * For the exhaustive search, a judge with history gives a copy of it (`snapshot`), returns to
   * one (`restore`), and a canonical text of the part that decides future verdicts (`key`; what
   * only shapes an explanation, such as the index of the last host entry, is left out).
   * A judge without these has no history.
   */
  snapshot?(): unknown;
  restore?(s: unknown): void;
  key?(): string;
  /**
   * The same as `key`, as 64-bit words written into `buf` from word `at` (returns the next free
   * word; equal keys, equal words): what the exhaustive search merges states by. Optional; a
   * judge with only `key` is merged by its text. It may write past the end of `buf` (the writes
   * are lost): the caller then grows `buf` and asks again.
   */
  keyInto?(buf: BigUint64Array, at: number): number;
}

/** A judge's `key` text from its `keyInto` words (one definition of its history, two forms). */
export function wordsKey(j: Required<Pick<Judge, 'keyInto'>>): string {
  let buf = new BigUint64Array(64);
  let n = j.keyInto(buf, 0);
  if (n > buf.length) n = j.keyInto((buf = new BigUint64Array(n)), 0);
  let k = '';
  for (let i = 0; i < n; i++) k += `${buf[i]!.toString(16)},`;
  return k;
}

export interface Property {
  readonly name: PropertyName;
  readonly summary: string;
  /** A reason the property cannot be judged for this implementation, or undefined. */
  inapplicable?(rc: RunContext): string | undefined;
  /** A violation visible without running anything (for example in the layout itself). */
  staticCheck?(rc: RunContext): string | undefined;
  judge(rc: RunContext): Judge;
}
