/** `nvconform run TRACE`: execute one trace on one model and print every op with its observation. */
import { hex } from '../bits.js';
import { InputError } from '../errors.js';
import { executeTrace, type ExecutedOp } from '../engine/execute.js';
import { formatTrace } from '../trace/format.js';
import type { Trace } from '../trace/types.js';
import { obsText, opCells, table } from './render.js';
import { describeActions } from '../engine/describe.js';
import type { ImplOptions } from '../engine/registry.js';

export interface RunOptions {
  /** Which model executes the trace: `reference` (default), or an implementation name/spec. */
  readonly model: string;
  readonly impl: ImplOptions;
  /** Show, per op, what the hardware did and which VNCR slots changed. Default false. */
  readonly verbose: boolean;
  /** Print the trace document with observations instead of a table. Default false. */
  readonly json: boolean;
}

export async function runCommand(trace: Trace, opts: RunOptions): Promise<string> {
  const executed = await executeTrace(trace, opts.model, opts.impl);
  if (opts.json) return formatTrace({ ...trace, observations: executed.map((e) => e.observation) });
  return renderRun(trace, executed, opts);
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
    (opts.model === 'reference' ? '' : `  layout ${opts.impl.layout}${opts.impl.hostEcvTraps ? '  host-ecv-traps' : ''}`) + '\n';
  return head + table(header, rows);
}

export function assertModelName(name: string): void {
  if (name.length === 0) throw new InputError(`--model: expected a model name`);
}
