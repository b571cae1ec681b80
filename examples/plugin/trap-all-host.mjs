// An nvconform module plug-in: a host hypervisor that traps every guest timer access and
// emulates the architecture exactly. It is the simplest *correct* implementation of a nested
// guest's generic timer: no VNCR page, no hardware timer handed to the guest, just the Arm ARM's
// rules in software. Self-contained: it imports nothing from nvconform.
//
//   nvconform run examples/vhe-cval-basic.json --model examples/plugin/trap-all-host.mjs
//
// It speaks the trace format's JSON forms (docs/plugins.md, docs/trace-format.md):
// reset(config) gets the trace's `config` object, step(op) gets one `ops` entry and returns one
// `observations` entry. 64-bit values are "0x..." strings outside, BigInt inside.

const MASK64 = (1n << 64n) - 1n;
const u64 = (x) => BigInt.asUintN(64, x);
const low32 = (x) => BigInt.asUintN(32, x);
const sext32 = (x) => BigInt.asUintN(64, BigInt.asIntN(32, x));
const hex = (x) => '0x' + x.toString(16);
const parseHex = (s, what) => {
  if (typeof s !== 'string' || !/^0x[0-9a-fA-F]{1,16}$/.test(s)) throw new Error(`${what}: expected "0x..." with 1 to 16 hex digits, got ${JSON.stringify(s)}`);
  return BigInt(s);
};

/** The four timers in the order the `irq` list is sorted in. */
const TIMERS = ['hptimer', 'hvtimer', 'ptimer', 'vtimer'];

// CTL: [0] ENABLE, [1] IMASK, [2] ISTATUS (read-only); the rest RES0.
const ENABLE = 1n;
const IMASK = 2n;
const ISTATUS = 4n;

// CNTHCTL_EL2 bits that matter to the nested guest (vEL1). With E2H=1 (vhe) and E2H=0 (nvhe).
const CNTHCTL = {
  vhe: { EL1PCTEN: 10n, EL1PTEN: 11n },
  nvhe: { EL1PCTEN: 0n, EL1PTEN: 1n }, // in the E2H=0 layout bit 1 is called EL1PCEN
  ECV: 12n, // both layouts, FEAT_ECV: CNTPOFF_EL2 applies at EL1
  EL1TVT: 13n, // FEAT_ECV: trap EL1 CNTV_{CTL,CVAL,TVAL}_EL0 when 1
  EL1TVCT: 14n, // FEAT_ECV: trap EL1 CNTVCT_EL0 when 1
};
const bitSet = (v, n) => ((v >> n) & 1n) === 1n;

/** Bits of a storage register that hold state (the others are RES0). */
function writableBits(reg, guest, ecv) {
  switch (reg) {
    case 'CNTVOFF_EL2':
    case 'CNTPOFF_EL2':
      return MASK64;
    case 'CNTHCTL_EL2':
      return (guest === 'vhe' ? 0xfffn : 0xffn) | (ecv ? 0x3f000n : 0n);
    case 'CNTKCTL_EL1':
      return 0x3ffn | (ecv ? 1n << 17n : 0n);
  }
  throw new Error(`not a storage register: ${reg}`);
}

const TIMER_NAME = /^CNT(P|V|HP|HV)_(CTL|CVAL|TVAL)_(EL0|EL02|EL2)$/;
const UNDEF = { kind: 'undefined' };

export class TrapAllHost {
  name = 'trap-all-host';

  reset(config) {
    this.guest = config.guest;
    if (this.guest !== 'vhe' && this.guest !== 'nvhe') throw new Error(`config.guest: ${JSON.stringify(config.guest)}`);
    this.ecv = (config.features ?? []).includes('ecv');
    this.count = config.count === undefined ? 0n : parseHex(config.count, 'config.count');
    this.el = 2;
    this.timers = Object.fromEntries(TIMERS.map((t) => [t, { ctl: 0n, cval: 0n }]));
    this.sys = { CNTVOFF_EL2: 0n, CNTPOFF_EL2: 0n, CNTHCTL_EL2: 0n, CNTKCTL_EL1: 0n };
    this.lastDetail = undefined;
    // Starting values are given by their vEL2 names (the vCPU starts at vEL2).
    for (const [name, v] of Object.entries(config.init ?? {})) {
      const value = parseHex(v, `config.init.${name}`);
      const m = this.decode(name, false);
      if (m.kind === 'timer' && m.view === 'ctl') this.timers[m.timer].ctl = value & (ENABLE | IMASK);
      else if (m.kind === 'timer' && m.view === 'cval') this.timers[m.timer].cval = value;
      else if (m.kind === 'sysreg') this.sys[m.reg] = value;
      else throw new Error(`config.init.${name}: not a writable register with state at vEL2`);
    }
  }

