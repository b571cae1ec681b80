/**
 * The binary formats between Node and the guest image (xcheck/guest/nvx.h; xcheck/NOTES.md):
 * a batch of traces or probe cells in, a result file out. Every field is a little-endian 64-bit
 * word. Pure: no I/O.
 */
import type { FaultKind, Op, Trace } from '../../models/arch/vocabulary.js';
import { enc16, encodingOf, guestCanExecute, probeCanExecute } from './registers.js';

export const BATCH_ADDR = 0x44000000;
export const BATCH_MAX = 0x04000000;
export const RESULT_MAX = 0x07f00000;
const BATCH_MAGIC = 0x4843544142584e56n; // "NVXBATCH"
const RESULT_MAGIC = 0x544c534552584e56n; // "NVXRESLT"
const VERSION = 1n;
export const MODE_TRACES = 1;
export const MODE_PROBE = 2;
const HEADER_WORDS = 16;
const RESULT_HEADER_WORDS = 24;
const TRACE_HEADER_WORDS = 8;
export const OP_RESULT_WORDS = 14;
/** Words per routing-probe cell in the probe batch (documented in xcheck/NOTES.md). */
export const CELL_WORDS = 8;
const PROBE_RESULT_WORDS = 8;

const OPCODE: Readonly<Record<Op['op'], number | undefined>> = {
  msr: 1, mrs: 2, tick: 3, preempt: 4, eret: 5, exit: 6, wfi: 7, wfit: 8,
};

/** The timers in the order the guest samples them (and the trace format's TIMERS order). */
export const SAMPLED_TIMERS = ['hptimer', 'hvtimer', 'ptimer', 'vtimer'] as const;
export type SampledTimer = (typeof SAMPLED_TIMERS)[number];

/**
 * Default and hard limit of a tick/preempt (counts). Ticks up to 4096 counts are burnt by a
 * counted loop; longer ones are a WFI until the EL3 secure physical timer fires (the clock jumps).
 * A wait is capped at 2^44 counts in the guest (QEMU's timers are int64 nanoseconds).
 */
export const DEFAULT_MAX_TICK = 1n << 40n;
export const HARD_MAX_TICK = 1n << 44n;

export class XcheckError extends Error {
  override readonly name = 'XcheckError';
}

export interface EncodeOptions {
  /** Absolute path of the host file the guest writes its results to (semihosting). Required. */
  readonly resultPath: string;
  /** Largest tick/preempt accepted, in counts. Default DEFAULT_MAX_TICK (2^40); at most 2^44. */
  readonly maxTick?: bigint;
  /**
   * Per trace (by index in this batch), the count to idle until before op 0, or 0n: as soon as
   * possible. The guest waits only forward (a start already passed is flagged `startMissed`).
   */
  readonly startAt?: (trace: Trace, index: number) => bigint;
  /** After each op also read the GIC's pending bits of the timer PPIs (at EL3). Default true. */
  readonly gic?: boolean;
}

/** Why the guest cannot run this trace (op index included), or undefined if it can. */
export function unsupportedReason(trace: Trace, maxTick: bigint = DEFAULT_MAX_TICK): string | undefined {
  const limit = maxTick > HARD_MAX_TICK ? HARD_MAX_TICK : maxTick;
  if (trace.config.absent?.length) return `config.absent: QEMU's cpu max has ${trace.config.absent.join(', ')}; the guest cannot take it away`;
  for (const name of Object.keys(trace.config.init)) {
    const e = encodingOf(name);
    if (e && probeCanExecute(e) && !guestCanExecute(e)) return `config.init.${name}: the harness owns the real ${name} in a trace`;
    if (!e || !guestCanExecute(e)) return `config.init.${name}: no encoding the guest can execute`;
  }
  for (let i = 0; i < trace.ops.length; i++) {
    const op = trace.ops[i]!;
    switch (op.op) {
      case 'wfi':
        if (op.limit > HARD_MAX_TICK) return `ops[${i}]: wfi limit 0x${op.limit.toString(16)} is longer than the guest can wait (limit 0x${HARD_MAX_TICK.toString(16)} counts)`;
        break;
      case 'tick': case 'preempt':
        if (op.by > limit) return `ops[${i}]: ${op.op} by 0x${op.by.toString(16)} is longer than the guest burns (limit 0x${limit.toString(16)} counts)`;
        break;
      case 'msr': case 'mrs': {
        const e = encodingOf(op.reg);
        if (e && probeCanExecute(e) && !guestCanExecute(e)) return `ops[${i}]: the harness owns the real ${op.reg} in a trace`;
        if (!e || !guestCanExecute(e)) return `ops[${i}]: register '${op.reg}' has no encoding the guest can execute`;
        break;
      }
      case 'wfit':
        break;
      case 'eret': case 'exit':
        break;
    }
  }
  return undefined;
}

