/**
 * The host's timer map: the placement is a value, the hardware traps follow from it, each hardware
 * timer serves at most one guest timer, and `run --verbose` prints it.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { e2h1Bit } from '../../models/arch/cnthctl.js';
import { REGISTERS, REGISTER_TABLE as REGISTERS_TABLE, featureTest } from '../../models/arch/registers.js';
import { TIMERS, TIMER_INDEX, type TimerId } from '../../models/arch/timers.js';
import type { GuestMode } from '../../models/arch/vocabulary.js';
import { loadLayout } from '../../models/layouts/load.js';
import { hostPolicy } from '../../models/nv2/host/policy.js';
import { describeTimerMap, timerMap, type HostSetup, type TimerMap } from '../../models/nv2/host/timer-map.js';
import { model } from './helpers.js';

const bit = e2h1Bit;
/** A host whose CPU has FEAT_ECV exactly when the guest's does or the host uses ECV traps (as the first build modelled it). */
const setup = (guest: GuestMode, o: { ecvTraps?: boolean; guestEcv?: boolean; layout?: string } = {}): HostSetup => ({
  table: REGISTERS_TABLE, guest, guestHas: featureTest(o.guestEcv ? ['ecv', 'ecv-poff', 'vhe'] : ['vhe']),
  phys: !!o.guestEcv || !!o.ecvTraps ? ['ecv', 'ecv-poff', 'vhe', 'nv2p1'] : ['vhe', 'nv2p1'],
  nv2: true, layout: loadLayout(o.layout ?? 'architected'), policy: hostPolicy('exact', !!o.ecvTraps), counterOffset: 0n,
});

const ZERO = { cntvoff: 0n, poff: 0n, cnthctl: 0n };
const on = (m: TimerMap, t: TimerId): string => (m.on[TIMER_INDEX[t]]! >= 0 ? TIMERS[m.on[TIMER_INDEX[t]]!]! : 'soft');
const placement = (m: TimerMap): Record<string, string> => Object.fromEntries(TIMERS.map((t) => [t, on(m, t)]));
const held = (m: TimerMap): string[] => TIMERS.filter((t) => m.pageHeld[TIMER_INDEX[t]]);

describe('the timer map at vEL2', () => {
  it('VHE guest hypervisor, no ECV traps: its EL2 timers on the hardware, its guest\'s EL1 timers soft and in the page', () => {
    const m = timerMap(setup('vhe'), 2, ZERO);
    expect(placement(m)).toEqual({ hptimer: 'ptimer', hvtimer: 'vtimer', ptimer: 'soft', vtimer: 'soft' });
    expect(held(m)).toEqual(['ptimer', 'vtimer']);
    expect(m.cnthctl).toBe(bit('EL1PTEN') | bit('EL1PCTEN'));
    expect(m.cntkctl).toBe(REGISTERS_TABLE.core.cnthctl);
  });

  it('VHE with ECV traps: the same placement; EL1NVPCT/EL1NVVCT trap the page accesses, so nothing is page-held', () => {
    const m = timerMap(setup('vhe', { ecvTraps: true, guestEcv: true }), 2, ZERO);
    expect(placement(m)).toEqual({ hptimer: 'ptimer', hvtimer: 'vtimer', ptimer: 'soft', vtimer: 'soft' });
    expect(held(m)).toEqual([]);
    expect(m.cnthctl).toBe(bit('EL1PTEN') | bit('EL1PCTEN') | bit('EL1NVPCT') | bit('EL1NVVCT'));
  });

  it('a virtual CPU without ECV on a CPU with it: CNTPCTSS_EL0 and CNTVCTSS_EL0 are trapped (EL1PCTEN clear, EL1TVCT set) so the host can make them UNDEFINED', () => {
    const m = timerMap(setup('vhe', { ecvTraps: true }), 2, ZERO);
    expect(m.cnthctl).toBe(bit('EL1PTEN') | bit('EL1TVCT') | bit('EL1NVPCT') | bit('EL1NVVCT'));
    const route = (name: string) => m.routes.route(REGISTERS.find((r) => r.name === name)!, false).kind;
    expect([route('CNTPCTSS_EL0'), route('CNTVCTSS_EL0')]).toEqual(['trap', 'trap']);
  });

  it('non-VHE, no ECV traps: its EL1 timers stay on the hardware although CTL/CVAL are in the page (no trap separates them)', () => {
    const m = timerMap(setup('nvhe'), 2, ZERO);
    expect(placement(m)).toEqual({ hptimer: 'soft', hvtimer: 'soft', ptimer: 'ptimer', vtimer: 'vtimer' });
    expect(held(m)).toEqual(['ptimer', 'vtimer']);
  });

  it('non-VHE with ECV traps: both EL1 timers emulated; EL1TVT and EL1TVCT set, EL1PTEN clear', () => {
    const m = timerMap(setup('nvhe', { ecvTraps: true, guestEcv: true }), 2, ZERO);
    expect(placement(m)).toEqual({ hptimer: 'soft', hvtimer: 'soft', ptimer: 'soft', vtimer: 'soft' });
    expect(m.cnthctl).toBe(bit('EL1PCTEN') | bit('EL1TVT') | bit('EL1TVCT'));
  });

  it('non-VHE with CNTPOFF_EL2 in force: the EL1 physical timer is emulated (its condition and its TVAL view need different offsets)', () => {
    const s = setup('nvhe', { guestEcv: true, layout: 'trap-all' });
    expect(on(timerMap(s, 2, ZERO), 'ptimer')).toBe('ptimer');
    const m = timerMap(s, 2, { ...ZERO, poff: 0x40n });
    expect(on(m, 'ptimer')).toBe('soft');
    expect(on(m, 'vtimer')).toBe('vtimer');
    expect(m.cnthctl & bit('EL1PTEN')).toBe(0n);
    expect(m.cnthctl & bit('EL1PCTEN')).not.toBe(0n);
  });
});