  step(op) {
    let obs;
    switch (op.op) {
      case 'msr':
        obs = this.access(op.reg, parseHex(op.value, 'value'));
        this.lastDetail = { actions: [{ kind: 'trap', why: `msr ${op.reg}` }] };
        break;
      case 'mrs':
        obs = this.access(op.reg, undefined);
        this.lastDetail = { actions: [{ kind: 'trap', why: `mrs ${op.reg}` }] };
        break;
      case 'tick':
      case 'preempt':
        this.count = u64(this.count + parseHex(op.by, 'by'));
        obs = {};
        this.lastDetail = { actions: [] };
        break;
      case 'wfi': {
        const elapsed = this.untilWake(parseHex(op.limit, 'limit'));
        this.count = u64(this.count + elapsed);
        obs = { elapsed: hex(elapsed) };
        this.lastDetail = { actions: [{ kind: 'host', what: 'wfi: block the vCPU until the earliest timer or the limit' }] };
        break;
      }
      case 'eret':
        if (this.el !== 2) throw new Error('eret at vEL1');
        this.el = 1;
        obs = {};
        this.lastDetail = { actions: [{ kind: 'host', what: 'enter the nested guest' }] };
        break;
      case 'exit':
        if (this.el !== 1) throw new Error('exit at vEL2');
        this.el = 2;
        obs = {};
        this.lastDetail = { actions: [{ kind: 'host', what: 'exception to the guest hypervisor' }] };
        break;
      default:
        throw new Error(`unknown op ${JSON.stringify(op.op)}`);
    }
    // `irq` first: observations print in the trace format's field order.
    return { irq: this.irq(), ...obs };
  }

  detail() {
    return this.lastDetail;
  }

  // ---- the architecture ----

  /** CNTHCTL_EL2 as it takes effect (RES0 bits ignored). */
  cnthctl() {
    return this.sys.CNTHCTL_EL2 & writableBits('CNTHCTL_EL2', this.guest, this.ecv);
  }

  /** CNTPOFF_EL2 if FEAT_ECV and CNTHCTL_EL2.ECV == 1, else 0. */
  physicalOffset() {
    return this.ecv && bitSet(this.cnthctl(), CNTHCTL.ECV) ? this.sys.CNTPOFF_EL2 : 0n;
  }

  offset(rule) {
    return rule === 'cntvoff' ? this.sys.CNTVOFF_EL2 : rule === 'cntpoff' ? this.physicalOffset() : 0n;
  }

  /** The offset in a timer's condition: only the EL1 timers have one. */
  timerOffset(t) {
    return t === 'vtimer' ? this.sys.CNTVOFF_EL2 : t === 'ptimer' ? this.physicalOffset() : 0n;
  }

  /** TimerConditionMet: (count - offset) mod 2^64 >= CVAL, unsigned. */
  conditionMet(t) {
    return u64(this.count - this.timerOffset(t)) >= this.timers[t].cval;
  }

  asserted(t) {
    return (this.timers[t].ctl & (ENABLE | IMASK)) === ENABLE && this.conditionMet(t);
  }

  irq() {
    return TIMERS.filter((t) => this.asserted(t));
  }

  /** Counts until the first timer line asserts (0 if one is asserted now), at most `limit`. */
  untilWake(limit) {
    let best = limit;
    for (const t of TIMERS) {
      const { ctl, cval } = this.timers[t];
      if ((ctl & (ENABLE | IMASK)) !== ENABLE) continue;
      const now = u64(this.count - this.timerOffset(t));
      const d = now >= cval ? 0n : cval - now;
      if (d < best) best = d;
    }
    return best;
  }

  /** TVAL write: CVAL = (count - offset) + SignExtend(value<31:0>), mod 2^64. */
  tvalToCval(offset, value) {
    return u64(this.count - offset + sext32(value));
  }

  /** TVAL read: ZeroExtend((CVAL - (count - offset))<31:0>). */
  cvalToTval(offset, cval) {
    return low32(cval - (this.count - offset));
  }