class Words {
  private buf: BigUint64Array;
  length = 0;
  constructor(initial = 1024) {
    this.buf = new BigUint64Array(initial);
  }
  push(...ws: bigint[]): void {
    for (const w of ws) {
      if (this.length === this.buf.length) {
        const n = new BigUint64Array(this.buf.length * 2);
        n.set(this.buf);
        this.buf = n;
      }
      this.buf[this.length++] = BigInt.asUintN(64, w);
    }
  }
  set(i: number, w: bigint): void {
    this.buf[i] = BigInt.asUintN(64, w);
  }
  bytes(): Uint8Array {
    // Little-endian on every host Node runs on here; written explicitly to be sure.
    const out = new Uint8Array(this.length * 8);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < this.length; i++) dv.setBigUint64(i * 8, this.buf[i]!, true);
    return out;
  }
}

function header(w: Words, mode: number, items: number, resultPath: string): void {
  if (!resultPath.startsWith('/')) throw new XcheckError(`resultPath must be an absolute path, got '${resultPath}'`);
  w.push(BATCH_MAGIC, VERSION, BigInt(mode), BigInt(items));
  for (let i = 4; i < HEADER_WORDS; i++) w.push(0n);
  const path = new TextEncoder().encode(resultPath);
  // Path right after the header, NUL-terminated and padded to a word.
  w.set(5, BigInt(HEADER_WORDS * 8));
  w.set(6, BigInt(path.length));
  const padded = new Uint8Array(Math.ceil((path.length + 1) / 8) * 8);
  padded.set(path);
  const dv = new DataView(padded.buffer);
  for (let i = 0; i < padded.length; i += 8) w.push(dv.getBigUint64(i, true));
  w.set(7, BigInt(w.length * 8));
}

function finish(w: Words): Uint8Array {
  w.set(4, BigInt(w.length * 8));
  if (w.length * 8 > BATCH_MAX) throw new XcheckError(`batch of ${w.length * 8} bytes is larger than the guest accepts (${BATCH_MAX})`);
  return w.bytes();
}

function encOf(name: string, where: string, probe = false): bigint {
  const e = encodingOf(name);
  if (!e || !(probe ? probeCanExecute(e) : guestCanExecute(e))) throw new XcheckError(`${where}: register '${name}' has no encoding the guest can execute${probe ? '' : ' in a trace'}`);
  return BigInt(enc16(e));
}

/** Results of a batch of n traces with these op counts must fit in the guest's result area. */
export function resultBytes(traces: readonly Trace[]): number {
  return RESULT_HEADER_WORDS * 8 + traces.reduce((s, t) => s + (TRACE_HEADER_WORDS + t.ops.length * OP_RESULT_WORDS) * 8, 0);
}

/** Encode traces as one batch (mode 1). Throws XcheckError naming the trace and op it cannot run. */
export function encodeBatch(traces: readonly Trace[], options: EncodeOptions): Uint8Array {
  const maxTick = options.maxTick ?? DEFAULT_MAX_TICK;
  const w = new Words();
  header(w, MODE_TRACES, traces.length, options.resultPath);
  if (options.gic ?? true) w.set(8, 1n);
  if (resultBytes(traces) > RESULT_MAX) throw new XcheckError(`the results of this batch would not fit the guest's result area: split it`);
  traces.forEach((t, ti) => {
    const why = unsupportedReason(t, maxTick);
    if (why) throw new XcheckError(`traces[${ti}]: ${why}`);
    const start = w.length;
    const init = Object.entries(t.config.init);
    const flags = (t.config.guest === 'vhe' ? 1n : 0n) | (t.config.features.includes('ecv') ? 2n : 0n);
    const startAt = options.startAt?.(t, ti) ?? 0n;
    if (startAt < 0n || startAt >= 1n << 62n) throw new XcheckError(`traces[${ti}]: startAt 0x${startAt.toString(16)} is beyond what QEMU's clock reaches (2^62)`);
    w.push(0n, flags, BigInt(init.length), BigInt(t.ops.length), startAt, 0n, 0n, 0n);
    for (const [name, value] of init) w.push(encOf(name, `traces[${ti}].config.init`), value);
    t.ops.forEach((op, i) => {
      const code = BigInt(OPCODE[op.op]!);
      switch (op.op) {
        case 'msr': w.push(code | (encOf(op.reg, `traces[${ti}].ops[${i}]`) << 16n), op.value); break;
        case 'mrs': w.push(code | (encOf(op.reg, `traces[${ti}].ops[${i}]`) << 16n), 0n); break;
        case 'tick': case 'preempt': w.push(code, op.by); break;
        case 'wfi': w.push(code, op.limit); break;
        case 'eret': case 'exit': w.push(code, 0n); break;
        case 'wfit': w.push(code, op.deadline); break;
      }
    });
    w.set(start, BigInt((w.length - start) * 8));
  });
  return finish(w);
}

