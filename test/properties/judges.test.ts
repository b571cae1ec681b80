/**
 * Each property's rules, judged directly: a scripted implementation answers what the reference
 * answers except at the ops a test changes, and the test checks the verdict and where it falls.
 * (The mutant catalogue checks the properties against realistic bugs; these pin each rule.)
 */
import { describe, expect, it } from 'vitest';
import type { Declaration, Implementation, StepDetail } from '../../models/arch/implementation.js';
import type { Observation, Op, TraceConfig } from '../../models/arch/vocabulary.js';
import { loadLayout } from '../../models/layouts/load.js';
import { ReferenceModel } from '../../models/reference/reference.js';
import { PROPERTIES, type PropertyName } from '../../properties/index.js';
import { asGenOps } from '../../src/engine/abstract-ops.js';
import { Runner, runTraceSync } from '../../src/engine/runner.js';
import { HV, V, cfg, eret, exit, mrs, msr, preempt, tick } from '../support/ops.js';

type Patch = Partial<Observation> | ((o: Observation) => Observation);

/** An implementation that answers as the reference does, but for the patched ops; optionally with hardware detail. */
function scripted(
  patches: Readonly<Record<number, Patch>>, o: { layout?: string; page?: boolean; ecvTraps?: boolean; detail?: (i: number, op: Op) => StepDetail | undefined } = {},
): Implementation {
  let ref: ReferenceModel;
  let i = 0;
  let last: StepDetail | undefined;
  const declaration: Declaration = {
    kind: 'builtin', sync: true, layout: loadLayout(o.layout ?? 'architected'), page: o.page ?? true, host: { ecvTraps: o.ecvTraps ?? false }, detail: !!o.detail,
  };
  return {
    name: 'scripted', declaration,
    reset(c: TraceConfig) { ref = new ReferenceModel(c); i = 0; },
    step(op: Op): Observation {
      const e = ref.step(op);
      const base: Observation = { irq: e.irq, ...(e.value !== undefined ? { value: e.value } : {}), ...(e.fault ? { fault: e.fault } : {}), ...(e.elapsed !== undefined ? { elapsed: e.elapsed } : {}) };
      const p = patches[i];
      last = o.detail?.(i, op);
      i++;
      return p === undefined ? base : typeof p === 'function' ? p(base) : { ...base, ...p };
    },
    ...(o.detail ? { detail: () => last } : {}),
  };
}

function verdict(property: PropertyName, impl: Implementation, config: TraceConfig, ops: readonly Op[]) {
  const r = new Runner(impl, { property: PROPERTIES[property] });
  const out = runTraceSync(r, config, asGenOps(ops));
  const rc = r.runContext(config);
  return { violation: out.violation, staticFault: PROPERTIES[property].staticCheck?.(rc), inapplicable: PROPERTIES[property].inapplicable?.(rc) };
}

const VHE = cfg({ guest: 'vhe', count: 0x100n });
/** The EL1 virtual timer armed through the page, due at count 0x102 (vhe: CNTV_*_EL02). */
const armV = [msr('CNTV_CVAL_EL02', 0x102n), msr('CNTV_CTL_EL02', 1n)];

describe('architectural', () => {
  it('passes the reference itself, fails a wrong value at that op, and ignores UNKNOWN bits', () => {
    const ops = [...armV, mrs('CNTV_CVAL_EL02'), mrs('CNTV_TVAL_EL02')];
    expect(verdict('architectural', scripted({}), VHE, ops).violation).toBeUndefined();
    const v = verdict('architectural', scripted({ 2: { value: 0x103n } }), VHE, ops).violation!;
    expect(v.index).toBe(2);
    expect(v.explanation).toMatch(/value 0x103 where the architecture gives 0x102/);
    // TVAL of a disabled timer is UNKNOWN: any value agrees.
    expect(verdict('architectural', scripted({ 0: { value: 0xabcn } }), VHE, [mrs('CNTV_TVAL_EL02')]).violation).toBeUndefined();
  });

  it('fails a wrong line, a missing fault and a wrong elapsed', () => {
    expect(verdict('architectural', scripted({ 2: { irq: 0 } }), VHE, [...armV, tick(2n)]).violation?.explanation).toMatch(/vtimer line low where the architecture has it asserted/);
    expect(verdict('architectural', scripted({ 0: (o) => ({ value: 0n, irq: o.irq }) }), cfg({ guest: 'nvhe' }), [mrs('CNTV_CTL_EL02')]).violation?.explanation).toMatch(/no fault where the architecture gives a fault \(undefined\)/);
    expect(verdict('architectural', scripted({ 2: { elapsed: 1n } }), VHE, [...armV, { op: 'wfi', limit: 0x10n }]).violation?.explanation).toMatch(/a wake after 0x1 counts where the architecture gives 0x2/);
  });
});

