/**
 * Shrinking further than fast-check can on abstract ops: simplify the config, and drop any single
 * concrete op whose removal keeps the trace failing *the same way* (a property violation stays a
 * violation, an implementation failure stays a failure), until none can go. Ends with a recorded
 * run for the report. A failure that does not recur is never lost: the outcome first observed is
 * kept, marked not reproducible.
 */
import type { El, Expectation, Op, TraceConfig } from '../../models/arch/vocabulary.js';
import { ReferenceModel } from '../../models/reference/reference.js';
import { asGenOps, type GenOp } from '../engine/abstract-ops.js';
import type { Outcome, Runner } from '../engine/runner.js';

/** Runs one trace on the runner being shrunk against. */
export type Rerun = (config: TraceConfig, ops: readonly GenOp[]) => Promise<Outcome>;

/** How a run failed: the implementation failed (crashed, hung, broke its protocol), or a property was violated. */
export type FailureKind = 'failure' | 'violation';

export const failureKind = (o: Outcome): FailureKind | undefined =>
  o.violation === undefined ? undefined : o.failure ? 'failure' : 'violation';

export interface Minimized {
  /** The counterexample to report, recorded. */
  readonly outcome: Outcome;
  /** False: a rerun did not fail the same way; `outcome` is the run as it was observed. */
  readonly reproducible: boolean;
  /** The first implementation failure met while shrinking a property violation (reported beside it). */
  readonly sideFailure?: Outcome;
}

/**
 * An outcome with the reference's side (EL before each op, expectations) filled in where the
 * run was not recorded: the reference is deterministic, so these are the values it had.
 */
export function completed(o: Outcome): Outcome {
  if (o.expected.length === o.ops.length && o.els.length === o.ops.length) return o;
  const ref = new ReferenceModel(o.config);
  const els: El[] = [];
  const expected: Expectation[] = [];
  for (const op of o.ops) {
    els.push(ref.el);
    expected.push(ref.step(op));
  }
  return { ...o, els, expected };
}

export async function minimize(
  runner: Runner, run: Rerun, config0: TraceConfig, gops: readonly GenOp[], observed: Outcome, count: (n: number) => void,
): Promise<Minimized> {
  const kind = failureKind(observed)!;
  let config = config0;
  let side: Outcome | undefined;
  /** Does `o` fail the way the counterexample does? A different failure is remembered, not adopted. */
  const same = (o: Outcome): boolean => {
    const k = failureKind(o);
    if (k !== undefined && k !== kind && k === 'failure') side ??= o;
    return k === kind;
  };
  const rerun = async (c: TraceConfig, ops: readonly GenOp[]): Promise<Outcome> => {
    const o = await run(c, ops);
    count(o.ops.length);
    return { ...o, ops: [...o.ops] };
  };
  const result = (outcome: Outcome, reproducible: boolean): Minimized => ({ outcome: completed(outcome), reproducible, ...(side ? { sideFailure: completed(side) } : {}) });

  /**
   * A rerun to confirm the counterexample: when the implementation fails on it in another way (a
   * crash while a property violation is being confirmed), the crash is kept beside the
   * counterexample and the rerun is tried once more, so that one crash does not cost the finding.
   */
  const confirm = async (c: TraceConfig, ops: readonly GenOp[]): Promise<Outcome> => {
    const o = await rerun(c, ops);
    return !same(o) && failureKind(o) === 'failure' && kind === 'violation' ? rerun(c, ops) : o;
  };
  let best = await confirm(config, gops);
  if (!same(best)) return result(observed, false);
  let ops: Op[] = best.ops;
  // Simpler configs, each built from the config as simplified so far: no initial registers,
  // then count 0 (features stay: they may be pinned). Tried before and after dropping ops.
  const key = (c: TraceConfig): string => JSON.stringify(c, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  const simplifyConfig = async (): Promise<void> => {
    for (const simpler of [(c: TraceConfig) => ({ ...c, init: {} }), (c: TraceConfig) => ({ ...c, count: 0n })]) {
      const cand = simpler(config);
      if (key(cand) === key(config)) continue;
      const o = await rerun(cand, asGenOps(ops));
      if (same(o) && o.ops.length <= ops.length) {
        config = cand;
        best = o;
        ops = best.ops;
      }
    }
  };
  await simplifyConfig();
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < ops.length; i++) {
      const cand = [...ops.slice(0, i), ...ops.slice(i + 1)];
      const o = await rerun(config, asGenOps(cand));
      if (same(o) && o.ops.length < ops.length) {
        ops = o.ops;
        best = o;
        changed = true;
        i--;
      }
    }
  }
  await simplifyConfig();
  runner.record = true;
  try {
    const final = await confirm(config, asGenOps(ops));
    // The last failing run of these ops stands in for a final rerun that did not fail again.
    return same(final) ? result(final, true) : result(best, false);
  } finally {
    runner.record = false;
  }
}