// ---- results ----

export interface ResultHeader {
  readonly mode: number;
  readonly items: number;
  /** Counts between the CNTPCT_EL0 read and an access at EL2 (the study: 1). */
  readonly deltaEl2: bigint;
  /** Counts between the CNTPCT_EL0 read at EL2 and an access at EL1 after the ERET. */
  readonly deltaEl1: bigint;
  /** Counts an empty burn takes. */
  readonly burn0: bigint;
  readonly cntfrq: bigint;
  readonly idAa64mmfr2: bigint;
  readonly idAa64mmfr0: bigint;
  readonly haveEl3: boolean;
  /** The E2H=0 and E2H=1 calibrations agreed. */
  readonly calibrationOk: boolean;
  /** Count when the first item started / the last ended. */
  readonly count0: bigint;
  readonly count1: bigint;
  /** Counts from the read before arming a wait to its first WFI (0 without EL3). */
  readonly warpKp: bigint;
  /** A wait ended by its limit woke (wake - WFI count - limit) counts late. */
  readonly warpC0: bigint;
  /** wake - WFI count of a wait with limit 0. */
  readonly warpCimm: bigint;
  /** Count read back at EL2 after a WFIT woken by its deadline, less the deadline's count: at EL2, and at EL1 (after the HVC back). */
  readonly wfitKEl2: bigint;
  readonly wfitKEl1: bigint;
  /** Ticks longer than this were waits (WFI), not burnt. */
  readonly burnMax: bigint;
}

export interface LineSample {
  readonly timer: SampledTimer;
  /** CTL as read at EL2 after the op. */
  readonly ctl: bigint;
  /** The count at which that CTL read executed. */
  readonly count: bigint;
}

export interface QemuOpResult {
  readonly op: Op['op'];
  /**
   * msr/mrs: the count at which the access executed; tick/preempt: the count when the burn began;
   * eret/exit: the count read just before the ERET.
   */
  readonly countAtAccess: bigint;
  /** tick/preempt: the count when the burn (or wait) ended; wfi: the count read right after the WFI that woke. */
  readonly countAfter?: bigint;
  /** tick/preempt longer than the header's burnMax: waited for with WFI and the limit timer. */
  readonly waited?: boolean;
  /** wfi: counts from the WFI to the wake-up, less the calibrated wake latency (header.warpC0); never negative. */
  readonly elapsed?: bigint;
  /** wfi/wfit: what ended it (wfit: a line, CNTVCT_EL0 reaching the deadline, or the guest's safety limit of 2^44 counts). */
  readonly wake?: 'line' | 'limit' | 'deadline';
  /** mrs that completed: the value read. */
  readonly value?: bigint;
  readonly fault?: FaultKind;
  /** The EL the exception was taken to (1, 2, or 3 for a trap to the EL3 shim). */
  readonly faultEl?: 1 | 2 | 3;
  /** Its ESR (ESR_EL1, ESR_EL2 or ESR_EL3). */
  readonly esr?: bigint;
  readonly elBefore: 1 | 2;
  readonly elAfter: 1 | 2;
  /** eret at vEL1 or exit at vEL2 (an input error in the trace format; the guest ran it anyway). */
  readonly invalid?: boolean;
  /** The four timers' CTL with their counts, in SAMPLED_TIMERS order. */
  readonly lines: readonly LineSample[];
  /**
   * The GIC's pending bits of the timer PPIs (26 hptimer, 28 hvtimer, 30 ptimer, 27 vtimer: QEMU's
   * own timer outputs, level-sensitive) read at EL3 after the CTL samples, as a mask in
   * SAMPLED_TIMERS order, and the count read just before (the GIC read itself is ~25 counts later).
   */
  readonly gic?: { readonly mask: number; readonly count: bigint };
}

