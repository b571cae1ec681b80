/**
 * The one runner: the reference and an implementation side by side, op by op, under one property
 * (or none). Every caller — check, replay, run, layouts, bench and the tests — goes through
 * `runTrace`, synchronous and asynchronous implementations alike: the loop stays synchronous while
 * the implementation answers with plain values and continues on a promise only when it returns one.
 */
import { hex } from '../../models/arch/bits.js';
import { ImplementationError, InputError, NvcError, unreachable } from '../../models/arch/errors.js';
import type { Implementation, StepDetail } from '../../models/arch/implementation.js';
import type { Route, RouteTable } from '../../models/nv2/routing.js';
import { declaredVel2Routes } from '../../models/nv2/contract.js';
import { ReferenceModel } from '../../models/reference/reference.js';
import { irqList, type El, type Expectation, type Observation, type Op, type Trace, type TraceConfig } from '../../models/arch/vocabulary.js';
import type { Judge, OpContext, Property, RunContext, Violation } from '../../properties/types.js';
import { resolveOp, type GenOp } from './abstract-ops.js';

export interface RunnerSnapshot {
  readonly config: TraceConfig;
  readonly ref: ReturnType<ReferenceModel['snapshot']>;
  readonly judge: unknown;
  readonly index: number;
}

/** Everything one run produced, up to the first violation. */
export interface Outcome {
  readonly config: TraceConfig;
  readonly ops: Op[];
  /** The following are filled only while recording. */
  readonly els: El[];
  readonly expected: Expectation[];
  readonly observed: Observation[];
  readonly details: (StepDetail | undefined)[];
  /** The host's placement after each op (implementations that describe it), while recording with RunnerOptions.hosts. */
  readonly hosts: (string | undefined)[];
  violation: Violation | undefined;
  /** The implementation failed (threw an NvcError) on op `crashedAt` (ops.length-1) or at reset. */
  failure?: NvcError;
  /** ...or after the last op, between ops: at a save or a return to a saved state (the exhaustive phase). */
  between?: boolean;
  /**
   * With a recording window (RunnerOptions.window): the index in the trace of ops[0]; the ops and
   * records before it were dropped. Undefined or 0: the outcome holds the whole run.
   */
  first?: number;
}

export interface RunnerOptions {
  /** The property judged; undefined: nothing is judged (`run`). */
  readonly property?: Property;
  /** Called with every judged op (coverage). Default none. */
  readonly observe?: (c: OpContext) => void;
  /**
   * Keep only about the last `window` ops (and their records) in the outcome, so that a very long
   * trace runs in bounded memory; Outcome.first says where they start. Default: keep everything.
   */
  readonly window?: number;
  /** Record the host's placement after each op (Outcome.hosts; `run --verbose`). Default false: it is a string per op. */
  readonly hosts?: boolean;
}

/** The runner that began a trace last, for a crash report's "what was running" (see inFlight()). */
const lastBegun: { runner: Runner | undefined } = { runner: undefined };

/**
 * The trace being run when the checker itself failed: its config, the ops executed so far and
 * the op being executed, if any. For crash reports; undefined before any trace.
 */
export function inFlight(): { config: TraceConfig; ops: Op[] } | undefined {
  const r = lastBegun.runner;
  if (!r) return undefined;
  const o = r.outcome;
  return { config: o.config, ops: r.current && o.ops[o.ops.length - 1] !== r.current ? [...o.ops, r.current] : [...o.ops] };
}

const isPromise = <T>(x: T | Promise<T>): x is Promise<T> => typeof (x as { then?: unknown } | null)?.then === 'function';

/** The per-trace work of a side-by-side run, independent of how the implementation answers. */
export class Runner {
  private ref!: ReferenceModel;
  private judge: Judge | undefined;
  private routes!: RouteTable;
  outcome!: Outcome;
  /** Record every op's details (for reports); off while searching, for speed. */
  record = false;
  /**
   * An asynchronous (external) implementation's runs are always recorded: a failure it does not
   * repeat on a rerun is then still reported as it was first observed. Cheap next to its I/O.
   */
  private readonly alwaysRecord: boolean;
  /** Index of the op the implementation failed on in this run, if it did. */
  crashedAt: number | undefined;
  /** The op being executed (for crash reports). */
  current: Op | undefined;
  /** Ops executed in this trace, the ones before a restored snapshot included (the index of the next one). */
  private n = 0;

