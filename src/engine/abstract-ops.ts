/**
 * Abstract ops: what the generator makes and the runner executes. A value may be relative to the
 * current count ("CVAL = now - offset + 2"); it is resolved against the reference as the trace
 * runs, so every generated trace is valid at each step (eret only at vEL2, exit only at vEL1:
 * others are dropped) and shrinking can remove any op without making the trace invalid.
 */
import { MASK64, u64 } from '../../models/arch/bits.js';
import { CTL_ENABLE } from '../../models/arch/registers.js';
import { countsUntilConditionChanges } from '../../models/arch/timer-math.js';
import { NTIMERS } from '../../models/arch/timers.js';
import { unreachable } from '../../models/arch/errors.js';
import type { RegisterTable } from '../../models/arch/registers.js';
import type { Op } from '../../models/arch/vocabulary.js';
import type { ReferenceModel } from '../../models/reference/reference.js';

export type ValueSpec =
  | { readonly k: 'abs'; readonly v: bigint }
  /** Relative to the count the accessed timer compares against (count - its offset); for offsets, to the count. */
  | { readonly k: 'now'; readonly d: bigint }
  /** A value that depends on the guest mode (a CNTHCTL_EL2 pattern in the layout of its E2H). */
  | { readonly k: 'guest'; readonly vhe: bigint; readonly nvhe: bigint };

export type GenOp =
  /** `alias`: at vEL1, use the nested guest's own name for the same timer view (CNTV_CTL_EL02 -> CNTV_CTL_EL0). */
  | { readonly k: 'msr'; readonly reg: string; readonly val: ValueSpec; readonly alias?: boolean }
  | { readonly k: 'mrs'; readonly reg: string; readonly alias?: boolean }
  | { readonly k: 'tick'; readonly by: bigint }
  /** Let time pass until `rel` counts from the next change of any enabled timer's condition (0: exactly there). */
  | { readonly k: 'tickTo'; readonly rel: bigint }
  | { readonly k: 'preempt'; readonly by: bigint }
  | { readonly k: 'wfi'; readonly limit: bigint }
  /** WFIT: the deadline relative to the virtual count as CNTVCT_EL0 reads at the current EL (`now`), or absolute. */
  | { readonly k: 'wfit'; readonly deadline: ValueSpec }
  | { readonly k: 'eret' }
  | { readonly k: 'exit' };

/** The concrete op for an abstract one at the reference's current state, or undefined if it is not valid here. */
export function resolveOp(g: GenOp, ref: ReferenceModel): Op | undefined {
  switch (g.k) {
    // No nested guest runs while the guest hypervisor is its own host (HCR_EL2.TGE=1).
    case 'eret': return ref.el === 2 && !ref.tge() ? { op: 'eret' } : undefined;
    case 'exit': return ref.el === 1 ? { op: 'exit' } : undefined;
    case 'tick': return { op: 'tick', by: g.by };
    case 'tickTo': {
      const d = nextChange(ref);
      if (d === undefined) return undefined;
      const by = d + g.rel;
      return by < 0n || by > MASK64 ? undefined : { op: 'tick', by };
    }
    case 'preempt': return { op: 'preempt', by: g.by };
    case 'wfi': return { op: 'wfi', limit: g.limit };
    case 'wfit': return { op: 'wfit', deadline: resolveValue('CNTVCT_EL0', g.deadline, ref) };
    case 'mrs': return { op: 'mrs', reg: nameAt(g, ref) };
    case 'msr': {
      const reg = nameAt(g, ref);
      return { op: 'msr', reg, value: resolveValue(reg, g.val, ref) };
    }
    default:
      return unreachable(g, 'abstract op');
  }
}

/**
 * The nested guest's name for a register that is UNDEFINED at EL1: the row serving the same VNCR
 * slot key under NV1=1 (the _EL0 name of an _EL02 alias). Derived from the register table.
 */
function el1Aliases(table: RegisterTable): ReadonlyMap<string, string> {
  return new Map(table.rows.filter((r) => r.vel1.kind === 'undefined' && r.slot).flatMap((r) => {
    const a = table.rows.find((x) => x !== r && x.slot?.key === r.slot!.key && x.vel1.kind !== 'undefined');
    return a ? [[r.name, a.name] as const] : [];
  }));
}
const ALIASES = new WeakMap<RegisterTable, ReadonlyMap<string, string>>();
export function el1Alias(table: RegisterTable, name: string): string | undefined {
  let m = ALIASES.get(table);
  if (!m) ALIASES.set(table, (m = el1Aliases(table)));
  return m.get(name);
}

function nameAt(g: { readonly reg: string; readonly alias?: boolean }, ref: ReferenceModel): string {
  return g.alias && ref.el === 1 ? (el1Alias(ref.table, g.reg) ?? g.reg) : g.reg;
}

/** Counts until the next change of any enabled timer's condition, or undefined when no timer is enabled. */
function nextChange(ref: ReferenceModel): bigint | undefined {
  let best: bigint | undefined;
  for (let i = 0; i < NTIMERS; i++) {
    if ((ref.state.ctl[i]! & CTL_ENABLE) === 0n) continue;
    const d = countsUntilConditionChanges(ref.count, ref.timerOffset(i), ref.state.cval[i]!);
    if (best === undefined || d < best) best = d;
  }
  return best;
}

function resolveValue(reg: string, s: ValueSpec, ref: ReferenceModel): bigint {
  if (s.k === 'abs') return s.v;
  if (s.k === 'guest') return ref.config.guest === 'vhe' ? s.vhe : s.nvhe;
  const row = ref.table.byName.get(reg)!;
  const m = ref.el === 2 ? row.vel2[ref.config.guest] : row.vel1;
  const base = m.kind === 'timer' ? u64(ref.count - ref.timerOffset(m.ti)) : m.kind === 'counter' ? u64(ref.count - ref.offsetFor(m.offset)) : ref.count;
  return u64(base + s.d);
}

/** Concrete ops as abstract ones (absolute values), to run a fixed trace through the same runner. */
export function asGenOps(ops: readonly Op[]): GenOp[] {
  return ops.map((op): GenOp => {
    switch (op.op) {
      case 'msr': return { k: 'msr', reg: op.reg, val: { k: 'abs', v: op.value } };
      case 'mrs': return { k: 'mrs', reg: op.reg };
      case 'tick': return { k: 'tick', by: op.by };
      case 'preempt': return { k: 'preempt', by: op.by };
      case 'wfi': return { k: 'wfi', limit: op.limit };
      case 'wfit': return { k: 'wfit', deadline: { k: 'abs', v: op.deadline } };
      case 'eret': return { k: 'eret' };
      case 'exit': return { k: 'exit' };
      default:
        return unreachable(op, 'op');
    }
  });
}