/** PPI of each timer in SAMPLED_TIMERS order. */
export const TIMER_PPIS = [26, 28, 30, 27] as const;

export interface RawTraceResult {
  /** Count read after the init writes, before op 0. */
  readonly count0: bigint;
  /** The first init write that faulted (the trace's config.init names something not writable at vEL2). */
  readonly initFault?: { readonly index: number; readonly faultEl: number; readonly esr: bigint };
  /** The requested start count had already passed when the trace began. */
  readonly startMissed?: boolean;
  readonly ops: readonly QemuOpResult[];
}

export interface DecodedResults {
  readonly header: ResultHeader;
  readonly traces: readonly RawTraceResult[];
}

/** Exception class of an ESR. */
export const esrClass = (esr: bigint): number => Number((esr >> 26n) & 0x3fn);

const ESR_MASK = (1n << 56n) - 1n;

/**
 * The trace format's fault from what the guest saw:
 * EC 0x0 (UNDEFINED) at any EL → 'undefined'; taken to EL2 from vEL1 with EC 0x18 → 'trap';
 * taken to EL3 (CNTPOFF_EL2 at EL2 with SCR_EL3.ECVEn = 0) → 'undefined' (the access did not
 * complete, and no vEL2 exception exists for it); anything else from vEL1 to EL2 → 'trap'.
 */
export function faultKindOf(faultEl: number, esr: bigint, elBefore: number): FaultKind {
  const ec = esrClass(esr);
  if (ec === 0) return 'undefined';
  if (faultEl === 2 && elBefore === 1) return 'trap';
  return 'undefined';
}

function reader(bytes: Uint8Array): (i: number) => bigint {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return (i: number): bigint => {
    if ((i + 1) * 8 > bytes.byteLength) throw new XcheckError(`result file truncated: word ${i} of ${bytes.byteLength / 8}`);
    return dv.getBigUint64(i * 8, true);
  };
}

function decodeHeader(word: (i: number) => bigint, bytes: Uint8Array, mode: number): ResultHeader {
  if (word(0) !== RESULT_MAGIC) throw new XcheckError('result file has no NVXRESLT magic');
  if (word(1) !== VERSION) throw new XcheckError(`result file version ${word(1)}, expected ${VERSION}`);
  if (Number(word(2)) !== mode) throw new XcheckError(`result file is of mode ${word(2)}, expected ${mode}`);
  if (Number(word(4)) !== bytes.byteLength) throw new XcheckError(`result file says ${word(4)} bytes, has ${bytes.byteLength}`);
  return {
    mode, items: Number(word(3)), deltaEl2: word(5), deltaEl1: word(6), burn0: word(7), cntfrq: word(8),
    idAa64mmfr2: word(9), idAa64mmfr0: word(10), haveEl3: word(11) === 1n, calibrationOk: word(14) === 1n,
    count0: word(12), count1: word(13), warpKp: word(15), warpC0: word(16), warpCimm: word(17), burnMax: word(18), wfitKEl2: word(19), wfitKEl1: word(20),
  };
}

