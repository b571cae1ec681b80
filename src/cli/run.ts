/**
 * `nvconform run TRACE`: execute one trace on one model and print every op with its observation,
 * then compare with the trace's own observations, if it has any. The output is written as the
 * trace runs, in chunks (the table of a million ops is never held as text), and the run keeps only
 * a few ops' records: memory is the op list and a constant.
 */
import { hex } from '../../models/arch/bits.js';
import { ImplementationError, InputError, type NvcError } from '../../models/arch/errors.js';
import type { Implementation, StepDetail } from '../../models/arch/implementation.js';
import type { El, Expectation, Observation, Op, Trace } from '../../models/arch/vocabulary.js';
import { ReferenceModel } from '../../models/reference/reference.js';
import { BUILTINS, createImplementation, type ImplOptions, type Registry } from '../engine/registry.js';
import { opText, Runner, validateTrace } from '../engine/runner.js';
import { describeActions } from '../report/describe.js';
import { obsText, opCells, table } from '../report/text.js';
import { agrees } from '../trace/compare.js';
import { formatTraceChunks, observationJson } from '../trace/format.js';
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
  /** Where the trace came from ("FILE" or "the token"), for messages. */
  readonly source?: string;
  /** --html: write the run's timeline. Default none. */
  readonly reports?: ReportFlags;
}

/** The longest trace --html draws: a page is for reading, one column per op. */
export const MAX_HTML_OPS = 2000;

/** Writes output; a promise when the consumer wants the writer to wait (backpressure). */
export type Write = (s: string) => void | Promise<void>;

/** The outcome of `run`: its exit status, and the one line for stderr when it is 1. */
export interface RunResult {
  readonly code: number;
  readonly message?: string;
}

/**
 * Tables of traces up to this long are laid out when complete (every column as wide as its widest
 * cell); longer ones are written as they run, with the observation column FIXED_OBSERVATION_WIDTH wide.
 */
export const BUFFERED_OPS = 10_000;
export const FIXED_OBSERVATION_WIDTH = 32;
/** Output is written in chunks of about this many characters. */
const CHUNK = 1 << 16;

interface ExecutedOp {
  readonly index: number;
  readonly op: Op;
  /** The vCPU's EL before the op (per the architecture). */
  readonly el: El;
  /** What the model produced; undefined for an op the implementation failed on without answering. */
  readonly observation: Observation | Expectation | undefined;
  readonly detail?: StepDetail | undefined;
  /** The host's timer map after the op, if the implementation describes it. */
  readonly host?: string | undefined;
}

/** Output in chunks, waiting for the writer when it asks to. */
class Chunks {
  private buf = '';
  constructor(private readonly write: Write) {}
  add(s: string): void | Promise<void> {
    this.buf += s;
    if (this.buf.length >= CHUNK) return this.flush();
  }
  flush(): void | Promise<void> {
    const s = this.buf;
    this.buf = '';
    if (s) return this.write(s);
  }
}

const isPromise = <T>(x: T | Promise<T>): x is Promise<T> => typeof (x as { then?: unknown } | null)?.then === 'function';

/**
 * Execute the trace op by op, calling `each` with every executed op as it completes. The reference
 * runs alone; an implementation runs next to it (the runner checks its answers' shape). Returns
 * the implementation's failure, if it failed (at `index`; -1: at reset).
 */
async function execute(
  trace: Trace, impl: Implementation | undefined, verbose: boolean, each: (e: ExecutedOp) => void | Promise<void>,
): Promise<{ index: number; error: NvcError } | undefined> {
  const ops = trace.ops;
  if (!impl) {
    const ref = new ReferenceModel(trace.config);
    for (let i = 0; i < ops.length; i++) {
      const el = ref.el;
      const p = each({ index: i, op: ops[i]!, el, observation: ref.step(ops[i]!) });
      if (p) await p;
    }
    return undefined;
  }
  const runner = new Runner(impl, { window: 4, hosts: verbose });
  runner.record = true;
  runner.begin(trace.config);
  const fail = (e: unknown): { index: number; error: NvcError } => {
    const o = runner.failed(e);
    return { index: runner.crashedAt ?? -1, error: o.failure! };
  };
  try {
    const r = impl.reset(trace.config);
    if (isPromise(r)) await r;
  } catch (e) {
    return fail(e);
  }
  const o = runner.outcome;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    runner.current = op;
    let obs: Observation;
    try {
      const x = impl.step(op);
      obs = isPromise(x) ? await x : x;
    } catch (e) {
      runner.crashed(op);
      const k = o.ops.length - 1;
      const p = each({ index: i, op, el: o.els[k]!, observation: undefined });
      if (p) await p;
      return fail(e);
    }
    const failed = runner.accept(op, obs);
    const k = o.ops.length - 1;
    const p = each({ index: i, op, el: o.els[k]!, observation: o.observed[k], detail: o.details[k], host: o.hosts[k] });
    if (p) await p;
    if (failed) return { index: i, error: o.failure! };
  }
  return undefined;
}