  constructor(readonly impl: Implementation, readonly options: RunnerOptions = {}) {
    this.alwaysRecord = !impl.declaration.sync;
  }

  /** Whether this run records per-op details. */
  get recording(): boolean {
    return this.record || this.alwaysRecord;
  }

  runContext(config: TraceConfig): RunContext {
    return { config, declaration: this.impl.declaration };
  }

  begin(config: TraceConfig): void {
    this.ref = new ReferenceModel(config);
    const p = this.options.property;
    this.judge = p?.judge(this.runContext(config));
    this.judge?.begin?.(this.ref);
    this.routes = declaredVel2Routes(this.impl.declaration, config);
    this.outcome = { config, ops: [], els: [], expected: [], observed: [], details: [], hosts: [], violation: undefined };
    this.crashedAt = undefined;
    this.current = undefined;
    this.n = 0;
    lastBegun.runner = this;
  }

  /** The reference's and the judge's state after the ops so far (the implementation's is its own). */
  snapshot(): RunnerSnapshot {
    return { config: this.ref.config, ref: this.ref.snapshot(), judge: this.judge?.snapshot?.(), index: this.n };
  }

  /** Return to a snapshot; the outcome starts empty at the snapshot's op index. */
  restore(s: RunnerSnapshot): void {
    if (this.ref.config !== s.config) this.begin(s.config);
    this.ref.restore(s.ref);
    if (s.judge !== undefined) this.judge?.restore?.(s.judge);
    this.n = s.index;
    this.current = undefined;
    const o = this.outcome;
    // Not recording (the exhaustive search returns to a state per letter): the outcome is emptied in place, not made again.
    if (!this.recording && o.config === this.ref.config && !o.violation && !o.failure && o.between === undefined && o.first === undefined) o.ops.length = 0;
    else this.outcome = { config: this.ref.config, ops: [], els: [], expected: [], observed: [], details: [], hosts: [], violation: undefined };
    this.crashedAt = undefined;
  }

  /** The reference's state as words (see ReferenceModel.keyInto). */
  refKeyInto(buf: BigUint64Array, at: number): number {
    return this.ref.keyInto(buf, at);
  }

  /** The judge's verdict-relevant history as text ('' for a judge without history, or one that gives words: see judgeKeyInto). */
  judgeKey(): string {
    const j = this.judge;
    return !j || j.keyInto ? '' : j.key?.() ?? '';
  }

  /** The judge's verdict-relevant history as words (Judge.keyInto), from word `at`; returns the next free word (`at` when it gives none). */
  judgeKeyInto(buf: BigUint64Array, at: number): number {
    return this.judge?.keyInto ? this.judge.keyInto(buf, at) : at;
  }

  /** A canonical text of the reference's state and the judge's verdict-relevant history. */
  key(): string {
    return `${this.ref.key()}#${this.judge?.key?.() ?? ''}`;
  }

  /** The reference, as it stands after the ops so far. */
  get reference(): ReferenceModel {
    return this.ref;
  }

  /** The concrete op for an abstract one here, or undefined to skip it. */
  resolve(g: GenOp): Op | undefined {
    const op = resolveOp(g, this.ref);
    this.current = op;
    return op;
  }

  /**
   * The implementation failed (threw) on `op`: keep the op in the trace, so that the trace
   * reproduces the failure, and remember where. There is no observation for it.
   */
  crashed(op: Op): void {
    const o = this.outcome;
    this.crashedAt = this.n++;
    const el = this.ref.el;
    const exp = this.ref.step(op);
    o.ops.push(op);
    if (this.recording) {
      o.els.push(el);
      o.expected.push(exp);
    }
  }

  /** An implementation failure becomes a violation at the op it happened on; anything else is the checker's own error. */
  failed(e: unknown): Outcome {
    if (!(e instanceof NvcError)) throw e;
    const o = this.outcome;
    o.failure = e;
    o.violation = { index: this.crashedAt ?? this.n, explanation: `the implementation failed: ${e.message}` };
    return o;
  }

