/** `nvconform run TRACE`: execute one trace on one model and print every op with its observation. */
import { hex } from '../../models/arch/bits.js';
import { InputError, NvcError } from '../../models/arch/errors.js';
import type { StepDetail } from '../../models/arch/implementation.js';
import type { El, Expectation, Observation, Op, Trace } from '../../models/arch/vocabulary.js';
import { asGenOps } from '../engine/abstract-ops.js';
import { BUILTINS, createImplementation, type ImplOptions, type Registry } from '../engine/registry.js';
import { referenceRun, Runner, runTrace } from '../engine/runner.js';
import { describeActions } from '../report/describe.js';
import { obsText, opCells, table } from '../report/text.js';
import { formatTrace } from '../trace/format.js';
import { loadLayout } from '../../models/layouts/load.js';
import { renderTimeline } from '../report/html/index.js';
import { timelineDoc } from '../report/timeline.js';
import { emitReports, NO_REPORTS, type ReportFlags } from './reports.js';

export interface RunOptions {
  /** Which model executes the trace: `reference` (default), or an implementation name/spec. */
  readonly model: string;
  readonly impl: ImplOptions;
  /** Show, per op, what the hardware did, which VNCR slots changed, and the host's timer map. Default false. */
  readonly verbose: boolean;
  /** Print the trace document with observations instead of a table. Default false. */
  readonly json: boolean;
  /** Built-in implementations `model` may name. Default BUILTINS. */
  readonly registry?: Registry;
  /** --html: write the run's timeline here. Default none. */
  readonly reports?: ReportFlags;
}

interface ExecutedOp {
  readonly op: Op;
  /** The vCPU's EL before the op (per the architecture). */
  readonly el: El;
  readonly observation: Observation | Expectation;
  readonly detail?: StepDetail;
  /** The host's timer map after the op, if the implementation describes it. */
  readonly host?: string;
}

/** Execute a trace on the reference, or on an implementation next to the reference (which validates it first). */
async function executeTrace(trace: Trace, model: string, opts: ImplOptions, registry: Registry): Promise<{ ops: ExecutedOp[] }> {
  const ref = referenceRun(trace);
  if (model === 'reference') return { ops: trace.ops.map((op, i) => ({ op, el: ref[i]!.el, observation: ref[i]!.exp })) };
  const impl = await createImplementation(model, opts, registry);
  try {
    const runner = new Runner(impl);
    runner.record = true;
    const out = await runTrace(runner, trace.config, asGenOps(trace.ops));
    if (out.failure) {
      // Name the op, unless the implementation's own message already does.
      const i = runner.crashedAt;
      const e = out.failure;
      if (i === undefined) throw e;
      throw new NvcError(e.message.includes(`ops[${i}]`) ? e.message : `ops[${i}]: ${e.message}`, e.exitCode);
    }
    return {
      ops: out.ops.map((op, i) => ({
        op, el: out.els[i]!, observation: out.observed[i]!,
        ...(out.details[i] ? { detail: out.details[i] } : {}), ...(out.hosts[i] !== undefined ? { host: out.hosts[i] } : {}),
      })),
    };
  } finally {
    await impl.close?.();
  }
}

export async function runCommand(trace: Trace, opts: RunOptions): Promise<string> {
  const executed = await executeTrace(trace, opts.model, opts.impl, opts.registry ?? BUILTINS);
  const html = { html: () => runPage(trace, executed.ops, opts) };
  if (opts.json) return formatTrace({ ...trace, observations: executed.ops.map((e) => e.observation) }) + emitReports(opts.reports ?? NO_REPORTS, html, true);
  return renderRun(trace, executed.ops, opts) + emitReports(opts.reports ?? NO_REPORTS, html, false);
}

/** The run as one HTML timeline: the reference's expectations beside the model's observations, unjudged. */
function runPage(trace: Trace, executed: readonly ExecutedOp[], opts: RunOptions): string {
  const impl = opts.model !== 'reference';
  const layout = impl ? (typeof opts.impl.layout === 'string' ? loadLayout(opts.impl.layout) : opts.impl.layout) : undefined;
  return renderTimeline(timelineDoc({
    config: trace.config, ops: trace.ops,
    ...(impl ? { observed: executed.map((e) => e.observation), details: executed.map((e) => e.detail), hosts: executed.map((e) => e.host) } : {}),
  }, {
    title: `run: ${opts.model}${layout ? `, layout ${layout.name}` : ''}, guest ${trace.config.guest}`,
    subtitle: impl ? `${opts.model} next to the architecture (not judged by a property)` : 'the architecture (the reference model)',
    ...(layout ? { layout } : {}),
  }));
}

function renderRun(trace: Trace, executed: readonly ExecutedOp[], opts: RunOptions): string {
  const header = ['#', 'EL', 'op', 'reg', 'value', 'observation'];
  if (opts.verbose) header.push('hardware');
  const rows = executed.map((e, i) => {
    const [op, reg, value] = opCells(e.op);
    const row = [String(i), `vEL${e.el}`, op, reg, value, obsText(e.observation)];
    if (opts.verbose) row.push(e.detail ? describeActions(e.detail) : '');
    return row;
  });
  const c = trace.config;
  const head = `model ${opts.model}  guest ${c.guest}  features [${c.features.join(',')}]  count ${hex(c.count)}` +
    (opts.model === 'reference' ? '' : `  layout ${typeof opts.impl.layout === 'string' ? opts.impl.layout : opts.impl.layout.name}${opts.impl.hostEcvTraps ? '  host-ecv-traps' : ''}`) + '\n';
  let s = head + table(header, rows);
  if (opts.verbose && executed.some((e) => e.host !== undefined)) {
    // The host's placement of the guest's timers, each time it changes.
    s += '\nhost timer map (where the host keeps each guest timer; printed when it changes):\n';
    let last: string | undefined;
    for (const [i, e] of executed.entries()) {
      if (e.host === undefined || e.host === last) continue;
      s += `  after #${i}  ${e.host}\n`;
      last = e.host;
    }
  }
  return s;
}

export function assertModelName(name: string): void {
  if (name.length === 0) throw new InputError(`--model: expected a model name`);
}
