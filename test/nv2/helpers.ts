/**
 * Helpers for the NV2 implementation-model tests: model factories and hardware-action tags. The
 * op constructors, the oracle and the side-by-side runner are the shared ones in ../support.
 */
import type { HostFeature, StepDetail } from '../../models/arch/implementation.js';
import type { HostProfile } from '../../models/nv2/host/policy.js';
import { loadLayout } from '../../models/layouts/load.js';
import { Nv2Model } from '../../models/nv2/model.js';

export { HP, HV, M64, MASK64, P, V, cfg, eret, exit, mrs, msr, preempt, tick, wfi } from '../support/ops.js';
export { agrees, expectExact, firstDivergence, showObs, showOp, showRun, type Step } from '../support/oracle.js';
export { runBoth } from '../support/run.js';

export interface ModelOpts {
  layout?: string;
  nv2?: boolean;
  hostEcvTraps?: boolean;
  host?: HostProfile;
  hostCpu?: readonly HostFeature[];
  counterOffset?: bigint;
}

export function model(o: ModelOpts = {}): Nv2Model {
  return new Nv2Model({
    layout: loadLayout(o.layout ?? 'architected'),
    ...(o.nv2 !== undefined ? { nv2: o.nv2 } : {}),
    ...(o.hostEcvTraps !== undefined ? { hostEcvTraps: o.hostEcvTraps } : {}),
    ...(o.host !== undefined ? { host: o.host } : {}),
    ...(o.hostCpu !== undefined ? { hostCpu: o.hostCpu } : {}),
    ...(o.counterOffset !== undefined ? { counterOffset: o.counterOffset } : {}),
  });
}

/** A physical CPU without FEAT_ECV (and with FEAT_NV2p1). */
export const NO_ECV_CPU: readonly HostFeature[] = ['wfxt', 'vhe', 'nv2p1'];
/** One with FEAT_ECV but without FEAT_NV2p1. */
export const NO_NV2P1_CPU: readonly HostFeature[] = ['ecv', 'ecv-poff', 'wfxt', 'vhe'];

/** The FEAT_NV-only host with no VNCR slots: the trap-all baseline. */
export const nvModel = (hostEcvTraps = false): Nv2Model => model({ layout: 'trap-all', nv2: false, hostEcvTraps });

/** Kinds of the hardware actions of one step, with their cause, as short strings. */
export function actionTags(d: StepDetail | undefined): string[] {
  if (!d) return [];
  return d.actions.map((a) => {
    switch (a.kind) {
      case 'vncr': return `vncr:${a.write ? 'store' : 'load'}:0x${a.offset.toString(16)}`;
      case 'hw': return `hw:${a.write ? 'write' : 'read'}:${a.reg}`;
      case 'trap': return `trap:${a.why}`;
      case 'undefined': return 'undefined';
      case 'host': return `host:${a.what}`;
    }
  });
}
