/**
 * Judging a layout: its verdict under each contract, in each guest mode, with the minimal
 * counterexample and what it costs in traps on the named workloads.
 */
import type { Layout } from '../../models/arch/layout.js';
import type { GuestMode, Op, TraceConfig } from '../../models/arch/vocabulary.js';
import { PROPERTIES } from '../../properties/index.js';
import { asGenOps } from '../engine/abstract-ops.js';
import { Runner, runTraceSync, type Outcome } from '../engine/runner.js';
import { Nv2Model } from '../../models/nv2/model.js';
import { check, DEFAULT_CHECK_OPTIONS, type PropertyResult } from '../check/check.js';
import type { Executor } from '../check/executor.js';
import { hostModelOptions, type HostOptions } from '../engine/registry.js';
import { WORKLOADS, workload, type WorkloadName } from './workloads.js';

export type TrapCost = Record<WorkloadName, number>;

export interface LayoutOptions {
  /** The physical CPU has FEAT_ECV and the host uses its traps. Default false. */
  readonly hostEcvTraps: boolean;
  /** The built-in host's profile, CPU and counter offset. Default: the exact host on the most capable CPU. */
  readonly host?: HostOptions;
  /** Pin FEAT_ECV of the virtual CPU. Default: judged with and without. */
  readonly ecv?: boolean;
  /** The exhaustive phase's depth (CheckOptions.depth). Default: check's. */
  readonly depth?: number;
  /** Generated traces per contract and guest mode. Default 300. */
  readonly runs: number;
  /** fast-check seed. Default 42. */
  readonly seed: number;
  /** Longest generated trace. Default 40. */
  readonly maxOps: number;
  /** Where the checks' tasks run (workers, shard, budget), shared by every layout judged. Default: each check its own, in this thread. */
  readonly executor?: Executor;
}

export const DEFAULT_LAYOUT_OPTIONS: LayoutOptions = { hostEcvTraps: false, runs: DEFAULT_CHECK_OPTIONS.runs, seed: DEFAULT_CHECK_OPTIONS.seed, maxOps: DEFAULT_CHECK_OPTIONS.maxOps };

export interface LayoutVerdict {
  readonly layout: Layout;
  readonly guest: GuestMode;
  readonly architectural: PropertyResult;
  readonly deferred: PropertyResult;
  readonly cost: TrapCost;
}

const costCache = new Map<string, TrapCost>();

/** Traps per 1000 guest-hypervisor (vEL2) timer register accesses, on each workload. */
export function trapCost(layout: Layout, guest: GuestMode, o: Pick<LayoutOptions, 'hostEcvTraps' | 'host'> & { nv2?: boolean }): TrapCost {
  const key = `${guest}|${o.hostEcvTraps}|${JSON.stringify(hostKey(o.host))}|${o.nv2 ?? true}|${[...layout.slots].sort().join(',')}`;
  const hit = costCache.get(key);
  if (hit) return hit;
  const out = {} as TrapCost;
  for (const name of WORKLOADS) {
    const w = workload(name, guest);
    const m = new Nv2Model({ layout, hostEcvTraps: o.hostEcvTraps, nv2: o.nv2 ?? true, ...hostModelOptions(o.host) });
    m.reset(w.config);
    for (const op of w.ops) m.step(op);
    out[name] = m.counters.accesses ? Math.round((m.counters.traps / m.counters.accesses) * 1000) : 0;
  }
  costCache.set(key, out);
  return out;
}

const hostKey = (h: HostOptions | undefined) => (h ? { ...h, counterOffset: h.counterOffset?.toString(16) } : null);

/** The check options a layout judgement passes on: FEAT_ECV, the exhaustive depth and the host, where given. */
export const pinsOf = (o: Pick<LayoutOptions, 'ecv' | 'depth' | 'host' | 'executor'>) => ({
  ...(o.ecv !== undefined ? { ecv: o.ecv } : {}), ...(o.depth !== undefined ? { depth: o.depth } : {}), ...(o.host ? { host: o.host } : {}),
  ...(o.executor ? { executor: o.executor } : {}),
});

/** Run one trace on the built-in host with `layout` under the deferred contract (recorded). */
export function replayOn(layout: Layout, o: Pick<LayoutOptions, 'hostEcvTraps' | 'host'>, config: TraceConfig, ops: readonly Op[]): Outcome {
  const r = new Runner(new Nv2Model({ layout, hostEcvTraps: o.hostEcvTraps, ...hostModelOptions(o.host) }), { property: PROPERTIES.deferred });
  r.record = true;
  return runTraceSync(r, config, asGenOps(ops));
}

export async function judgeLayout(layout: Layout, guest: GuestMode, o: LayoutOptions): Promise<LayoutVerdict> {
  const r = await check({
    ...DEFAULT_CHECK_OPTIONS, impl: 'nv2', layout, guest, hostEcvTraps: o.hostEcvTraps, runs: o.runs, seed: o.seed, maxOps: o.maxOps,
    properties: ['architectural', 'deferred'], ...pinsOf(o),
  });
  return { layout, guest, architectural: r.results[0]!, deferred: r.results[1]!, cost: trapCost(layout, guest, o) };
}

/** The counterexample worth showing for a layout: the deferred one if it fails, else the architectural one. */
export function headline<P extends { readonly verdict?: unknown } = PropertyResult>(v: { readonly architectural: P; readonly deferred: P }): P | undefined {
  return v.deferred.verdict === 'fail' ? v.deferred : v.architectural.verdict === 'fail' ? v.architectural : undefined;
}
