/**
 * The wider machine on the NV2 side (issue 12): every new register × guest mode × EL routed and
 * executed as the reference says; the physical CPU's features (FEAT_NV2p1 and the CNTKCTL_EL1
 * alias, FEAT_ECV with a virtual CPU without it); a VM counter offset; and each rule of the `kvm`
 * host profile on its own, against the exact host on the same trace.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../models/arch/errors.js';
import type { Feature, GuestMode, Op } from '../../models/arch/vocabulary.js';
import { TIMER_INDEX } from '../../models/arch/timers.js';
import {
  HP, NO_ECV_CPU, NO_NV2P1_CPU, P, V, actionTags, cfg, eret, expectExact, firstDivergence, model, mrs, msr, preempt, runBoth, tick,
} from './helpers.js';

const TGE = 1n << 27n;
const E2H = 1n << 34n;
const ECV = 1n << 12n;
const wfit = (deadline: bigint): Op => ({ op: 'wfit', deadline });
const ECV_VCPU: Feature[] = ['ecv', 'wfxt'];

describe('the new registers on the NV2 and NV hosts, every guest mode and EL', () => {
  const hosts = [
    ['nv2 architected', () => model()], ['nv2 trap-all', () => model({ layout: 'trap-all' })], ['nv', () => model({ layout: 'trap-all', nv2: false })],
    ['nv2 architected, ECV traps', () => model({ hostEcvTraps: true })],
  ] as const;
  const seqs: Record<string, Op[]> = {
    HCR_EL2: [mrs('HCR_EL2'), msr('HCR_EL2', TGE), mrs('HCR_EL2'), msr('HCR_EL2', E2H | 0x1n), mrs('HCR_EL2'), preempt(0n), mrs('HCR_EL2'), eret, mrs('HCR_EL2')],
    CNTKCTL_EL12: [msr('CNTKCTL_EL12', 0x303n), mrs('CNTKCTL_EL12'), mrs('CNTKCTL_EL1'), eret, mrs('CNTKCTL_EL1'), mrs('CNTKCTL_EL12')],
    // The offsets are written through a trap (preempt first: a page-held offset reaches the hardware at the next host entry, the lag the default suite shows).
    CNTPCTSS_EL0: [tick(5n), mrs('CNTPCTSS_EL0'), msr('CNTHCTL_EL2', 0x1c03n), msr('CNTPOFF_EL2', 3n), preempt(0n), mrs('CNTPCTSS_EL0'), eret, mrs('CNTPCTSS_EL0')],
    CNTVCTSS_EL0: [msr('CNTVOFF_EL2', 0x10n), preempt(0n), mrs('CNTVCTSS_EL0'), eret, mrs('CNTVCTSS_EL0')],
  };
  // A vCPU without ECV on this CPU (which has it) reads and writes CNTPOFF_EL2 in the page: leave it out of those runs.
  const without = (ops: readonly Op[], features: readonly Feature[]) =>
    features.includes('ecv') ? ops : ops.filter((op) => op.op !== 'msr' || op.reg !== 'CNTPOFF_EL2');
  for (const [hostName, make] of hosts) {
    for (const guest of ['vhe', 'nvhe'] as GuestMode[]) {
      for (const [reg, ops] of Object.entries(seqs)) {
        for (const features of [ECV_VCPU, ['wfxt'] as Feature[]]) {
          it(`${reg} on ${hostName}, ${guest}, vCPU [${features.join(',')}]`, () => {
            expectExact(runBoth(cfg({ guest, features, count: 0x100n }), without(ops, features), make()), `${reg} ${hostName} ${guest}`);
          });
        }
      }
    }
  }

  it('routing: HCR_EL2 is VNCR 0x078 with the architected layout and traps (HCR_EL2.NV) without a slot; CNTKCTL_EL12 traps under NV', () => {
    const m = model();
    m.reset(cfg({ guest: 'vhe' }));
    m.step(mrs('HCR_EL2'));
    expect(actionTags(m.detail())).toEqual(['vncr:load:0x78']);
    m.step(mrs('CNTKCTL_EL12'));
    expect(actionTags(m.detail())[0]).toBe('trap:HCR_EL2.NV');
    const t = model({ layout: 'trap-all' });
    t.reset(cfg({ guest: 'nvhe' }));
    t.step(msr('HCR_EL2', TGE));
    expect(actionTags(t.detail())[0]).toBe('trap:HCR_EL2.NV');
  });

  it('routing: with FEAT_ECV in the vCPU the SS counters reach the hardware at vEL2; without it they trap and read UNDEFINED', () => {
    const m = model();
    m.reset(cfg({ guest: 'vhe', features: ['ecv'] }));
    m.step(mrs('CNTPCTSS_EL0'));
    expect(actionTags(m.detail())).toEqual(['hw:read:CNTPCTSS_EL0']);
    m.reset(cfg({ guest: 'vhe' }));
    expect(m.step(mrs('CNTPCTSS_EL0')).fault).toBe('undefined');
    expect(actionTags(m.detail())[0]).toBe('trap:CNTHCTL_EL2.EL1PCTEN');
    expect(m.step(mrs('CNTVCTSS_EL0')).fault).toBe('undefined');
    expect(actionTags(m.detail())[0]).toBe('trap:CNTHCTL_EL2.EL1TVCT');
  });

  it('WFIT on the hosts wakes as the reference says (a timer first, the deadline, at once), both guest modes and ELs', () => {
    for (const [, make] of hosts) {
      for (const guest of ['vhe', 'nvhe'] as GuestMode[]) {
        const ops = [msr('CNTVOFF_EL2', 0x40n), preempt(0n), wfit(0x180n), msr('CNTHP_CVAL_EL2', 0x200n), msr('CNTHP_CTL_EL2', 1n), wfit(0x10000n), wfit(0x10n), eret, wfit(0x300n)];
        expectExact(runBoth(cfg({ guest, features: ['wfxt'], count: 0x100n }), ops, make()), `wfit ${guest}`);
        // Without FEAT_WFxT: UNDEFINED, on the hardware or by the host.
        expectExact(runBoth(cfg({ guest, count: 0x100n }), [wfit(0x180n), tick(1n)], make()), `wfit no wfxt ${guest}`);
      }
    }
  });

  it('WFIT traps: the host takes in an offset stored into the page before it reads the deadline', () => {
    const ops = [msr('CNTVOFF_EL2', 0x40n), wfit(0x180n)];
    expectExact(runBoth(cfg({ guest: 'nvhe', features: ['wfxt'], count: 0x100n }), ops, model({ hostCpu: NO_ECV_CPU })));
  });

  it('a TGE flip trapped to the host takes effect at once: CNTPOFF_EL2 stops applying to the EL1 physical timer', () => {
    const ops = [msr('CNTHCTL_EL2', 0x1c00n), msr('CNTPOFF_EL2', 0x800n), msr('CNTP_CVAL_EL02', 0x900n), msr('CNTP_CTL_EL02', 1n), msr('HCR_EL2', E2H | TGE), tick(1n), msr('HCR_EL2', E2H)];
    const steps = runBoth(cfg({ guest: 'vhe', features: ['ecv'], count: 0x1000n }), ops, model({ layout: 'timers-only', hostEcvTraps: true }));
    expectExact(steps);
    expect(steps[4]!.obs.irq & P).toBe(P);
    expect(steps[6]!.obs.irq & P).toBe(0);
  });

  it('a TGE flip stored into the page (architected layout) reaches the timer only at the next host entry: the lag of an offset slot', () => {
    const ops = [msr('CNTHCTL_EL2', 0x1c00n), msr('CNTPOFF_EL2', 0x800n), msr('CNTP_CVAL_EL02', 0x900n), msr('CNTP_CTL_EL02', 1n), preempt(0n), msr('HCR_EL2', E2H | TGE), preempt(0n)];
    const steps = runBoth(cfg({ guest: 'vhe', features: ['ecv'], count: 0x1000n }), ops, model({ hostEcvTraps: true }));
    expect(firstDivergence(steps)).toBe(5);
    expect(steps[5]!.exp.irq & P).toBe(P);
    expect(steps[5]!.obs.irq & P).toBe(0);
    expect(steps[6]!.obs.irq & P).toBe(P);
  });
});

describe('the physical CPU', () => {
  const aliasWrite = [msr('CNTKCTL_EL1', 0xc03n), mrs('CNTKCTL_EL1'), preempt(0n), mrs('CNTKCTL_EL1'), mrs('CNTHCTL_EL2')];

  it('with FEAT_NV2p1, CNTHCTL_EL2.EL1PCTEN/EL1PTEN written through the CNTKCTL_EL1 alias are kept by the hardware register', () => {
    expectExact(runBoth(cfg({ guest: 'vhe', count: 0x10n }), aliasWrite, model({ hostCpu: NO_ECV_CPU })));
  });

  it('without FEAT_NV2p1, bits [11:10] of the hardware CNTKCTL_EL1 are RES0: the alias write loses them (read back 0x3)', () => {
    const steps = runBoth(cfg({ guest: 'vhe', count: 0x10n }), aliasWrite, model({ hostCpu: NO_NV2P1_CPU }));
    expect(firstDivergence(steps)).toBe(1);
    expect(steps[1]!.obs.value).toBe(0x3n);
    expect(steps[4]!.obs.value).toBe(0x3n);
  });

  it('with FEAT_NV2p1 but no FEAT_ECV, [11:10] survive and [16:12] do not', () => {
    const m = model({ hostCpu: ['vhe', 'nv2p1'] });
    m.reset(cfg({ guest: 'vhe' }));
    m.step(msr('CNTKCTL_EL1', 0x1fc03n));
    expect(m.step(mrs('CNTKCTL_EL1')).value).toBe(0xc03n);
    const e = model({ hostCpu: ['ecv', 'ecv-poff', 'vhe', 'nv2p1'] });
    e.reset(cfg({ guest: 'vhe', features: ['ecv'] }));
    e.step(msr('CNTKCTL_EL1', 0x1fc03n));
    expect(e.step(mrs('CNTKCTL_EL1')).value).toBe(0x1fc03n);
  });

  it('a virtual CPU with a feature the physical CPU lacks is refused (InputError), and so are ECV traps without ECV', () => {
    expect(() => model({ hostCpu: NO_ECV_CPU }).reset(cfg({ features: ['ecv'] }))).toThrow(InputError);
    expect(() => model({ hostCpu: NO_ECV_CPU, hostEcvTraps: true })).toThrow(InputError);
    expect(() => model({ hostCpu: ['ecv', 'ecv-poff', 'nv2p1'] })).toThrow(/FEAT_VHE/);
  });

  it('on a CPU with FEAT_ECV a virtual CPU without it reads CNTPOFF_EL2 from the page (the Arm ARM tests the physical feature)', () => {
    const steps = runBoth(cfg({ guest: 'vhe' }), [mrs('CNTPOFF_EL2')], model());
    expect(steps[0]!.exp.fault).toBe('undefined');
    expect(steps[0]!.obs).toEqual({ irq: 0, value: 0n });
    expect(actionTags(steps[0]!.detail)).toEqual(['vncr:load:0x1a8']);
    // A CPU without it: UNDEFINED in hardware.
    expectExact(runBoth(cfg({ guest: 'vhe' }), [mrs('CNTPOFF_EL2')], model({ hostCpu: NO_ECV_CPU })));
  });
});

describe('a VM counter offset (KVM_ARM_SET_COUNTER_OFFSET) on the exact host', () => {
  const P_OFF = 0x1_0000n;
  const trace = [
    mrs('CNTPCT_EL0'), msr('CNTVOFF_EL2', 0x40n), mrs('CNTVCT_EL0'), msr('CNTHP_CVAL_EL2', 0x120n), msr('CNTHP_CTL_EL2', 1n), tick(0x20n),
    msr('CNTP_CVAL_EL02', 0x130n), msr('CNTP_CTL_EL02', 1n), preempt(0n), eret, mrs('CNTPCT_EL0'), mrs('CNTVCT_EL0'), mrs('CNTP_TVAL_EL0'), tick(0x40n), mrs('CNTP_CTL_EL0'),
  ];

  for (const cpu of [undefined, NO_ECV_CPU] as const) {
    it(`the guest sees its own count and timers fire on time, ${cpu ? 'without CNTPOFF_EL2 (counters and the physical timer trapped)' : 'with CNTPOFF_EL2 carrying it'}`, () => {
      const m = model({ layout: 'trap-all', counterOffset: P_OFF, ...(cpu ? { hostCpu: cpu } : {}) });
      expectExact(runBoth(cfg({ guest: 'vhe', count: 0x100n }), trace, m));
      const nv = model({ layout: 'trap-all', nv2: false, counterOffset: P_OFF, ...(cpu ? { hostCpu: cpu } : {}) });
      expectExact(runBoth(cfg({ guest: 'nvhe', count: 0x100n }), trace.filter((op) => op.op !== 'msr' || !op.reg.endsWith('_EL02')), nv));
    });
  }

  it('the hardware offset registers hold the VM offset on top of the guest\'s', () => {
    const m = model({ counterOffset: P_OFF });
    m.reset(cfg({ guest: 'nvhe', init: { CNTVOFF_EL2: 0x40n } }));
    expect(m.state.hw.cntvoff).toBe(P_OFF + 0x40n);
    expect(m.state.hw.cnthctl & ECV).toBe(ECV);
    expect(m.state.hw.cntpoff).toBe(P_OFF);
  });
});

describe('the kvm host profile, one rule at a time (models/nv2/host/policy.ts)', () => {
  const kvm = (o: Parameters<typeof model>[0] = {}) => model({ ...o, host: 'kvm' });
  const exact = (o: Parameters<typeof model>[0] = {}) => model(o);

  it("get_timer_map: the guest hypervisor's EL2 timers on the hardware at vEL2 whatever its mode, its EL1 timers at vEL1", () => {
    for (const guest of ['vhe', 'nvhe'] as GuestMode[]) {
      const m = kvm({ hostCpu: NO_ECV_CPU });
      m.reset(cfg({ guest }));
      expect(m.timerMap()!.on).toEqual([TIMER_INDEX.ptimer, TIMER_INDEX.vtimer, -1, -1]);
      m.step(eret);
      expect(m.timerMap()!.on).toEqual([-1, -1, TIMER_INDEX.ptimer, TIMER_INDEX.vtimer]);
    }
    // The exact host keeps a non-VHE guest hypervisor's EL1 timers on the hardware instead.
    const e = exact({ hostCpu: NO_ECV_CPU });
    e.reset(cfg({ guest: 'nvhe' }));
    expect(e.timerMap()!.on).toEqual([-1, -1, TIMER_INDEX.ptimer, TIMER_INDEX.vtimer]);
  });

  it('timer_set_traps: with ECV, EL1NVVCT|EL1NVPCT for E2H=1 and EL1TVT with EL1PCEN clear for E2H=0; nothing without ECV', () => {
    const bits = (guest: GuestMode, cpu?: readonly ('ecv' | 'ecv-poff' | 'wfxt' | 'vhe' | 'nv2p1')[]) => {
      const m = kvm(cpu ? { hostCpu: cpu } : {});
      m.reset(cfg({ guest }));
      return m.timerMap()!.cnthctl;
    };
    // E2H=1 layout: EL1PCTEN [10], EL1PTEN [11], ECV [12] (set: the CPU has CNTPOFF_EL2), EL1TVT [13], EL1NVPCT [15], EL1NVVCT [16].
    expect(bits('vhe')).toBe(0x400n | 0x800n | ECV | 0x8000n | 0x10000n);
    expect(bits('nvhe')).toBe(0x400n | ECV | 0x2000n);
    expect(bits('vhe', NO_ECV_CPU)).toBe(0xc00n);
    expect(bits('nvhe', NO_ECV_CPU)).toBe(0xc00n);
  });

  it('timer_set_traps: without CNTPOFF_EL2 and with a VM offset, the physical timer and counter trap; CVAL is shifted on the hardware', () => {
    const m = kvm({ hostCpu: NO_ECV_CPU, counterOffset: 0x100n, layout: 'trap-all' });
    m.reset(cfg({ guest: 'vhe' }));
    expect(m.timerMap()!.cnthctl & 0xc00n).toBe(0n);
    m.step(msr('CNTHP_CVAL_EL2', 0x50n));
    expect(m.state.hw.timers[TIMER_INDEX.ptimer]!.cval).toBe(0x150n);
    expect(m.step(mrs('CNTHP_CVAL_EL2')).value).toBe(0x50n);
    expect(m.step(mrs('CNTPCT_EL0')).value).toBe(0n);
  });

  it('the shifted CVAL wraps: a CVAL near 2^64 fires at once on the hardware (a divergence the exact host does not have)', () => {
    const ops = [msr('CNTHP_CVAL_EL2', (1n << 64n) - 0x10n), msr('CNTHP_CTL_EL2', 1n), tick(1n)];
    const config = cfg({ guest: 'vhe', count: 0x1000n });
    const k = runBoth(config, ops, kvm({ hostCpu: NO_ECV_CPU, counterOffset: 0x100n, layout: 'trap-all' }));
    expect(k[2]!.exp.irq & HP).toBe(0);
    expect(k[2]!.obs.irq & HP).toBe(HP);
    expectExact(runBoth(config, ops, exact({ hostCpu: NO_ECV_CPU, counterOffset: 0x100n, layout: 'trap-all' })));
  });

  // The ECV path: the guest's EL1 virtual timer emulated, its CTL/CVAL trapped, its offset in the page.
  // count 0x100, CVAL 0x80: met; CNTVOFF_EL2 0x90 makes count - offset 0x70: not met.
  const ecvPath = [msr('CNTV_CVAL_EL02', 0x80n), msr('CNTV_CTL_EL02', 1n), msr('CNTVOFF_EL2', 0x90n)];

  it('kvm_timer_sync_nested does nothing with ECV: an offset stored into the page is not taken in at the next exit (a trapped read)', () => {
    const config = cfg({ guest: 'vhe', count: 0x100n });
    const ops = [...ecvPath, mrs('CNTHP_CTL_EL2')];
    const k = runBoth(config, ops, kvm());
    expect(k[3]!.exp.irq & V).toBe(0);
    expect(k[3]!.obs.irq & V).toBe(V);
    // The exact host re-evaluates at that entry.
    const e = runBoth(config, ops, exact({ hostEcvTraps: true }));
    expect(e[3]!.obs.irq & V).toBe(0);
  });

  it('a trapped write re-evaluates the timer written (kvm_arm_timer_write_sysreg), and a vcpu load all of them', () => {
    const config = cfg({ guest: 'vhe', count: 0x100n });
    const w = runBoth(config, [...ecvPath, msr('CNTV_CTL_EL02', 1n)], kvm());
    expect(w[3]!.obs.irq & V).toBe(0);
    const l = runBoth(config, [...ecvPath, preempt(0n)], kvm());
    expect(l[3]!.obs.irq & V).toBe(0);
  });

  it('without ECV every exit re-evaluates the emulated timers (kvm_timer_sync_nested)', () => {
    const config = cfg({ guest: 'vhe', count: 0x100n });
    const k = runBoth(config, [msr('CNTV_CVAL_EL02', 0x80n), msr('CNTV_CTL_EL02', 1n), mrs('CNTHP_CTL_EL2')], kvm({ hostCpu: NO_ECV_CPU }));
    expect(k[1]!.obs.irq & V).toBe(0);
    expect(k[2]!.obs.irq & V).toBe(V);
  });

  it('kvm_timer_update_status publishes the interrupt level as ISTATUS: masked and met reads ISTATUS 0 from the page', () => {
    const config = cfg({ guest: 'vhe', count: 0x100n });
    const ops = [msr('CNTV_CVAL_EL02', 0x80n), msr('CNTV_CTL_EL02', 3n), preempt(0n), mrs('CNTV_CTL_EL02')];
    expect(runBoth(config, ops, kvm({ hostCpu: NO_ECV_CPU }))[3]!.obs.value).toBe(3n);
    expect(runBoth(config, ops, exact({ hostCpu: NO_ECV_CPU }))[3]!.obs.value).toBe(7n);
  });

  it('kvm_hrtimer_expire raises the level of the timer whose soft timer fired, with nothing else looked at', () => {
    const config = cfg({ guest: 'vhe', count: 0x100n });
    const k = runBoth(config, [msr('CNTV_CVAL_EL02', 0x110n), msr('CNTV_CTL_EL02', 1n), tick(0x20n)], kvm());
    expectExact(k);
    expect(k[2]!.obs.irq & V).toBe(V);
  });

  it('wfit_delay_ns: in the guest hypervisor\'s context the deadline is on the count less the EL2 virtual timer\'s offset, not CNTVOFF_EL2', () => {
    const config = cfg({ guest: 'nvhe', features: ['wfxt'], count: 0x100n });
    const ops = [msr('CNTVOFF_EL2', 0x40n), wfit(0x180n)];
    const k = runBoth(config, ops, kvm({ hostCpu: NO_ECV_CPU, layout: 'trap-all' }));
    expect(k[1]!.exp.elapsed).toBe(0xc0n);
    expect(k[1]!.obs.elapsed).toBe(0x80n);
    expectExact(runBoth(config, ops, exact({ hostCpu: NO_ECV_CPU, layout: 'trap-all' })));
  });

  it('KVM hides FEAT_ECV from a guest hypervisor: a trace whose vCPU has it is refused', () => {
    expect(() => kvm().reset(cfg({ features: ['ecv'] }))).toThrow(/hides ecv/);
    expect(kvm().declaration.host.vcpuFeatures).toEqual(['wfxt', 'vhe']);
  });
});
