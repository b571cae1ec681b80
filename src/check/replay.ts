/**
 * Replaying one fixed trace: each property judged on exactly that trace (no generation, no
 * shrinking), with a fresh token for each failure. What `nvconform replay` and the library's
 * `replay` run.
 */
import type { Implementation } from '../../models/arch/implementation.js';
import type { Layout } from '../../models/arch/layout.js';
import type { Trace } from '../../models/arch/vocabulary.js';
import { propertyByName, type PropertyName } from '../../properties/index.js';
import { asGenOps } from '../engine/abstract-ops.js';
import { referenceRun, Runner, runTrace } from '../engine/runner.js';
import { encodeToken } from '../trace/token.js';
import { DEFAULT_CHECK_OPTIONS, replayInfo, type CheckResult, type PropertyResult } from './check.js';

export interface ReplayTraceOptions {
  /** The implementation that runs the trace; the caller made it and closes it. */
  readonly implementation: Implementation;
  /** How it is named (a built-in name, a spec, `instance:NAME`): in reports and in the tokens of failures. */
  readonly impl: string;
  /** The layout the implementation was made with, for the report and the tokens. */
  readonly layout: Layout;
  /** The host option it was made with. */
  readonly hostEcvTraps: boolean;
  /** The properties judged, in order. */
  readonly properties: readonly PropertyName[];
}

/** Judge `trace` under each property. Throws InputError (naming the op) for a trace the architecture rejects as written. */
export async function replayTrace(trace: Pick<Trace, 'config' | 'ops'>, o: ReplayTraceOptions): Promise<CheckResult> {
  // A replayed trace must be valid as written (eret only at vEL2, exit only at vEL1).
  referenceRun(trace);
  const opts = { ...DEFAULT_CHECK_OPTIONS, impl: o.impl, layout: o.layout, hostEcvTraps: o.hostEcvTraps, properties: o.properties };
  const results: PropertyResult[] = [];
  const t0 = performance.now();
  for (const name of o.properties) {
    const p = propertyByName(name);
    const runner = new Runner(o.implementation, { property: p });
    const rc = runner.runContext(trace.config);
    const na = p.inapplicable?.(rc);
    if (na) {
      results.push({ property: name, verdict: 'n/a', runs: 0, shrinks: 0, opsExecuted: 0, ms: 0, explanation: na });
      continue;
    }
    const t1 = performance.now();
    runner.record = true;
    const out = await runTrace(runner, trace.config, asGenOps(trace.ops));
    const staticFault = p.staticCheck?.(rc);
    const failed = !!out.violation || !!staticFault;
    results.push({
      property: name, verdict: failed ? 'fail' : 'pass', runs: 1, shrinks: 0, opsExecuted: out.ops.length, ms: performance.now() - t1,
      ...(out.violation ? { counterexample: out, token: encodeToken({ config: trace.config, ops: out.ops }, replayInfo(opts, o.layout, name)) } : {}),
      ...(failed ? { explanation: [staticFault, out.violation?.explanation].filter(Boolean).join('; ') } : {}),
    });
  }
  return { verdict: results.some((r) => r.verdict === 'fail') ? 'fail' : 'pass', results, options: opts, layout: o.layout, ms: performance.now() - t0 };
}
