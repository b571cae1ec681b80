/**
 * FEAT_NV/FEAT_NV2 routing of one system-register access from real EL1, as the hardware decides
 * it (facts §3), from the register table and a VNCR layout. Pure: no state but its arguments.
 *
 * Precedence, as in the Arm ARM access pseudocode:
 *  1. a register the CPU does not implement, or an MSR to a read-only one: UNDEFINED;
 *  2. the CNTHCTL_EL2 trap bits for EL1 accesses (EL1PTEN, EL1PCTEN, EL1TVT, EL1TVCT, and
 *     EL1NVPCT/EL1NVVCT while NVx = 101): trap to EL2;
 *  3. with NV2, a name the layout gives a slot (under the row's NV1 condition): NVMem[offset];
 *  4. with NV, a name that is UNDEFINED at EL1 (EL2 registers, _EL02 aliases): trap to EL2;
 *  5. otherwise the hardware register the name designates at EL1.
 */
import { cnthctlField, fieldLabel } from '../arch/cnthctl.js';
import type { HostFeature } from '../arch/implementation.js';
import type { Layout } from '../arch/layout.js';
import { trapFires, type DefinedMeaning, type RegisterRow } from '../arch/registers.js';
import type { Feature } from '../arch/vocabulary.js';

export type Route =
  | { readonly kind: 'undefined' }
  | { readonly kind: 'trap'; readonly why: string }
  /** `slot`: the slot's index in the layout's slots sorted by offset (see layoutSlots). */
  | { readonly kind: 'vncr'; readonly offset: number; readonly key: string; readonly slot: number }
  | { readonly kind: 'hw'; readonly meaning: DefinedMeaning };

export interface RouteContext {
  /** HCR_EL2.NV */
  readonly nv: boolean;
  /** HCR_EL2.NV2 */
  readonly nv2: boolean;
  /** HCR_EL2.NV1 */
  readonly nv1: 0 | 1;
  /** The hardware CNTHCTL_EL2, in its E2H=1 layout (the host hypervisor runs with VHE). */
  readonly cnthctl: bigint;
  /** The physical CPU's features (the NV2 hardware checks its own, not the virtual CPU's). */
  readonly phys: readonly HostFeature[];
  /** The VNCR layout (only consulted with NV2). */
  readonly layout: Layout | undefined;
}

const SLOT_LISTS = new WeakMap<Layout, readonly (readonly [key: string, offset: number])[]>();

/** A layout's slots sorted by offset: the order of the model's page array and of publishing. */
export function layoutSlots(layout: Layout): readonly (readonly [key: string, offset: number])[] {
  let s = SLOT_LISTS.get(layout);
  if (!s) SLOT_LISTS.set(layout, (s = [...layout.slots].sort((a, b) => a[1] - b[1])));
  return s;
}

export function route(row: RegisterRow, write: boolean, ctx: RouteContext): Route {
  const has = (f: Feature): boolean => ctx.phys.includes(f);
  if (row.feature && !has(row.feature)) return { kind: 'undefined' };
  if (write && row.access === 'ro') return { kind: 'undefined' };
  const nv101 = ctx.nv && ctx.nv2 && ctx.nv1 === 0;
  for (const rule of row.el1Traps) {
    if (trapFires(rule, ctx.cnthctl, true, has, nv101)) return { kind: 'trap', why: `CNTHCTL_EL2.${fieldLabel(cnthctlField(rule.field))}` };
  }
  if (ctx.nv && ctx.nv2 && row.slot && ctx.layout) {
    const off = ctx.layout.slots.get(row.slot.key);
    if (off !== undefined && (row.slot.nv1 === 'any' || row.slot.nv1 === ctx.nv1)) {
      return { kind: 'vncr', offset: off, key: row.slot.key, slot: layoutSlots(ctx.layout).findIndex(([k]) => k === row.slot!.key) };
    }
  }
  if (row.vel1.kind === 'undefined') return ctx.nv ? { kind: 'trap', why: 'HCR_EL2.NV' } : { kind: 'undefined' };
  return { kind: 'hw', meaning: row.vel1 };
}

/**
 * route() for one context, memoised: each (row, direction) is routed once. Tables are shared
 * between equal contexts (see routeTable), so a caller can ask for one whenever its context
 * may have changed and only pays for routing the first time a context is seen.
 */
export class RouteTable {
  private readonly reads = new Map<RegisterRow, Route>();
  private readonly writes = new Map<RegisterRow, Route>();

  readonly ctx: RouteContext;

  constructor(ctx: RouteContext) {
    this.ctx = Object.freeze({ ...ctx });
  }

  /** route(row, write, this.ctx), computed once. Callers must not modify the result. */
  route(row: RegisterRow, write: boolean): Route {
    const memo = write ? this.writes : this.reads;
    let r = memo.get(row);
    if (r === undefined) {
      r = Object.freeze(route(row, write, this.ctx));
      memo.set(row, r);
    }
    return r;
  }
}

/** Tables by layout (a layout is immutable), then by the rest of the context. Bounded: cleared when large. */
const TABLES = new WeakMap<Layout, Map<string, RouteTable>>();
const TABLES_NO_LAYOUT = new Map<string, RouteTable>();
const MAX_TABLES_PER_LAYOUT = 256;

/** The memoised routing table of a context; equal contexts (field by field) share one table. */
export function routeTable(ctx: RouteContext): RouteTable {
  let byKey = ctx.layout ? TABLES.get(ctx.layout) : TABLES_NO_LAYOUT;
  if (!byKey) TABLES.set(ctx.layout!, (byKey = new Map<string, RouteTable>()));
  const key = `${ctx.nv ? 1 : 0}${ctx.nv2 ? 1 : 0}${ctx.nv1}${ctx.phys.join(',')} ${ctx.cnthctl.toString(16)}`;
  let t = byKey.get(key);
  if (!t) {
    if (byKey.size >= MAX_TABLES_PER_LAYOUT) byKey.clear();
    t = new RouteTable(ctx);
    byKey.set(key, t);
  }
  return t;
}
