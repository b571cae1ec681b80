/** `--stats`: what the generated traces covered, so that weak generation is visible. */
import { irqList, type GuestMode } from '../../models/arch/vocabulary.js';
import type { OpContext } from '../../properties/types.js';
import { cellOf, reachableCells } from './cells.js';

export type Phase = 'exhaustive' | 'random';
/** Which phase found a counterexample: `directed` for the random phase's directed traces; `pool` when `layouts --explore` found it for another layout; `replay` for a given trace run as it is. */
export type FoundBy = Phase | 'directed' | 'pool' | 'replay';

export class Coverage {
  /** The phase the next ops belong to. */
  phase: Phase = 'random';
  /** Per phase: coverage cell (cells.ts) -> accesses. */
  readonly cells: Record<Phase, Map<string, number>> = { exhaustive: new Map(), random: new Map() };
  /** The cells this check can reach (its guest and FEAT_ECV pins). */
  readonly reachable: Set<string>;

  /** `pins`: the check's guest and FEAT_ECV pins, whose reachable cells it counts; 'none': no cells yet (a sum of others). */
  constructor(pins: { readonly guest?: GuestMode; readonly ecv?: boolean } | 'none' = {}) {
    this.reachable = new Set(pins === 'none' ? [] : reachableCells(pins));
  }

  /** "REG vEL2 vhe" -> accesses */
  readonly access = new Map<string, number>();
  /** "vtimer at vEL1" -> rising edges of the architectural line */
  readonly fired = new Map<string, number>();
  readonly faults = new Map<string, number>();
  readonly ops = new Map<string, number>();
  private prevIrq = 0;

  record(c: OpContext): void {
    const bump = (m: Map<string, number>, k: string): void => {
      m.set(k, (m.get(k) ?? 0) + 1);
    };
    const cell = cellOf(c);
    if (cell !== undefined) bump(this.cells[this.phase], cell);
    // The rest describes the random phase's traces (the exhaustive phase's are every trace of the alphabet).
    if (this.phase !== 'random') return;
    if (c.index === 0) this.prevIrq = 0;
    bump(this.ops, c.op.op);
    if (c.op.op === 'msr' || c.op.op === 'mrs') bump(this.access, `${c.op.reg}\tvEL${c.el}\t${c.ref.config.guest}`);
    if (c.exp.fault) bump(this.faults, `${c.exp.fault} at vEL${c.el}`);
    const rose = c.exp.irq & ~this.prevIrq;
    for (const t of irqList(rose)) bump(this.fired, `${t} at vEL${c.elAfter} after ${c.op.op}`);
    this.prevIrq = c.exp.irq;
  }

  /** Reachable cells no phase hit. */
  missed(): string[] {
    return [...this.reachable].filter((k) => !this.cells.exhaustive.has(k) && !this.cells.random.has(k)).sort();
  }

  /** Take in another coverage's counts (a suite aggregates its entries'). */
  add(o: Coverage): void {
    for (const ph of ['exhaustive', 'random'] as const) for (const [k, v] of o.cells[ph]) this.cells[ph].set(k, (this.cells[ph].get(k) ?? 0) + v);
    for (const k of o.reachable) this.reachable.add(k);
    for (const [m, n] of [[this.access, o.access], [this.fired, o.fired], [this.faults, o.faults], [this.ops, o.ops]] as const) {
      for (const [k, v] of n) m.set(k, (m.get(k) ?? 0) + v);
    }
  }

  toJSON(): Record<string, unknown> {
    const hit = (ph: Phase) => [...this.cells[ph].keys()].filter((k) => this.reachable.has(k)).length;
    return {
      cells: {
        reachable: this.reachable.size, exhaustive: hit('exhaustive'), random: hit('random'),
        hit: this.reachable.size - this.missed().length, missed: this.missed(),
      },
      ops: Object.fromEntries(this.ops),
      access: Object.fromEntries([...this.access].map(([k, v]) => [k.replace(/\t/g, ' '), v])),
      fired: Object.fromEntries(this.fired),
      faults: Object.fromEntries(this.faults),
    };
  }
}
