/** `--stats`: what the generated traces covered, so that weak generation is visible. */
import { irqList } from '../../models/arch/vocabulary.js';
import type { OpContext } from '../../properties/types.js';

export class Coverage {
  /** "REG vEL2 vhe" -> accesses */
  readonly access = new Map<string, number>();
  /** "vtimer at vEL1" -> rising edges of the architectural line */
  readonly fired = new Map<string, number>();
  readonly faults = new Map<string, number>();
  readonly ops = new Map<string, number>();
  private prevIrq = 0;

  record(c: OpContext): void {
    if (c.index === 0) this.prevIrq = 0;
    const bump = (m: Map<string, number>, k: string): void => {
      m.set(k, (m.get(k) ?? 0) + 1);
    };
    bump(this.ops, c.op.op);
    if (c.op.op === 'msr' || c.op.op === 'mrs') bump(this.access, `${c.op.reg}\tvEL${c.el}\t${c.ref.config.guest}`);
    if (c.exp.fault) bump(this.faults, `${c.exp.fault} at vEL${c.el}`);
    const rose = c.exp.irq & ~this.prevIrq;
    for (const t of irqList(rose)) bump(this.fired, `${t} at vEL${c.elAfter} after ${c.op.op}`);
    this.prevIrq = c.exp.irq;
  }

  toJSON(): Record<string, Record<string, number>> {
    return {
      ops: Object.fromEntries(this.ops),
      access: Object.fromEntries([...this.access].map(([k, v]) => [k.replace(/\t/g, ' '), v])),
      fired: Object.fromEntries(this.fired),
      faults: Object.fromEntries(this.faults),
    };
  }
}
