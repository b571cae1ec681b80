/**
 * Running the reference and an implementation side by side, op by op, under one property.
 * The per-op work lives in `SideBySide`; the two drivers (sync for built-in models, async for
 * plug-ins and processes) only differ in whether they await the implementation.
 */
import { ReferenceModel } from '../../models/reference/reference.js';
import { REGISTER_BY_NAME } from '../../models/registers.js';
import { routeTable, type Route, type RouteTable } from '../../models/nv2/routing.js';
import { vel2RouteContext } from '../../models/nv2/policy.js';
import type { Layout } from '../../models/layout.js';
import type { Judge, OpContext, Property, RunContext, Violation } from '../../properties/types.js';
import type { Implementation, StepDetail } from '../engine/model.js';
import { hasFeature, type El, type Expectation, type Observation, type Op, type TraceConfig } from '../trace/types.js';
import { resolveOp, type GenOp } from './generate.js';
import type { Coverage } from './stats.js';

export interface Setup {
  readonly property: Property;
  readonly layout: Layout;
  readonly hostEcvTraps: boolean;
  readonly nv2: boolean;
  readonly hasDetail: boolean;
  readonly coverage?: Coverage;
}

/** Everything one side-by-side run produced, up to the first violation. */
export interface Outcome {
  readonly config: TraceConfig;
  readonly ops: Op[];
  readonly els: El[];
  readonly expected: Expectation[];
  readonly observed: Observation[];
  readonly details: (StepDetail | undefined)[];
  violation: Violation | undefined;
}

export class SideBySide {
  private ref!: ReferenceModel;
  private judge!: Judge;
  private routes!: RouteTable;
  outcome!: Outcome;
  /** Record every op's details (for reports); off while searching, for speed. */
  record = false;

  constructor(readonly setup: Setup) {}

  runContext(config: TraceConfig): RunContext {
    const s = this.setup;
    return { config, layout: s.layout, hostEcvTraps: s.hostEcvTraps, nv2: s.nv2, hasDetail: s.hasDetail };
  }

  begin(config: TraceConfig): void {
    this.ref = new ReferenceModel(config);
    this.judge = this.setup.property.judge(this.runContext(config));
    this.judge.begin?.(this.ref);
    this.routes = routeTable(vel2RouteContext({
      guest: config.guest, guestEcv: hasFeature(config, 'ecv'), hostEcvTraps: this.setup.hostEcvTraps,
      nv2: this.setup.nv2, layout: this.setup.layout,
    }));
    this.outcome = { config, ops: [], els: [], expected: [], observed: [], details: [], violation: undefined };
    this.crashedAt = undefined;
  }

  /** The concrete op for an abstract one here, or undefined to skip it. */
  resolve(g: GenOp): Op | undefined {
    return resolveOp(g, this.ref);
  }

  /** Is `op` valid at the current EL (for concrete traces)? */
  valid(op: Op): boolean {
    return op.op === 'eret' ? this.ref.el === 2 : op.op === 'exit' ? this.ref.el === 1 : true;
  }

  /**
   * The implementation failed (threw) on `op`: keep the op in the trace, so that the trace
   * reproduces the failure, and remember where. There is no observation for it.
   */
  crashed(op: Op): void {
    const o = this.outcome;
    this.crashedAt = o.ops.length;
    const el = this.ref.el;
    const exp = this.ref.step(op);
    o.ops.push(op);
    if (this.record) {
      o.els.push(el);
      o.expected.push(exp);
    }
  }

  /** Index of the op the implementation failed on in this run, if it did. */
  crashedAt: number | undefined;

  /** Judge one op the implementation has executed. Returns the violation, if any. */
  judgeOp(op: Op, obs: Observation, detail: StepDetail | undefined): Violation | undefined {
    const el = this.ref.el;
    const exp = this.ref.step(op);
    const o = this.outcome;
    const index = o.ops.length;
    o.ops.push(op);
    if (this.record) {
      o.els.push(el);
      o.expected.push(exp);
      o.observed.push(obs);
      o.details.push(detail);
    }
    let row, meaning, r: Route | undefined;
    if (op.op === 'msr' || op.op === 'mrs') {
      row = REGISTER_BY_NAME.get(op.reg)!;
      meaning = el === 2 ? row.vel2[this.ref.config.guest] : row.vel1;
      if (el === 2) r = this.routes.route(row, op.op === 'msr');
    }
    const c: OpContext = { index, op, el, elAfter: this.ref.el, exp, obs, detail, ref: this.ref, row, meaning, route: r };
    this.setup.coverage?.record(c);
    const v = this.judge.step(c);
    if (v) o.violation = v;
    return v;
  }
}

/** Run abstract ops (generated) through a synchronous implementation. */
export function runSync(sbs: SideBySide, impl: Implementation, config: TraceConfig, ops: readonly GenOp[]): Outcome {
  sbs.begin(config);
  impl.reset(config);
  for (const g of ops) {
    const op = sbs.resolve(g);
    if (!op) continue;
    let obs: Observation;
    try {
      obs = impl.step(op) as Observation;
    } catch (e) {
      sbs.crashed(op);
      throw e;
    }
    if (sbs.judgeOp(op, obs, impl.detail?.())) break;
  }
  return sbs.outcome;
}

export async function runAsync(sbs: SideBySide, impl: Implementation, config: TraceConfig, ops: readonly GenOp[]): Promise<Outcome> {
  sbs.begin(config);
  await impl.reset(config);
  for (const g of ops) {
    const op = sbs.resolve(g);
    if (!op) continue;
    let obs: Observation;
    try {
      obs = await impl.step(op);
    } catch (e) {
      sbs.crashed(op);
      throw e;
    }
    if (sbs.judgeOp(op, obs, impl.detail?.())) break;
  }
  return sbs.outcome;
}

/** Concrete ops as abstract ones (absolute values), to re-run a fixed trace through the same drivers. */
export function asGenOps(ops: readonly Op[]): GenOp[] {
  return ops.map((op): GenOp => {
    switch (op.op) {
      case 'msr': return { k: 'msr', reg: op.reg, val: { k: 'abs', v: op.value } };
      case 'mrs': return { k: 'mrs', reg: op.reg };
      case 'tick': return { k: 'tick', by: op.by };
      case 'preempt': return { k: 'preempt', by: op.by };
      case 'wfi': return { k: 'wfi', limit: op.limit };
      case 'eret': return { k: 'eret' };
      case 'exit': return { k: 'exit' };
    }
  });
}