export async function runCommand(trace: Trace, opts: RunOptions, write: Write): Promise<RunResult> {
  // Invalid as written (eret at vEL1, exit at vEL2): exit 2 before anything is printed.
  validateTrace(trace);
  const reports = opts.reports ?? NO_REPORTS;
  if (reports.html !== undefined && trace.ops.length > MAX_HTML_OPS) {
    throw new InputError(`--html: the trace has ${trace.ops.length} ops; the page draws at most ${MAX_HTML_OPS} (one column per op)`);
  }
  // With --html, every executed op is kept for the page (the run itself keeps only a few).
  const recorded: ExecutedOp[] | undefined = reports.html !== undefined ? [] : undefined;
  const keep = (e: ExecutedOp): void => void recorded?.push(e);
  const out = new Chunks(write);
  let impl: Implementation | undefined;
  try {
    impl = opts.model === 'reference' ? undefined : await createImplementation(opts.model, opts.impl, opts.registry ?? BUILTINS);
  } catch (e) {
    // A plug-in whose factory fails: an implementation failure, reported like one.
    if (!(e instanceof ImplementationError)) throw e;
    await out.add(`the implementation failed before the trace: ${e.message}\n`);
    await out.flush();
    return { code: 1, message: e.message };
  }
  const want = trace.observations;
  let mismatch: { index: number; op: Op; want: Observation | Expectation; got: Observation | Expectation } | undefined;
  const compare = (e: ExecutedOp): void => {
    if (!want || mismatch || !e.observation) return;
    const w = want[e.index]!;
    if (!agrees(w, e.observation)) mismatch = { index: e.index, op: e.op, want: w, got: e.observation };
  };

  let failure: { index: number; error: NvcError } | undefined;
  try {
    if (opts.json) {
      // The observations (as their JSON lines) are kept; the ops are written from the trace.
      const lines: string[] = [];
      failure = await execute(trace, impl, opts.verbose || !!recorded, (e) => {
        compare(e);
        keep(e);
        if (e.observation) lines.push(JSON.stringify(observationJson(e.observation)));
      });
      // After a failure: the trace up to the op it failed on, with what was observed.
      const ops = failure ? trace.ops.slice(0, Math.max(failure.index, 0)) : trace.ops;
      const observations = lines.slice(0, ops.length);
      for (const chunk of formatTraceChunks(trace.config, ops, observations)) {
        const p = out.add(chunk);
        if (p) await p;
      }
    } else {
      const t = new RunTable(trace, opts, out);
      const head = t.head();
      if (head) await head;
      failure = await execute(trace, impl, opts.verbose || !!recorded, (e) => {
        compare(e);
        keep(e);
        return t.row(e);
      });
      const end = t.end();
      if (end) await end;
      if (failure) {
        const at = failure.index < 0 ? 'at reset' : `at op #${failure.index} (${opText(trace.ops[failure.index]!)})`;
        await out.add(`\nthe implementation failed ${at}: ${failure.error.message}\n`);
      }
      if (mismatch) {
        await out.add(`\nthe observations differ from the trace's at op #${mismatch.index} (${opText(mismatch.op)}): the trace has ${obsText(mismatch.want)}, ${opts.model === 'reference' ? 'the reference' : opts.model} gave ${obsText(mismatch.got)}\n`);
      }
    }
    const notes = emitReports(reports, { html: () => runPage(trace, recorded ?? [], opts) }, opts.json);
    if (notes) await out.add(notes);
    const f = out.flush();
    if (f) await f;
  } finally {
    await impl?.close?.();
  }
  if (failure) {
    // Name the op, unless the implementation's own message already does.
    const i = failure.index;
    const e = failure.error;
    return { code: 1, message: i < 0 || e.message.includes(`ops[${i}]`) ? e.message : `ops[${i}]: ${e.message}` };
  }
  if (mismatch) {
    return {
      code: 1,
      message: `${opts.source ?? 'the trace'}: ops[${mismatch.index}]: ${opts.model === 'reference' ? 'the reference' : opts.model} gave ${obsText(mismatch.got)} where the trace's observation is ${obsText(mismatch.want)}`,
    };
  }
  return { code: 0 };
}

/**
 * The run as a table. Up to BUFFERED_OPS ops it is laid out by table() once complete; beyond, it
 * is written row by row: the op columns are as wide as their widest cell (known from the ops
 * before they run), the observation column has a fixed width (its rule, and its padding under
 * --verbose).
 */
