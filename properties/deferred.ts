/**
 * `deferred`: the NV2 contract (README, "Properties"). The same as `architectural`,
 * except for a timer whose CTL or CVAL the guest hypervisor reaches through the VNCR page: while
 * vEL2 runs, between two certain host entries (a trapped access, eret, exit, wfi, preempt, or a
 * trap from vEL1), that timer's interrupt line, and the ISTATUS bit read back through the page,
 * may follow any version of the timer's registers (CTL, CVAL, offset) written since the last
 * certain entry. An ISTATUS bit the guest wrote since then may read back as written. Register
 * values are exact; so is everything else.
 *
 * The allowed set is computed exactly from the reference's states, never "anything goes": a
 * host that never publishes ISTATUS, never re-arms a software timer after a CVAL change, or
 * forgets an offset still fails.
 */
import { hex } from '../models/arch/bits.js';
import { unreachable } from '../models/arch/errors.js';
import { CTL_ENABLE, CTL_IMASK, CTL_ISTATUS } from '../models/arch/registers.js';
import { conditionMet, lineAsserted } from '../models/arch/timer-math.js';
import { TIMERS } from '../models/arch/vocabulary.js';
import { pageHeldTimers } from '../models/nv2/contract.js';
import type { ReferenceModel } from '../models/reference/reference.js';
import { agrees } from './compare.js';
import { divergence } from './architectural.js';
import { opPhrase, servedPhrase } from './why.js';
import { wordsKey, type Judge, type OpContext, type Property, type RunContext } from './types.js';

interface Version {
  readonly ctl: bigint;
  readonly cval: bigint;
  readonly off: bigint;
}

const ENABLE_IMASK = CTL_ENABLE | CTL_IMASK;
/** ISTATUS values as a set of two: ISTATUS=0, ISTATUS=1. */
const ISTATUS_0 = 1, ISTATUS_1 = 2;
const istatusBit = (ctl: bigint): number => ((ctl & CTL_ISTATUS) !== 0n ? ISTATUS_1 : ISTATUS_0);
const snapshot = (ref: ReferenceModel, i: number): Version =>
  ({ ctl: ref.state.ctl[i]! & ENABLE_IMASK, cval: ref.state.cval[i]!, off: ref.timerOffset(i) });
/** Is `v` timer i's version in the reference now? (snapshot's fields, compared without making one) */
const isCurrent = (v: Version, ref: ReferenceModel, i: number): boolean =>
  v.ctl === (ref.state.ctl[i]! & ENABLE_IMASK) && v.cval === ref.state.cval[i]! && v.off === ref.timerOffset(i);


/** Is this op a host entry the guest can be certain of? */
function certainEntry(c: OpContext): boolean {
  switch (c.op.op) {
    case 'eret': case 'exit': case 'wfi': case 'preempt': return true;
    // WFIT traps (HCR_EL2.TWI) unless it is UNDEFINED, which the hardware may raise without the host.
    case 'wfit': return c.exp.fault === undefined;
    case 'tick': return false;
    case 'msr': case 'mrs': return c.el === 1 || c.exp.fault === 'trap' || c.route?.kind === 'trap';
    default:
      return unreachable(c.op, 'op');
  }
}

class DeferredJudge implements Judge {
  private readonly held: readonly boolean[];
  private readonly versions: Version[][] = TIMERS.map(() => []);
  /** ISTATUS values the guest stored into each timer's CTL since the last certain entry, as a set of ISTATUS_0 and ISTATUS_1. */
  private readonly wroteIstatus: number[] = TIMERS.map(() => 0);
  private lastEntry = -1;
  /** The version lists are a snapshot's (since restore), not this judge's own. */
  private shared = false;

  constructor(rc: RunContext) {
    this.held = pageHeldTimers(rc.declaration, rc.config);
  }

  begin(ref: ReferenceModel): void {
    this.restart(ref);
  }

  snapshot(): unknown {
    return { versions: this.versions.map((vs) => vs.slice()), wrote: this.wroteIstatus.slice(), lastEntry: this.lastEntry };
  }

  restore(s: unknown): void {
    const x = s as { versions: Version[][]; wrote: number[]; lastEntry: number };
    // Versions are immutable and a snapshot is never changed: its lists are taken as they are, copied only when they grow.
    for (let i = 0; i < TIMERS.length; i++) {
      this.versions[i] = x.versions[i]!;
      this.wroteIstatus[i] = x.wrote[i]!;
    }
    this.shared = true;
    this.lastEntry = x.lastEntry;
  }

  /** The versions and written ISTATUS values of the page-held timers (the others are always the reference's current state). */
  keyInto(buf: BigUint64Array, at: number): number {
    for (let i = 0; i < TIMERS.length; i++) {
      if (!this.held[i]) continue;
      const vs = this.versions[i]!;
      buf[at++] = BigInt(vs.length * 4 + this.wroteIstatus[i]!);
      for (const v of vs) {
        buf[at++] = v.ctl;
        buf[at++] = v.cval;
        buf[at++] = v.off;
      }
    }
    return at;
  }

