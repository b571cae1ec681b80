/**
 * Shrinking further than fast-check can on abstract ops: simplify the config, and drop any single
 * concrete op whose removal keeps the property failing, until none can go. Ends with a recorded
 * run for the report.
 */
import { NvcError } from '../../models/arch/errors.js';
import type { Op, TraceConfig } from '../../models/arch/vocabulary.js';
import { asGenOps, type GenOp } from '../engine/abstract-ops.js';
import type { Outcome, Runner } from '../engine/runner.js';

/** Runs one trace on the runner being shrunk against. */
export type Rerun = (config: TraceConfig, ops: readonly GenOp[]) => Promise<Outcome>;

export async function minimize(
  runner: Runner, run: Rerun, config0: TraceConfig, gops: readonly GenOp[], count: (n: number) => void,
): Promise<Outcome> {
  let config = config0;
  const rerun = async (ops: readonly GenOp[]): Promise<Outcome> => {
    const o = await run(config, ops);
    count(o.ops.length);
    return { ...o, ops: [...o.ops] };
  };
  let best = await rerun(gops);
  if (!best.violation) throw new NvcError('internal error: the counterexample did not fail again (non-deterministic implementation?)', 1);
  let ops: Op[] = best.ops;
  // Simpler configs, each built from the config as simplified so far: no initial registers,
  // then count 0 (features stay: they may be pinned). Tried before and after dropping ops.
  const key = (c: TraceConfig): string => JSON.stringify(c, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  const simplifyConfig = async (): Promise<void> => {
    for (const simpler of [(c: TraceConfig) => ({ ...c, init: {} }), (c: TraceConfig) => ({ ...c, count: 0n })]) {
      const cand = simpler(config);
      if (key(cand) === key(config)) continue;
      const o = await run(cand, asGenOps(ops));
      count(o.ops.length);
      if (o.violation && o.ops.length <= ops.length) {
        config = cand;
        best = { ...o, ops: [...o.ops] };
        ops = best.ops;
      }
    }
  };
  await simplifyConfig();
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < ops.length; i++) {
      const cand = [...ops.slice(0, i), ...ops.slice(i + 1)];
      const o = await rerun(asGenOps(cand));
      if (o.violation && o.ops.length < ops.length) {
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
    return await rerun(asGenOps(ops));
  } finally {
    runner.record = false;
  }
}