class RunTable {
  private readonly header: string[];
  private readonly widths: number[] | undefined;
  private readonly buffered: string[][] | undefined;
  private readonly hostChanges: string[] = [];
  private lastHost: string | undefined;

  constructor(private readonly trace: Trace, private readonly opts: RunOptions, private readonly out: Chunks) {
    this.header = ['#', 'EL', 'op', 'reg', 'value', 'observation'];
    if (opts.verbose) this.header.push('hardware');
    const ops = trace.ops;
    if (ops.length <= BUFFERED_OPS) {
      this.buffered = [];
      return;
    }
    const w = this.header.map((h) => h.length);
    if (ops.length > 0) {
      w[0] = Math.max(w[0]!, String(ops.length - 1).length);
      w[1] = Math.max(w[1]!, 'vEL2'.length);
    }
    for (const op of ops) {
      const [kind, reg, value] = opCells(op);
      if (kind.length > w[2]!) w[2] = kind.length;
      if (reg.length > w[3]!) w[3] = reg.length;
      if (value.length > w[4]!) w[4] = value.length;
    }
    w[5] = Math.max(w[5]!, FIXED_OBSERVATION_WIDTH);
    this.widths = w;
  }

  private line(cells: readonly string[]): string {
    const w = this.widths!;
    return cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(w[i]!))).join('  ').trimEnd() + '\n';
  }

  head(): void | Promise<void> {
    const c = this.trace.config;
    const o = this.opts;
    const h = o.impl.host;
    const host = h ? `${h.profile ? `  host ${h.profile}` : ''}${h.cpu ? `  host-cpu ${h.cpu.join(',') || 'none'}` : ''}${h.counterOffset ? `  counter-offset ${hex(h.counterOffset)}` : ''}` : '';
    let s = `model ${o.model}  guest ${c.guest}  features [${c.features.join(',')}]${c.absent?.length ? `  absent [${c.absent.join(',')}]` : ''}  count ${hex(c.count)}` +
      (o.model === 'reference' ? '' : `  layout ${typeof o.impl.layout === 'string' ? o.impl.layout : o.impl.layout.name}${o.impl.hostEcvTraps ? '  host-ecv-traps' : ''}${host}`) + '\n';
    if (this.widths) s += this.line(this.header) + this.line(this.widths.map((n) => '-'.repeat(n)));
    return this.out.add(s);
  }

  row(e: ExecutedOp): void | Promise<void> {
    const [op, reg, value] = opCells(e.op);
    const cells = [String(e.index), `vEL${e.el}`, op, reg, value, e.observation ? obsText(e.observation) : '(no answer)'];
    if (this.opts.verbose) {
      cells.push(e.detail ? describeActions(e.detail) : '');
      if (e.host !== undefined && e.host !== this.lastHost) {
        this.hostChanges.push(`  after #${e.index}  ${e.host}\n`);
        this.lastHost = e.host;
      }
    }
    if (this.buffered) {
      this.buffered.push(cells);
      return;
    }
    return this.out.add(this.line(cells));
  }

  end(): void | Promise<void> {
    let s = this.buffered ? table(this.header, this.buffered) : '';
    if (this.hostChanges.length) {
      // The host's placement of the guest's timers, each time it changes.
      s += '\nhost timer map (where the host keeps each guest timer; printed when it changes):\n' + this.hostChanges.join('');
    }
    return this.out.add(s);
  }
}

export function assertModelName(name: string): void {
  if (name.length === 0) throw new InputError(`--model: expected a model name`);
}

/** The run as one HTML timeline: the reference's expectations beside the model's observations, not judged. */
function runPage(trace: Trace, executed: readonly ExecutedOp[], opts: RunOptions): string {
  const impl = opts.model !== 'reference';
  const layout = impl ? (typeof opts.impl.layout === 'string' ? loadLayout(opts.impl.layout) : opts.impl.layout) : undefined;
  const answered = executed.filter((e) => e.observation !== undefined);
  return renderTimeline(timelineDoc({
    config: trace.config, ops: executed.map((e) => e.op),
    ...(impl ? { observed: answered.map((e) => e.observation as Observation), details: executed.map((e) => e.detail), hosts: executed.map((e) => e.host) } : {}),
  }, {
    title: `run: ${opts.model}${layout ? `, layout ${layout.name}` : ''}, guest ${trace.config.guest}`,
    subtitle: impl ? `${opts.model} next to the architecture (not judged by a property)` : 'the architecture (the reference model)',
    ...(layout ? { layout } : {}),
  }));
}