describe('deferred', () => {
  it('lets a page-held timer\'s line lag between certain host entries, but not past one', () => {
    // The line should rise at the tick; a host that has not looked at the page yet may keep it low ...
    const lag = { 2: { irq: 0 } };
    expect(verdict('deferred', scripted(lag), VHE, [...armV, tick(2n)]).violation).toBeUndefined();
    expect(verdict('architectural', scripted(lag), VHE, [...armV, tick(2n)]).violation).toBeDefined();
    // ... but after a preempt (a certain host entry) it must be exact.
    const v = verdict('deferred', scripted({ 3: { irq: 0 } }), VHE, [...armV, tick(2n), preempt(0n)]).violation!;
    expect(v.index).toBe(3);
  });

  it('never allows a version nobody wrote, nor an older one than the last entry', () => {
    // Asserted while no version since the start has the condition met (CVAL in the future, enabled).
    const invented = verdict('deferred', scripted({ 1: { irq: V } }), VHE, [msr('CNTV_CVAL_EL02', 0x200n), msr('CNTV_CTL_EL02', 1n)]).violation!;
    expect(invented.explanation).toMatch(/no version of its registers written since the last certain host entry \(none yet: the trace start\) has it asserted/);
    // After an eret/exit pair the old version (disabled) is gone: the line must follow the new one.
    const stale = verdict('deferred', scripted({ 5: { irq: 0 } }), VHE, [...armV, eret, exit, tick(2n), tick(0n)]).violation;
    expect(stale?.index).toBeLessThanOrEqual(5);
  });

  it('a timer the page does not hold is exact (the EL2 virtual timer)', () => {
    const ops = [msr('CNTHV_CVAL_EL2', 0x101n), msr('CNTHV_CTL_EL2', 1n), tick(1n)];
    const v = verdict('deferred', scripted({ 2: { irq: 0 } }), VHE, ops).violation!;
    expect(v.explanation).toMatch(/hvtimer is not held in the VNCR page, so its line must be exact/);
    expect(verdict('deferred', scripted({}), VHE, ops).violation).toBeUndefined();
    void HV;
  });

  it('ISTATUS read from the page: the versions\' ISTATUS, or one the guest wrote; register bits exact', () => {
    const ops = [...armV, tick(2n), mrs('CNTV_CTL_EL02')];
    // Condition met now; the old version (disabled) leaves ISTATUS UNKNOWN-or-anything: 0x1 is allowed.
    expect(verdict('deferred', scripted({ 3: { value: 0x1n } }), VHE, ops).violation).toBeUndefined();
    // ENABLE read wrong is a register value: exact.
    expect(verdict('deferred', scripted({ 3: { value: 0x4n } }), VHE, ops).violation?.explanation).toMatch(/register values are exact under the deferred contract too/);
    // A CTL write with ISTATUS set may read back as written, even when no version has the condition met.
    const wrote = [msr('CNTV_CVAL_EL02', 0x200n), msr('CNTV_CTL_EL02', 5n), mrs('CNTV_CTL_EL02')];
    expect(verdict('deferred', scripted({ 2: { value: 0x5n } }), VHE, wrote).violation).toBeUndefined();
    // Before the preempt the timer was disabled (ISTATUS UNKNOWN, so anything went); after it, the only
    // version is enabled with CVAL in the future: ISTATUS=1 was never true, nor written.
    const enabled = [msr('CNTV_CVAL_EL02', 0x200n), msr('CNTV_CTL_EL02', 1n), preempt(0n), mrs('CNTV_CTL_EL02')];
    expect(verdict('deferred', scripted({ 3: { value: 0x5n } }), VHE, enabled).violation?.explanation)
      .toMatch(/ISTATUS=1 read from the page, but no version of vtimer written since the last certain host entry \(op #2\) has ISTATUS=1/);
    expect(verdict('deferred', scripted({ 2: { value: 0x5n } }), VHE, [msr('CNTV_CVAL_EL02', 0x200n), msr('CNTV_CTL_EL02', 1n), mrs('CNTV_CTL_EL02')]).violation).toBeUndefined();
  });

  it('an implementation without a page is held to the architecture', () => {
    expect(verdict('deferred', scripted({ 2: { irq: 0 } }, { page: false }), VHE, [...armV, tick(2n)]).violation).toBeDefined();
  });
});

describe('cval-tval', () => {
  it('a CVAL read must return what was written (as CVAL or as TVAL), a TVAL read must count down from it', () => {
    const ops = [msr('CNTV_TVAL_EL02', 0x10n), mrs('CNTV_CVAL_EL02'), msr('CNTV_CTL_EL02', 1n), tick(4n), mrs('CNTV_TVAL_EL02')];
    expect(verdict('cval-tval', scripted({}), VHE, ops).violation).toBeUndefined();
    expect(verdict('cval-tval', scripted({ 1: { value: 0x111n } }), VHE, ops).violation?.explanation).toMatch(/returned CVAL 0x111, inconsistent with the TVAL write that set vtimer's CVAL to 0x110 at op #0/);
    expect(verdict('cval-tval', scripted({ 4: { value: 0x10n } }), VHE, ops).violation?.explanation).toMatch(/TVAL 0x10 where CVAL 0x110 and count-offset 0x104 give 0xc/);
  });
});

describe('no-tval-in-vncr', () => {
  it('is refuted statically by a layout with a TVAL slot, and passes the architected layout', () => {
    expect(verdict('no-tval-in-vncr', scripted({}, { layout: 'tval-in-vncr' }), VHE, []).staticFault).toMatch(/gives CNTV_TVAL_EL0 a slot at 0x1f0 and CNTP_TVAL_EL0 a slot at 0x1f8/);
    expect(verdict('no-tval-in-vncr', scripted({}), VHE, []).staticFault).toBeUndefined();
    expect(verdict('no-tval-in-vncr', scripted({}, { layout: 'tval-in-vncr', page: false }), VHE, []).staticFault).toBeUndefined();
  });

  it('flags a TVAL access the implementation reports served from the page', () => {
    const detail = (_i: number, op: Op): StepDetail | undefined =>
      op.op === 'mrs' ? { actions: [{ kind: 'vncr', offset: 0x1f0, key: 'CNTV_TVAL_EL0', write: false }], vncr: [] } : undefined;
    const v = verdict('no-tval-in-vncr', scripted({}, { detail }), VHE, [mrs('CNTV_TVAL_EL02')]).violation!;
    expect(v.explanation).toMatch(/was served from VNCR slot 0x1f0: a slot is plain memory/);
  });
});

describe('vncr-verbatim', () => {
  const store = (value: bigint, extra: Partial<StepDetail> = {}) => (_i: number, op: Op): StepDetail | undefined =>
    op.op === 'msr' ? { actions: [{ kind: 'vncr', offset: 0x170, key: 'CNTV_CTL_EL0', write: true }, ...(extra.actions ?? [])], vncr: [{ offset: 0x170, key: 'CNTV_CTL_EL0', before: 0n, after: value }, ...(extra.vncr ?? [])] } : undefined;

  it('is n/a without hardware detail', () => {
    expect(verdict('vncr-verbatim', scripted({}), VHE, []).inapplicable).toMatch(/reports no hardware detail/);
  });

  it('a store must change its own slot, verbatim, and nothing else', () => {
    const ops = [msr('CNTV_CTL_EL02', 0x1_0000_0001n)];
    expect(verdict('vncr-verbatim', scripted({}, { detail: store(0x1_0000_0001n) }), VHE, ops).violation).toBeUndefined();
    expect(verdict('vncr-verbatim', scripted({}, { detail: store(0x1n) }), VHE, ops).violation?.explanation).toMatch(/stored 0x1 instead of the value written verbatim/);
    expect(verdict('vncr-verbatim', scripted({}, { detail: store(0x1_0000_0001n, { vncr: [{ offset: 0x168, key: 'CNTV_CVAL_EL0', before: 0n, after: 1n }] }) }), VHE, ops).violation?.explanation).toMatch(/changed another slot 0x168/);
    expect(verdict('vncr-verbatim', scripted({}, { detail: store(0x1_0000_0001n, { actions: [{ kind: 'host', what: 'x' }] }) }), VHE, ops).violation?.explanation).toMatch(/also caused host activity/);
  });
});
