/**
 * `vncr-verbatim`: an access redirected to the VNCR page is a plain 64-bit load or store. It
 * changes its own slot (to exactly the value stored) and nothing else: no other slot, no
 * interrupt line, no host activity; a load returns exactly what the slot holds.
 */
import { hex } from '../models/arch/bits.js';
import { irqText } from './compare.js';
import { opPhrase } from './why.js';
import { wordsKey, type Judge, type OpContext, type Property, type Violation } from './types.js';

/** The previous line state before the first op (a real one is 0 to 15). */
const NO_IRQ = 0x10000;

class VerbatimJudge implements Judge {
  /** What the page holds, as far as the implementation has reported it. */
  private shadow = new Map<number, bigint>();
  private prevIrq: number | undefined;

  snapshot(): unknown {
    return { shadow: new Map(this.shadow), prevIrq: this.prevIrq };
  }

  restore(s: unknown): void {
    const x = s as { shadow: Map<number, bigint>; prevIrq: number | undefined };
    this.shadow = new Map(x.shadow);
    this.prevIrq = x.prevIrq;
  }

  /** The shadow page in offset order, then the previous line state (NO_IRQ before the first op). */
  keyInto(buf: BigUint64Array, at: number): number {
    buf[at++] = BigInt(this.prevIrq ?? NO_IRQ);
    buf[at++] = BigInt(this.shadow.size);
    for (const o of [...this.shadow.keys()].sort((a, b) => a - b)) {
      buf[at++] = BigInt(o);
      buf[at++] = this.shadow.get(o)!;
    }
    return at;
  }

  key(): string {
    return wordsKey(this);
  }

  step(c: OpContext): Violation | undefined {
    const v = this.check(c);
    for (const ch of c.detail?.vncr ?? []) this.shadow.set(ch.offset, ch.after);
    this.prevIrq = c.obs.irq;
    return v;
  }

  private check(c: OpContext): Violation | undefined {
    const d = c.detail;
    const acc = d?.actions.find((a) => a.kind === 'vncr');
    if (!d || !acc || acc.kind !== 'vncr') return undefined;
    const slot = hex(BigInt(acc.offset));
    const fail = (what: string): Violation => ({ index: c.index, explanation: `${opPhrase(c)}, a VNCR access to slot ${slot}, ${what}` });
    const others = d.actions.filter((a) => a !== acc);
    if (others.length) return fail(`also caused ${others.map((a) => a.kind).join(', ')} activity`);
    const foreign = d.vncr.filter((ch) => ch.offset !== acc.offset);
    if (foreign.length) return fail(`changed another slot ${hex(BigInt(foreign[0]!.offset))} (${foreign[0]!.key})`);
    if (this.prevIrq !== undefined && c.obs.irq !== this.prevIrq) return fail(`changed the interrupt lines from ${irqText(this.prevIrq)} to ${irqText(c.obs.irq)}`);
    const own = d.vncr.find((ch) => ch.offset === acc.offset);
    if (c.op.op === 'msr') {
      if (own && own.after !== c.op.value) return fail(`stored ${hex(own.after)} instead of the value written verbatim`);
      const held = this.shadow.get(acc.offset);
      if (!own && held !== undefined && held !== c.op.value) return fail(`left the slot at ${hex(held)} instead of storing ${hex(c.op.value)}`);
    } else {
      if (own) return fail(`changed the slot on a load`);
      const held = this.shadow.get(acc.offset);
      if (held !== undefined && c.obs.value !== held) return fail(`returned ${hex(c.obs.value ?? 0n)} while the slot holds ${hex(held)}`);
    }
    return undefined;
  }
}

export const vncrVerbatim: Property = {
  name: 'vncr-verbatim',
  summary: 'a redirected access changes its slot, verbatim, and nothing else',
  inapplicable: (rc) => (rc.declaration.detail ? undefined : 'the implementation reports no hardware detail'),
  judge: () => new VerbatimJudge(),
};