describe('the timer map at vEL1 (the nested guest)', () => {
  it('mirrors the guest hypervisor\'s own trap bits: a trapped timer is not on the hardware', () => {
    const s = setup('nvhe', { layout: 'trap-all' });
    const open = timerMap(s, 1, { ...ZERO, cnthctl: 0x3n });
    expect(placement(open)).toEqual({ hptimer: 'soft', hvtimer: 'soft', ptimer: 'ptimer', vtimer: 'vtimer' });
    const closed = timerMap(s, 1, { ...ZERO, cnthctl: 0x1n }); // EL1PCEN=0: the guest traps its guest's CNTP_*
    expect(on(closed, 'ptimer')).toBe('soft');
    expect(closed.cnthctl & bit('EL1PTEN')).toBe(0n);
    expect(closed.cntvoff).toBe('guest');
  });
});

describe('invariants over every setup', () => {
  const setups: [string, HostSetup][] = [];
  for (const guest of ['vhe', 'nvhe'] as const) for (const layout of ['architected', 'trap-all', 'timers-only', 'tval-in-vncr', 'cval-only'])
    for (const ecvTraps of [false, true]) for (const guestEcv of [false, true]) setups.push([`${guest} ${layout} ecvTraps=${ecvTraps} ecv=${guestEcv}`, setup(guest, { layout, ecvTraps, guestEcv })]);

  it.each(setups)('%s: one guest timer per hardware timer; the traps follow the placement', (_n, s) => {
    for (const facts of [ZERO, { ...ZERO, poff: 0x40n }, { ...ZERO, cntvoff: 0x10n }]) {
      const m = timerMap(s, 2, facts);
      const used = m.on.filter((h) => h >= 0);
      expect(new Set(used).size).toBe(used.length);
      // Every name of a guest timer that is not on the hardware is trapped or served from the page, never the hardware.
      for (const row of REGISTERS) {
        const mn = row.vel2[s.guest];
        if (mn.kind !== 'timer' || m.on[mn.ti]! >= 0) continue;
        for (const write of [false, true]) expect(['trap', 'vncr', 'undefined'], `${row.name}`).toContain(m.routes.route(row, write).kind);
      }
      // And every name that reaches a hardware timer belongs to the guest timer placed on it.
      for (const row of REGISTERS) {
        const mn = row.vel2[s.guest];
        for (const write of [false, true]) {
          const r = m.routes.route(row, write);
          if (r.kind === 'hw' && r.meaning.kind === 'timer' && mn.kind === 'timer') expect(m.on[mn.ti], row.name).toBe(r.meaning.ti);
        }
      }
    }
  });
});

describe('printing the map', () => {
  it('describeTimerMap names every timer, the trap bits set and where the offsets come from', () => {
    const line = describeTimerMap(timerMap(setup('nvhe', { ecvTraps: true, guestEcv: true }), 2, ZERO), { table: REGISTERS_TABLE });
    expect(line).toBe("vEL2: hptimer soft, hvtimer soft, ptimer soft, vtimer soft; hw CNTHCTL_EL2 0x6400 (EL1PCTEN,EL1TVT,EL1TVCT), CNTVOFF_EL2 0, CNTPOFF_EL2 0, CNTKCTL_EL1 holds guest CNTKCTL_EL1");
  });

  it('the model describes its current map, which changes on eret', () => {
    const m = model();
    m.reset({ guest: 'vhe', features: [], count: 0n, init: {} });
    expect(m.describeHost()).toMatch(/^vEL2: hptimer on hw ptimer, hvtimer on hw vtimer, ptimer soft \(CTL\/CVAL in the page\)/);
    m.step({ op: 'eret' });
    // The guest hypervisor's CNTHCTL_EL2 is 0: EL1PTEN=0 traps its guest's physical timer, so only the virtual one is on the hardware.
    expect(m.describeHost()).toMatch(/^vEL1: hptimer soft, hvtimer soft, ptimer soft, vtimer on hw vtimer/);
  });

  it('run --verbose prints the map each time it changes', () => {
    const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'run', 'examples/vel1-trap.json', '--model', 'nv2', '--verbose'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('host timer map (where the host keeps each guest timer; printed when it changes):');
    expect(r.stdout).toMatch(/after #\d+ +vEL2: /);
    expect(r.stdout).toMatch(/after #\d+ +vEL1: /);
  });
});