/** Decode a trace-mode result file. `traces`, when given, names each op's kind (else derived from nothing: 'mrs'). */
export function decodeResults(bytes: Uint8Array, traces?: readonly Trace[]): DecodedResults {
  const word = reader(bytes);
  const header = decodeHeader(word, bytes, MODE_TRACES);
  if (traces && traces.length !== header.items) throw new XcheckError(`result file has ${header.items} traces, expected ${traces.length}`);
  const out: RawTraceResult[] = [];
  let p = RESULT_HEADER_WORDS;
  for (let t = 0; t < header.items; t++) {
    const nops = Number(word(p));
    const status = word(p + 1);
    const initFault = (status & 1n) !== 0n
      ? { index: Number(word(p + 3)), faultEl: Number(word(p + 2) >> 60n), esr: word(p + 2) & ESR_MASK } : undefined;
    const count0 = word(p + 4);
    const ops: QemuOpResult[] = [];
    const src = traces?.[t];
    if (src && src.ops.length !== nops) throw new XcheckError(`trace ${t}: result has ${nops} ops, the trace ${src.ops.length}`);
    p += TRACE_HEADER_WORDS;
    for (let k = 0; k < nops; k++, p += OP_RESULT_WORDS) {
      const kind: Op['op'] = src?.ops[k]?.op ?? 'mrs';
      const f = word(p + 2);
      const info = Number(word(p + 3));
      const elBefore = (info & 15) === 1 ? 1 : 2;
      const elAfter = ((info >> 4) & 15) === 1 ? 1 : 2;
      if (info & 0x200) throw new XcheckError(`trace ${t} op ${k}: the guest could not execute this op's encoding`);
      const lines: LineSample[] = SAMPLED_TIMERS.map((timer, i) => ({ timer, ctl: word(p + 4 + 2 * i), count: word(p + 5 + 2 * i) }));
      const gicWord = word(p + 12);
      const r: {
        -readonly [K in keyof QemuOpResult]: QemuOpResult[K];
      } = { op: kind, countAtAccess: word(p), elBefore, elAfter, lines };
      if (kind === 'tick' || kind === 'preempt') {
        r.countAfter = word(p + 1);
        if (info & 0x1000) r.waited = true;
      }
      if (kind === 'wfi') {
        if (info & 0x200) throw new XcheckError(`trace ${t} op ${k}: wfi needs the EL3 shim (secure=on)`);
        r.countAfter = word(p + 1);
        const e = word(p + 1) - word(p) - header.warpC0;
        r.elapsed = e < 0n ? 0n : e;
        r.wake = ((info >> 10) & 3) === 1 ? 'line' : 'limit';
      }
      if (kind === 'wfit') {
        if (info & 0x200) throw new XcheckError(`trace ${t} op ${k}: wfit needs the EL3 shim (secure=on)`);
        // The guest reports the wake count itself (its read-back latency removed).
        r.countAfter = word(p + 1);
        const e = word(p + 1) - word(p);
        r.elapsed = e < 0n ? 0n : e;
        const why = (info >> 10) & 3;
        r.wake = why === 1 ? 'line' : why === 2 ? 'deadline' : 'limit';
      }
      if (f !== 0n) {
        const faultEl = Number(f >> 60n) as 1 | 2 | 3;
        const esr = f & ESR_MASK;
        r.faultEl = faultEl;
        r.esr = esr;
        r.fault = faultKindOf(faultEl, esr, elBefore);
      } else if (kind === 'mrs') r.value = word(p + 1);
      if (info & 0x100) r.invalid = true;
      if (gicWord !== (1n << 64n) - 1n) {
        let mask = 0;
        TIMER_PPIS.forEach((ppi, i) => { if ((gicWord >> BigInt(ppi)) & 1n) mask |= 1 << i; });
        r.gic = { mask, count: word(p + 13) };
      }
      ops.push(r);
    }
    out.push({ count0, ops, ...(initFault ? { initFault } : {}), ...((status & 2n) !== 0n ? { startMissed: true } : {}) });
  }
  if (p * 8 !== bytes.byteLength) throw new XcheckError(`result file has ${bytes.byteLength - p * 8} bytes after the last trace`);
  return { header, traces: out };
}

// ---- routing probe ----

export interface ProbeCellInput {
  /** A name of src/xcheck/registers.ts. */
  readonly reg: string;
  readonly write: boolean;
  /** HCR_EL2.NV1 (1: non-VHE guest hypervisor). */
  readonly nv1: 0 | 1;
  /** The hardware CNTHCTL_EL2, in the E2H=1 layout (converted for an E2H=0 host). */
  readonly cnthctl: bigint;
  /** SCR_EL3.ECVEn: the physical CNTPOFF_EL2 usable. */
  readonly ecvEn: boolean;
  /** The host runs with HCR_EL2.E2H = 1 (default true, as routing.ts assumes). */
  readonly hostE2h?: boolean;
  /** HCR_EL2.NV2 (default true); false probes NV alone. */
  readonly nv2?: boolean;
  /** MSR value; default a distinct value per cell (0xa5a5_<cell>_0001). */
  readonly value?: bigint;
}