  key(): string {
    return wordsKey(this);
  }

  /** One version per page-held timer, the reference's current one; no ISTATUS written (the other timers need none: they are always exact). */
  private restart(ref: ReferenceModel): void {
    for (let i = 0; i < TIMERS.length; i++) {
      if (!this.held[i]) continue;
      const vs = this.versions[i]!;
      // The common case, nothing written since the last entry, allocates nothing.
      if (this.shared || vs.length !== 1 || !isCurrent(vs[0]!, ref, i)) this.versions[i] = [snapshot(ref, i)];
      this.wroteIstatus[i] = 0;
    }
    this.shared = false;
  }

  step(c: OpContext) {
    const relaxed = c.el === 2 && c.elAfter === 2 && !certainEntry(c);
    if (!relaxed) {
      this.lastEntry = c.index;
      this.restart(c.ref);
      return agrees(c.exp, c.obs) ? undefined : divergence(c);
    }
    for (let i = 0; i < TIMERS.length; i++) {
      if (!this.held[i]) continue;
      const vs = this.versions[i]!;
      if (isCurrent(vs[vs.length - 1]!, c.ref, i)) continue;
      // Lists restored from a snapshot are the snapshot's: copy before the first push.
      if (this.shared) this.versions[i] = [...vs, snapshot(c.ref, i)];
      else vs.push(snapshot(c.ref, i));
    }
    const m = c.meaning;
    if (c.op.op === 'msr' && m?.kind === 'timer' && m.view === 'ctl' && this.held[m.ti]) {
      this.wroteIstatus[m.ti]! |= istatusBit(c.op.value);
    }

    if (c.exp.fault !== c.obs.fault || c.exp.elapsed !== c.obs.elapsed) return divergence(c);
    // Values: exact, but for ISTATUS in a CTL read served from the page.
    let ignore = c.exp.unknown ?? 0n;
    let istatusViolation: string | undefined;
    if (c.op.op === 'mrs' && m?.kind === 'timer' && m.view === 'ctl' && c.route?.kind === 'vncr' && this.held[m.ti]) {
      const i = m.ti;
      ignore |= CTL_ISTATUS;
      const istatusUnknown = ((c.exp.unknown ?? 0n) & CTL_ISTATUS) !== 0n;
      if (c.obs.value !== undefined && !istatusUnknown) {
        const got = c.obs.value & CTL_ISTATUS;
        let allowed = this.wroteIstatus[i]!;
        for (const v of this.versions[i]!) {
          if ((v.ctl & CTL_ENABLE) === 0n) allowed |= ISTATUS_0 | ISTATUS_1;
          else allowed |= conditionMet(c.ref.count, v.off, v.cval) ? ISTATUS_1 : ISTATUS_0;
        }
        if ((allowed & istatusBit(got)) === 0) {
          istatusViolation = `ISTATUS=${got ? 1 : 0} read from the page, but no version of ${m.timer} written since the last certain host entry${this.entryNote()} has ISTATUS=${got ? 1 : 0} at count ${hex(c.ref.count)}`;
        }
      }
    }
    const valueOk = c.exp.value === undefined || c.obs.value === undefined
      ? c.exp.value === c.obs.value
      : ((c.exp.value ^ c.obs.value) & ~ignore) === 0n;
    if (!valueOk) return divergence(c, `; register values are exact under the deferred contract too`);
    if (istatusViolation) return { index: c.index, explanation: `${opPhrase(c)}, ${servedPhrase(c)}: ${istatusViolation}` };
    // Interrupt lines.
    for (let i = 0; i < TIMERS.length; i++) {
      const bit = 1 << i;
      const got = (c.obs.irq & bit) !== 0;
      if (!this.held[i]) {
        if (got !== ((c.exp.irq & bit) !== 0)) return divergence(c, `; ${TIMERS[i]} is not held in the VNCR page, so its line must be exact`);
        continue;
      }
      const ok = this.versions[i]!.some((v) => lineAsserted(v.ctl, c.ref.count, v.off, v.cval) === got);
      if (!ok) {
        return {
          index: c.index,
          explanation: `${opPhrase(c)}: the ${TIMERS[i]} line is ${got ? 'asserted' : 'low'}, but no version of its registers written since the last certain host entry${this.entryNote()} has it ${got ? 'asserted' : 'low'} at count ${hex(c.ref.count)}`,
        };
      }
    }
    return undefined;
  }

  private entryNote(): string {
    return this.lastEntry < 0 ? ' (none yet: the trace start)' : ` (op #${this.lastEntry})`;
  }
}

export const deferred: Property = {
  name: 'deferred',
  summary: 'the NV2 contract: VNCR-held timers may lag their page writes until the next certain host entry, nothing else',
  judge: (rc) => new DeferredJudge(rc),
};