  /** Drop the first `k` ops and their records (a recording window). */
  private trim(k: number): void {
    const o = this.outcome;
    for (const a of [o.ops, o.els, o.expected, o.observed, o.details, o.hosts] as unknown[][]) a.splice(0, Math.min(k, a.length));
    o.first = (o.first ?? 0) + k;
  }

  /**
   * Take the implementation's answer to `op`: check its shape, then judge it. Returns true when
   * the run ends here (a violation, or an answer of the wrong shape: an implementation failure).
   */
  accept(op: Op, obs: Observation): boolean {
    const el = this.ref.el;
    const problem = observationProblem(op, el, obs);
    let detail: StepDetail | undefined;
    let detailError: NvcError | undefined;
    if (problem === undefined) {
      try {
        detail = this.impl.detail?.();
      } catch (e) {
        if (!(e instanceof NvcError)) throw e;
        detailError = e;
      }
    }
    const exp = this.ref.step(op);
    const o = this.outcome;
    const index = this.n++;
    o.ops.push(op);
    if (this.recording) {
      o.els.push(el);
      o.expected.push(exp);
      o.observed.push(obs);
      o.details.push(detail);
      o.hosts.push(this.options.hosts ? this.impl.describeHost?.() : undefined);
    }
    const w = this.options.window;
    if (w !== undefined && o.ops.length > 2 * w) this.trim(o.ops.length - w);
    if (problem !== undefined || detailError) {
      this.crashedAt = index;
      this.failed(detailError ?? new ImplementationError(`${this.impl.name}: answered ops[${index}] (${opText(op)}) with ${observationText(obs)}: ${problem}`));
      return true;
    }
    const judge = this.judge;
    if (!judge && !this.options.observe) return false;
    let row, meaning, r: Route | undefined;
    if (op.op === 'msr' || op.op === 'mrs') {
      row = this.ref.table.byName.get(op.reg)!;
      meaning = el === 2 ? row.vel2[this.ref.config.guest] : row.vel1;
      if (el === 2) r = this.routes.route(row, op.op === 'msr');
    }
    const c: OpContext = { index, op, el, elAfter: this.ref.el, exp, obs, detail, ref: this.ref, row, meaning, route: r };
    this.options.observe?.(c);
    const v = judge?.step(c);
    if (v) o.violation = v;
    return v !== undefined;
  }
}

/** An op as a guest hypervisor would write it: `mrs CNTV_CTL_EL02`, `msr CNTV_CVAL_EL0, 0x10`, `wfi 0x100`. */
export function opText(op: Op): string {
  switch (op.op) {
    case 'msr': return `msr ${op.reg}, ${hex(op.value)}`;
    case 'mrs': return `mrs ${op.reg}`;
    case 'tick': case 'preempt': return `${op.op} ${hex(op.by)}`;
    case 'wfi': return `wfi ${hex(op.limit)}`;
    case 'wfit': return `wfit ${hex(op.deadline)}`;
    case 'eret': case 'exit': return op.op;
    default: return unreachable(op, 'op');
  }
}

/** An observation in its trace-format JSON form, on one line. */
function observationText(o: Observation): string {
  const parts = [`"irq":[${irqList(o.irq).map((t) => `"${t}"`).join(',')}]`];
  if (o.value !== undefined) parts.push(`"value":"${hex(o.value)}"`);
  if (o.fault !== undefined) parts.push(`"fault":"${o.fault}"`);
  if (o.elapsed !== undefined) parts.push(`"elapsed":"${hex(o.elapsed)}"`);
  return `{${parts.join(',')}}`;
}

/**
 * What is wrong with the shape of an observation for `op` at `el`, whatever the implementation
 * (built in, module or process): the one place every answer is checked against its op.
 */