/**
 * CNTHCTL_EL2 E2H=1 layout → E2H=0 layout: EL1PCTEN [10]→[0], EL1PTEN [11]→EL1PCEN [1],
 * EVNTI/EVNTDIR/EVNTEN [7:2] and [19:12] kept; EL0PCTEN/EL0VCTEN [1:0] and EL0VTEN/EL0PTEN [9:8] dropped.
 */
export function cnthctlForE2h0(e2h1: bigint): bigint {
  const b10 = (e2h1 >> 10n) & 1n, b11 = (e2h1 >> 11n) & 1n;
  return (e2h1 & 0xfcn) | b10 | (b11 << 1n) | (e2h1 & 0xff000n);
}

export function encodeProbe(cells: readonly ProbeCellInput[], options: { readonly resultPath: string }): Uint8Array {
  const w = new Words();
  header(w, MODE_PROBE, cells.length, options.resultPath);
  cells.forEach((c, i) => {
    const e = encOf(c.reg, `cells[${i}]`, true);
    const hostE2h = c.hostE2h ?? true;
    const flags = (c.nv1 ? 1n : 0n) | (hostE2h ? 2n : 0n) | (c.ecvEn ? 4n : 0n) | (c.nv2 === false ? 8n : 0n);
    w.push(e | (c.write ? 1n << 16n : 0n), flags, hostE2h ? c.cnthctl : cnthctlForE2h0(c.cnthctl), c.value ?? 0n, 0n, 0n, 0n, 0n);
  });
  return finish(w);
}

export type ProbeOutcome =
  | { readonly kind: 'vncr'; readonly offset: number }
  | { readonly kind: 'trap'; readonly esr: bigint; readonly ec: number; readonly el: number }
  | { readonly kind: 'undefined'; readonly esr: bigint; readonly el: number }
  | { readonly kind: 'hw'; readonly value?: bigint };

export interface RawProbeResult {
  readonly outcome: ProbeOutcome;
  /** The fault word's parts, if the access took an exception. */
  readonly faultEl?: number;
  readonly esr?: bigint;
  /** MRS: x0 after the access; MSR: the value written. */
  readonly value: bigint;
  /** The first page slot that changed, its new value, and how many changed. */
  readonly changed?: { readonly offset: number; readonly value: bigint; readonly n: number };
  readonly count: bigint;
}

export function decodeProbe(bytes: Uint8Array, cells?: readonly ProbeCellInput[]): { header: ResultHeader; cells: RawProbeResult[] } {
  const word = reader(bytes);
  const header = decodeHeader(word, bytes, MODE_PROBE);
  if (cells && cells.length !== header.items) throw new XcheckError(`probe result has ${header.items} cells, expected ${cells.length}`);
  const out: RawProbeResult[] = [];
  for (let i = 0; i < header.items; i++) {
    const p = RESULT_HEADER_WORDS + i * PROBE_RESULT_WORDS;
    const f = word(p);
    if (f === (1n << 64n) - 1n) throw new XcheckError(`cell ${i}: the guest could not execute its encoding`);
    const value = word(p + 1);
    const changedOff = word(p + 2);
    const nChanged = Number(word(p + 4));
    const sentinel = word(p + 5);
    const changed = changedOff !== (1n << 64n) - 1n ? { offset: Number(changedOff), value: word(p + 3), n: nChanged } : undefined;
    const faultEl = f !== 0n ? Number(f >> 60n) : undefined;
    const esr = f !== 0n ? f & ESR_MASK : undefined;
    let outcome: ProbeOutcome;
    if (faultEl !== undefined && esr !== undefined) {
      const ec = esrClass(esr);
      outcome = ec === 0 ? { kind: 'undefined', esr, el: faultEl } : { kind: 'trap', esr, ec, el: faultEl };
    } else if (changed) outcome = { kind: 'vncr', offset: changed.offset };
    else if (sentinel !== (1n << 64n) - 1n) outcome = { kind: 'vncr', offset: Number(sentinel) };
    else outcome = cells?.[i]?.write ? { kind: 'hw' } : { kind: 'hw', value };
    const r: RawProbeResult = { outcome, value, count: word(p + 6), ...(faultEl !== undefined ? { faultEl, esr } : {}), ...(changed ? { changed } : {}) };
    out.push(r);
  }
  return { header, cells: out };
}
