/** Executing one whole trace on a model, with the reference alongside to validate it. */
import { InputError, NvcError } from '../errors.js';
import { ReferenceModel } from '../../models/reference/reference.js';
import type { El, Expectation, Observation, Op, Trace } from '../trace/types.js';
import type { StepDetail } from './model.js';
import { createImplementation, type ImplOptions } from './registry.js';

export interface ExecutedOp {
  readonly op: Op;
  /** The vCPU's EL before the op (per the architecture). */
  readonly el: El;
  readonly expectation: Expectation;
  readonly observation: Observation | Expectation;
  readonly detail?: StepDetail;
}

/** Run the reference on a trace. Throws InputError naming the op for an op that is not valid where it stands. */
export function referenceRun(trace: Pick<Trace, 'config' | 'ops'>): { el: El; exp: Expectation }[] {
  const ref = new ReferenceModel(trace.config);
  return trace.ops.map((op, i) => {
    const el = ref.el;
    try {
      return { el, exp: ref.step(op) };
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`ops[${i}]: ${e.message}`);
      throw e;
    }
  });
}

export async function executeTrace(trace: Trace, model: string, implOpts: ImplOptions): Promise<ExecutedOp[]> {
  const ref = referenceRun(trace);
  if (model === 'reference') return trace.ops.map((op, i) => ({ op, el: ref[i]!.el, expectation: ref[i]!.exp, observation: ref[i]!.exp }));
  const impl = await createImplementation(model, implOpts);
  try {
    await impl.reset(trace.config);
    const out: ExecutedOp[] = [];
    for (let i = 0; i < trace.ops.length; i++) {
      const op = trace.ops[i]!;
      let observation: Observation;
      try {
        observation = await impl.step(op);
      } catch (e) {
        // Name the op, unless the implementation's own message already does.
        if (e instanceof NvcError) throw new NvcError(e.message.includes(`ops[${i}]`) ? e.message : `ops[${i}]: ${e.message}`, e.exitCode);
        throw e;
      }
      const detail = impl.detail?.();
      out.push({ op, el: ref[i]!.el, expectation: ref[i]!.exp, observation, ...(detail ? { detail } : {}) });
    }
    return out;
  } finally {
    await impl.close?.();
  }
}
