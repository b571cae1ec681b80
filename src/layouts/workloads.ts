/**
 * Named guest-hypervisor workloads, for pricing a layout in traps. Each is a concrete trace of
 * what a guest hypervisor does with the timers around running its nested guest:
 * - `linux`: programs its own timer through CVAL and CTL (as Linux has since v5.16) and saves and
 *   restores the nested guest's EL1 timers through CTL and CVAL around each run;
 * - `tval`: the same hypervisor programming its own timer through TVAL (older kernels, other
 *   hypervisors) and reading the nested guest's remaining time through TVAL when it stops it;
 * - `random`: generated accesses (fixed seed), every register and both ELs.
 */
import fc from 'fast-check';
import type { GuestMode, Op, TraceConfig } from '../../models/arch/vocabulary.js';
import { match } from 'ts-pattern';
import { ReferenceModel } from '../../models/reference/reference.js';
import { traceArb } from '../check/generate.js';
import { resolveOp } from '../engine/abstract-ops.js';

export const WORKLOADS = ['linux', 'tval', 'random'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface Workload {
  readonly config: TraceConfig;
  readonly ops: readonly Op[];
}

const msr = (reg: string, value: bigint): Op => ({ op: 'msr', reg, value });
const mrs = (reg: string): Op => ({ op: 'mrs', reg });

/** The names a guest hypervisor of this mode uses for its own timer and for its nested guest's. */
function names(guest: GuestMode): { own: (v: string) => string; l2: (t: 'CNTV' | 'CNTP', v: string) => string } {
  return guest === 'vhe'
    ? { own: (v) => `CNTV_${v}_EL0`, l2: (t, v) => `${t}_${v}_EL02` } // VHE: its own timer is CNTHV via the EL0 names
    : { own: (v) => `CNTHP_${v}_EL2`, l2: (t, v) => `${t}_${v}_EL0` }; // non-VHE (Xen-like): EL2 physical timer
}

function hypervisorLoop(guest: GuestMode, style: 'cval' | 'tval', iterations: number): Op[] {
  const { own, l2 } = names(guest);
  const ops: Op[] = [msr('CNTHCTL_EL2', guest === 'vhe' ? 0xc00n : 0x3n)];
  for (let k = 0n; k < BigInt(iterations); k++) {
    ops.push(mrs('CNTVCT_EL0'));
    if (style === 'cval') ops.push(msr(own('CVAL'), 0x10000n + k * 0x1000n));
    else ops.push(msr(own('TVAL'), 0x1000n));
    ops.push(msr(own('CTL'), 1n));
    // vcpu load: the nested guest's offset and timers.
    ops.push(msr('CNTVOFF_EL2', 0x100n + k));
    for (const t of ['CNTV', 'CNTP'] as const) ops.push(msr(l2(t, 'CVAL'), 0x20000n + k), msr(l2(t, 'CTL'), 1n));
    ops.push({ op: 'eret' }, { op: 'tick', by: 0x200n }, { op: 'exit' });
    // vcpu put: save them, stop them.
    for (const t of ['CNTV', 'CNTP'] as const) {
      ops.push(mrs(l2(t, 'CTL')), mrs(l2(t, 'CVAL')));
      if (style === 'tval') ops.push(mrs(l2(t, 'TVAL')));
      ops.push(msr(l2(t, 'CTL'), 0n));
    }
    // its own timer's interrupt handler
    ops.push(mrs(own('CTL')), msr(own('CTL'), 0n), { op: 'tick', by: 0x100n });
  }
  return ops;
}

function randomOps(guest: GuestMode, minAccesses: number): Workload {
  const config: TraceConfig = { guest, features: [], count: 0x1000n, init: { CNTHCTL_EL2: guest === 'vhe' ? 0xc03n : 0x3n } };
  const ops: Op[] = [];
  let accesses = 0;
  const ref = new ReferenceModel(config);
  const batches = fc.sample(traceArb({ guest, ecv: false, maxOps: 40 }), { seed: 1000, numRuns: 400 });
  for (const [, gops] of batches) {
    for (const g of gops) {
      const op = resolveOp(g, ref);
      if (!op) continue;
      if ((op.op === 'msr' || op.op === 'mrs') && ref.el === 2) accesses++;
      ref.step(op);
      ops.push(op);
    }
    if (accesses >= minAccesses) break;
  }
  return { config, ops };
}

export function workload(name: WorkloadName, guest: GuestMode): Workload {
  const config: TraceConfig = { guest, features: [], count: 0x1000n, init: {} };
  return match(name)
    .returnType<Workload>()
    .with('linux', () => ({ config, ops: hypervisorLoop(guest, 'cval', 50) }))
    .with('tval', () => ({ config, ops: hypervisorLoop(guest, 'tval', 50) }))
    .with('random', () => randomOps(guest, 1000))
    .exhaustive();
}