export function observationProblem(op: Op, el: El, o: Observation): string | undefined {
  if (!Number.isInteger(o.irq) || o.irq < 0 || o.irq > 15) return 'irq is not a set of the four timer lines';
  const access = op.op === 'msr' || op.op === 'mrs';
  if (o.fault !== undefined) {
    if (op.op === 'wfit') {
      if (o.fault !== 'undefined') return `fault ${JSON.stringify(o.fault)} for a wfit, which can only be "undefined" (no FEAT_WFxT)`;
      if (o.elapsed !== undefined) return `elapsed and a fault, but an UNDEFINED wfit does not wait`;
      return undefined;
    }
    if (!access) return `a fault, but only msr, mrs and wfit can fault`;
    if (o.fault === 'trap' && el === 2) return `fault "trap" at vEL2, but only a vEL1 access traps (to the guest hypervisor)`;
    if (o.fault !== 'trap' && o.fault !== 'undefined') return `fault ${JSON.stringify(o.fault)} is not "undefined" or "trap"`;
    if (o.value !== undefined) return `a value and a fault, but a faulting mrs reads nothing`;
  } else if (op.op === 'mrs' && o.value === undefined) {
    return `no value, but an mrs that completes reads one`;
  }
  if (op.op !== 'mrs' && o.value !== undefined) return `a value, but only an mrs reads one`;
  const waits = op.op === 'wfi' || op.op === 'wfit';
  if (waits && o.elapsed === undefined) return `no elapsed, but a ${op.op} reports the counts it waited`;
  if (!waits && o.elapsed !== undefined) return `elapsed, but only a wfi or wfit has it`;
  return undefined;
}

/**
 * Run abstract ops through the implementation next to the reference. Returns the outcome at
 * once for an implementation that answers synchronously, a promise otherwise. An implementation
 * failure (an NvcError from reset or step) ends the run as a violation at that op.
 */
export function runTrace(r: Runner, config: TraceConfig, ops: readonly GenOp[]): Outcome | Promise<Outcome> {
  return start(r, config, ops, false);
}

/** runTrace for a trace of concrete ops (a trace file, a token), without converting them to abstract ones. */
export function runOps(r: Runner, config: TraceConfig, ops: readonly Op[]): Outcome | Promise<Outcome> {
  return start(r, config, ops, true);
}

function start(r: Runner, config: TraceConfig, ops: readonly (GenOp | Op)[], concrete: boolean): Outcome | Promise<Outcome> {
  r.begin(config);
  let reset: void | Promise<void>;
  try {
    reset = r.impl.reset(config);
  } catch (e) {
    return r.failed(e);
  }
  if (isPromise(reset)) return reset.then(() => loop(r, ops, 0, concrete), (e: unknown) => r.failed(e));
  return loop(r, ops, 0, concrete);
}

function loop(r: Runner, ops: readonly (GenOp | Op)[], from: number, concrete: boolean): Outcome | Promise<Outcome> {
  for (let i = from; i < ops.length; i++) {
    let op: Op | undefined;
    if (concrete) {
      op = ops[i] as Op;
      r.current = op;
    } else {
      op = r.resolve(ops[i] as GenOp);
      if (!op) continue;
    }
    let obs: Observation | Promise<Observation>;
    try {
      obs = r.impl.step(op);
    } catch (e) {
      r.crashed(op);
      return r.failed(e);
    }
    if (isPromise(obs)) {
      const o = op;
      return obs.then(
        (x) => (r.accept(o, x) ? r.outcome : loop(r, ops, i + 1, concrete)),
        (e: unknown) => {
          r.crashed(o);
          return r.failed(e);
        },
      );
    }
    if (r.accept(op, obs)) break;
  }
  return r.outcome;
}

/** runTrace for an implementation that declares itself synchronous. */
export function runTraceSync(r: Runner, config: TraceConfig, ops: readonly GenOp[]): Outcome {
  const o = runTrace(r, config, ops);
  if (isPromise(o)) throw new Error(`implementation ${r.impl.name} declared itself synchronous but answered with a promise`);
  return o;
}

/** Check that every op of a trace is valid where it stands (no eret at vEL1...), keeping nothing. InputError naming the op. */
export function validateTrace(trace: Pick<Trace, 'config' | 'ops'>): void {
  const ref = new ReferenceModel(trace.config);
  const ops = trace.ops;
  for (let i = 0; i < ops.length; i++) {
    try {
      ref.step(ops[i]!);
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`ops[${i}]: ${e.message}`);
      throw e;
    }
  }
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
