/**
 * Running a concrete trace on the reference and an implementation side by side, through the
 * engine's one runner (src/engine/runner.ts) with nothing judged: the tests judge with the oracle.
 */
import type { Implementation } from '../../models/arch/implementation.js';
import type { Op, TraceConfig } from '../../models/arch/vocabulary.js';
import { asGenOps } from '../../src/engine/abstract-ops.js';
import { Runner, runTrace, runTraceSync, type Outcome } from '../../src/engine/runner.js';
import { agrees, type Step } from './oracle.js';

function steps(o: Outcome): Step[] {
  if (o.failure) throw o.failure;
  return o.ops.map((op, i) => ({ op, el: o.els[i]!, exp: o.expected[i]!, obs: o.observed[i]!, detail: o.details[i] }));
}

function recording(impl: Implementation): Runner {
  const r = new Runner(impl);
  r.record = true;
  return r;
}

/** Run `ops` on the reference and on a synchronous `impl` (reset first); every step. Throws the implementation's failure. */
export function runBoth(config: TraceConfig, ops: readonly Op[], impl: Implementation): Step[] {
  return steps(runTraceSync(recording(impl), config, asGenOps(ops)));
}

/** The same for any implementation. */
export async function runBothAsync(config: TraceConfig, ops: readonly Op[], impl: Implementation): Promise<Step[]> {
  return steps(await runTrace(recording(impl), config, asGenOps(ops)));
}

export interface Divergence {
  readonly index: number;
  readonly op: Op;
  readonly expected: Step['exp'];
  readonly observed: Step['obs'];
}

/** Run `trace` on `impl` and on the reference; the first op where they disagree, if any. */
export async function firstDivergenceOf(impl: Implementation, trace: { config: TraceConfig; ops: readonly Op[] }): Promise<Divergence | undefined> {
  const s = await runBothAsync(trace.config, trace.ops, impl);
  const index = s.findIndex((x) => !agrees(x.exp, x.obs));
  return index < 0 ? undefined : { index, op: s[index]!.op, expected: s[index]!.exp, observed: s[index]!.obs };
}
