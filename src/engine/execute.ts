/**
 * Executing one trace without judging it (`run`): on the reference alone, or on an
 * implementation next to the reference (which validates the trace first), recording every op.
 */
import { NvcError } from '../../models/arch/errors.js';
import type { Implementation, StepDetail } from '../../models/arch/implementation.js';
import type { El, Expectation, Observation, Op, Trace, TraceConfig } from '../../models/arch/vocabulary.js';
import { referenceRun, Runner, runOps } from './runner.js';

/** A trace as executed: per op, the EL it ran at and what came back. */
export interface Execution {
  readonly config: TraceConfig;
  readonly ops: readonly Op[];
  /** The vCPU's EL before each op (per the architecture). */
  readonly els: readonly El[];
  /** The architecture's answer per op. */
  readonly expected: readonly Expectation[];
  /** The implementation's observation per op (absent: the reference alone ran). */
  readonly observed?: readonly Observation[];
  readonly details?: readonly (StepDetail | undefined)[];
  /** The host's timer map after each op, when the implementation describes it. */
  readonly hosts?: readonly (string | undefined)[];
}

/**
 * Run `trace` on `impl` (undefined: the reference alone). Throws InputError for a trace the
 * architecture rejects, and the implementation's NvcError, naming the op, when it fails.
 */
export async function executeTrace(trace: Pick<Trace, 'config' | 'ops'>, impl: Implementation | undefined): Promise<Execution> {
  const ref = referenceRun(trace);
  const base = { config: trace.config, ops: trace.ops, els: ref.map((r) => r.el), expected: ref.map((r) => r.exp) };
  if (!impl) return base;
  const runner = new Runner(impl, { hosts: true });
  runner.record = true;
  const out = await runOps(runner, trace.config, trace.ops);
  if (out.failure) {
    // Name the op, unless the implementation's own message already does.
    const i = runner.crashedAt;
    const e = out.failure;
    if (i === undefined) throw e;
    throw new NvcError(e.message.includes(`ops[${i}]`) ? e.message : `ops[${i}]: ${e.message}`, e.exitCode);
  }
  return { ...base, observed: out.observed, details: out.details, hosts: out.hosts };
}
