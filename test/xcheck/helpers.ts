/** Test helpers: traces by hand, and result files built in TypeScript (as the guest writes them). */
import type { Expectation, Op, Trace, TraceConfig } from '../../models/arch/vocabulary.js';
import type { QemuOpResult, ResultHeader } from '../../src/xcheck/format.js';
import type { QemuTraceResult } from '../../src/xcheck/qemu.js';
import { QemuTimerModel, type QemuBehaviours } from '../../src/xcheck/qemu-model.js';

export const cfg = (over: Partial<TraceConfig> = {}): TraceConfig => ({ guest: 'vhe', features: [], count: 0n, init: {}, ...over });
export const trace = (ops: Op[], over: Partial<TraceConfig> = {}): Trace => ({ config: cfg(over), ops });
export const msr = (reg: string, value: bigint): Op => ({ op: 'msr', reg, value });
export const mrs = (reg: string): Op => ({ op: 'mrs', reg });
export const tick = (by: bigint): Op => ({ op: 'tick', by });
export const eret: Op = { op: 'eret' };
export const exit: Op = { op: 'exit' };

export function words(bytes: Uint8Array): bigint[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength / 8 }, (_, i) => dv.getBigUint64(i * 8, true));
}

export function bytesOf(ws: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(ws.length * 8);
  const dv = new DataView(out.buffer);
  ws.forEach((w, i) => dv.setBigUint64(i * 8, BigInt.asUintN(64, w), true));
  return out;
}

export interface FakeOp {
  count: bigint;
  value?: bigint;
  fault?: bigint;
  elBefore?: number;
  elAfter?: number;
  invalid?: boolean;
  lines?: [bigint, bigint][];
  /** OR_INFO bits beyond the vELs (wake reason << 10, waited-tick bit 12). */
  info?: bigint;
  /** GICD_ISPENDR0 as read (default: not read) and the count before it. */
  gic?: bigint;
  gicCount?: bigint;
}

/** A trace-mode result file: 24-word header, then per trace [nops, status, initFault, initIndex, count0, 0, 0, 0] and 14 words per op. */
export function fakeResult(traces: { count0: bigint; ops: FakeOp[]; initFault?: { index: number; word: bigint } }[], mode = 1n): Uint8Array {
  const ws: bigint[] = [0x544c534552584e56n, 1n, mode, BigInt(traces.length), 0n, 1n, 2n, 3n, 1000000000n, 0n, 0n, 1n, 100n, 200n, 1n, 40n, 1n, 1n, 4096n, 0n, 0n, 0n, 0n, 0n];
  for (const t of traces) {
    ws.push(BigInt(t.ops.length), t.initFault ? 1n : 0n, t.initFault?.word ?? 0n, t.initFault ? BigInt(t.initFault.index) : (1n << 64n) - 1n, t.count0, 0n, 0n, 0n);
    for (const o of t.ops) {
      const lines = o.lines ?? [0, 1, 2, 3].map((i): [bigint, bigint] => [0n, o.count + 10n + 3n * BigInt(i)]);
      const info = BigInt(o.elBefore ?? 2) | (BigInt(o.elAfter ?? o.elBefore ?? 2) << 4n) | (o.invalid ? 0x100n : 0n) | (o.info ?? 0n);
      ws.push(o.count, o.value ?? 0n, o.fault ?? 0n, info, ...lines.flat(), o.gic ?? (1n << 64n) - 1n, o.gicCount ?? 0n);
    }
  }
  ws[4] = BigInt(ws.length * 8);
  return bytesOf(ws);
}

// ---- a simulated QEMU run (no QEMU): the model of QEMU's timers with chosen behaviours, at a fixed op spacing ----


export const HEADER: ResultHeader = {
  mode: 1, items: 1, deltaEl2: 1n, deltaEl1: 2n, burn0: 3n, cntfrq: 1_000_000_000n, idAa64mmfr2: 0n, idAa64mmfr0: 0n, haveEl3: true,
  calibrationOk: true, count0: 0n, count1: 0n, warpKp: 40n, warpC0: 1n, warpCimm: 1n, burnMax: 4096n, wfitKEl2: 3n, wfitKEl1: 10n,
};

/**
 * What QEMU would report for `trace` if it were `behaviours`' model: op k's access at its count,
 * each timer's CTL sampled 23, 26, 29, 32 counts later (ENABLE|ISTATUS when its line is up), the
 * next op 132 counts after the access (or after a tick's or wfi's end). `tamper` edits one op's result.
 */
export function simulate(trace: Trace, behaviours: QemuBehaviours, start = 1n << 46n, tamper?: (i: number, r: QemuOpResult) => QemuOpResult): QemuTraceResult {
  const m = new QemuTimerModel({ ...trace.config, count: start }, behaviours);
  const ops: QemuOpResult[] = [];
  let c = start;
  trace.ops.forEach((op, i) => {
    m.setCount(c);
    const elBefore = m.ref.el;
    const e: Expectation = m.step(op);
    const at = c;
    let end = at;
    if (op.op === 'tick' || op.op === 'preempt') end = at + op.by;
    if ((op.op === 'wfi' || op.op === 'wfit') && e.elapsed !== undefined) end = at + e.elapsed;
    const lines = [23n, 26n, 29n, 32n].map((d, t) => {
      m.setCount(end + d);
      const up = (m.step({ op: 'tick', by: 0n }).irq >> t) & 1;
      return { timer: (['hptimer', 'hvtimer', 'ptimer', 'vtimer'] as const)[t]!, ctl: up ? 5n : 0n, count: end + d };
    });
    let r: QemuOpResult = {
      op: op.op, countAtAccess: at, elBefore, elAfter: m.ref.el, lines,
      ...(op.op === 'tick' || op.op === 'preempt' ? { countAfter: end } : {}),
      ...(op.op === 'wfi' ? { countAfter: end + 1n, elapsed: e.elapsed!, wake: e.elapsed === op.limit ? 'limit' as const : 'line' as const } : {}),
      // The guest reports a WFIT's wake count itself (format.ts).
      ...(op.op === 'wfit' && e.elapsed !== undefined ? { countAfter: end, elapsed: e.elapsed, wake: e.irq ? 'line' as const : 'deadline' as const } : {}),
      ...(e.fault ? { fault: e.fault, faultEl: 2 as const, esr: 0n } : e.value !== undefined ? { value: e.value } : {}),
    };
    if (tamper) r = tamper(i, r);
    ops.push(r);
    c = end + 132n;
  });
  return { startCount: ops[0]?.countAtAccess ?? start, count0: start - 100n, ops, header: HEADER };
}