  /**
   * What register `name` designates at the current EL, as
   * {kind: 'timer', timer, view, offset} | {kind: 'sysreg', reg} | {kind: 'counter', offset} |
   * {kind: 'undefined'} | {kind: 'trap'}. `write`: the access is an MSR.
   */
  decode(name, write) {
    const el = this.el;
    const vhe = this.guest === 'vhe';
    const m = TIMER_NAME.exec(name);
    if (m) {
      const [, fam, V, suffix] = m;
      const view = V.toLowerCase();
      const t = (timer, offset = 'none') => ({ kind: 'timer', timer, view, offset });
      if (el === 2) {
        if (fam === 'HP' && suffix === 'EL2') return t('hptimer');
        if (fam === 'HV' && suffix === 'EL2') return t('hvtimer');
        if (fam === 'P' && suffix === 'EL0') return vhe ? t('hptimer') : t('ptimer');
        if (fam === 'V' && suffix === 'EL0') return vhe ? t('hvtimer') : t('vtimer', 'cntvoff');
        if (fam === 'P' && suffix === 'EL02') return vhe ? t('ptimer') : UNDEF;
        if (fam === 'V' && suffix === 'EL02') return vhe ? t('vtimer', 'cntvoff') : UNDEF;
        throw new Error(`unknown register ${name}`);
      }
      // vEL1: the nested guest. Only the EL0 names exist; the guest hypervisor's CNTHCTL_EL2 may trap them.
      if (suffix !== 'EL0') return UNDEF;
      const h = this.cnthctl();
      if (fam === 'P') {
        if (!bitSet(h, CNTHCTL[this.guest].EL1PTEN)) return { kind: 'trap' };
        return t('ptimer', 'cntpoff');
      }
      if (fam === 'V') {
        if (this.ecv && bitSet(h, CNTHCTL.EL1TVT)) return { kind: 'trap' };
        return t('vtimer', 'cntvoff');
      }
      throw new Error(`unknown register ${name}`);
    }
    switch (name) {
      case 'CNTVOFF_EL2':
      case 'CNTHCTL_EL2':
        return el === 2 ? { kind: 'sysreg', reg: name } : UNDEF;
      case 'CNTPOFF_EL2':
        return el === 2 && this.ecv ? { kind: 'sysreg', reg: name } : UNDEF;
      case 'CNTKCTL_EL1':
        // At EL2 with E2H=1, CNTKCTL_EL1 is CNTHCTL_EL2.
        return { kind: 'sysreg', reg: el === 2 && vhe ? 'CNTHCTL_EL2' : 'CNTKCTL_EL1' };
      case 'CNTPCT_EL0':
        if (write) return UNDEF;
        if (el === 2) return { kind: 'counter', offset: 'none' };
        if (!bitSet(this.cnthctl(), CNTHCTL[this.guest].EL1PCTEN)) return { kind: 'trap' };
        return { kind: 'counter', offset: 'cntpoff' };
      case 'CNTVCT_EL0':
        if (write) return UNDEF;
        // CNTVOFF_EL2 does not apply at EL2 with E2H=1.
        if (el === 2) return { kind: 'counter', offset: vhe ? 'none' : 'cntvoff' };
        if (this.ecv && bitSet(this.cnthctl(), CNTHCTL.EL1TVCT)) return { kind: 'trap' };
        return { kind: 'counter', offset: 'cntvoff' };
    }
    throw new Error(`unknown register ${name}`);
  }

  /** One MSR (value given) or MRS (value undefined) at the current EL. Returns the observation's extra fields. */
  access(name, value) {
    const m = this.decode(name, value !== undefined);
    switch (m.kind) {
      case 'undefined':
        return { fault: 'undefined' };
      case 'trap':
        // The nested guest's access goes to its hypervisor: the vCPU is now at vEL2.
        this.el = 2;
        return { fault: 'trap' };
      case 'counter':
        return { value: hex(u64(this.count - this.offset(m.offset))) };
      case 'sysreg':
        if (value !== undefined) {
          this.sys[m.reg] = value;
          return {};
        }
        return { value: hex(this.sys[m.reg] & writableBits(m.reg, this.guest, this.ecv)) };
      case 'timer': {
        const tm = this.timers[m.timer];
        if (m.view === 'ctl') {
          if (value !== undefined) {
            tm.ctl = value & (ENABLE | IMASK);
            return {};
          }
          // ISTATUS is UNKNOWN while disabled; this host reports 0 then.
          const enabled = (tm.ctl & ENABLE) !== 0n;
          return { value: hex(tm.ctl | (enabled && this.conditionMet(m.timer) ? ISTATUS : 0n)) };
        }
        if (m.view === 'cval') {
          if (value !== undefined) {
            tm.cval = value;
            return {};
          }
          return { value: hex(tm.cval) };
        }
        const off = this.offset(m.offset);
        if (value !== undefined) {
          tm.cval = this.tvalToCval(off, value);
          return {};
        }
        // A TVAL read while disabled is UNKNOWN; computing it anyway is one allowed answer.
        return { value: hex(this.cvalToTval(off, tm.cval)) };
      }
    }
    throw new Error(`bad decode ${JSON.stringify(m)}`);
  }
}

/** The plug-in entry point: nvconform calls it once per implementation instance. */
export function createImplementation(_options) {
  return new TrapAllHost();
}
