/**
 * `cval-tval`: the CVAL/TVAL laws on the implementation by itself. CVAL and TVAL are two views
 * of one comparator, so the implementation's own answers must be consistent with each other:
 * - a CVAL read returns the last CVAL it was given (written as CVAL, or as TVAL: count - offset + SignExtend(TVAL));
 * - a TVAL read of an enabled timer returns the low 32 bits of that CVAL - (count - offset), so
 *   it moves down with the count.
 * The comparator is anchored by the implementation's own writes and reads; counts and offsets are
 * the trace's inputs. (UNKNOWN cases, such as TVAL with ENABLE=0, are not judged.)
 */
import { hex, low32, sext32, u64 } from '../models/arch/bits.js';
import { TIMERS } from '../models/arch/vocabulary.js';
import { opPhrase, servedPhrase } from './why.js';
import { wordsKey, type Judge, type OpContext, type Property } from './types.js';

interface Anchor {
  /** The comparator, fully known (64 bits), or only its low 32 bits (from a TVAL read). */
  readonly cval: bigint;
  readonly low32Only: boolean;
  readonly since: number;
  readonly how: string;
}

class CvalTvalJudge implements Judge {
  private anchor: (Anchor | undefined)[] = TIMERS.map(() => undefined);

  snapshot(): unknown {
    return this.anchor.slice();
  }

  restore(s: unknown): void {
    this.anchor = (s as (Anchor | undefined)[]).slice();
  }

  /** The anchored comparators (where they came from only shapes the explanation). */
  keyInto(buf: BigUint64Array, at: number): number {
    for (const a of this.anchor) {
      buf[at++] = a ? (a.low32Only ? 2n : 1n) : 0n;
      buf[at++] = a ? a.cval : 0n;
    }
    return at;
  }

  key(): string {
    return wordsKey(this);
  }

  step(c: OpContext) {
    const m = c.meaning;
    if (m?.kind !== 'timer' || m.view === 'ctl' || c.obs.fault || c.exp.fault) return undefined;
    if (c.op.op !== 'msr' && c.op.op !== 'mrs') return undefined;
    const i = m.ti;
    const off = c.ref.offsetFor(m.offset);
    const base = u64(c.ref.count - off);
    const a = this.anchor[i];
    const fail = (what: string) => ({
      index: c.index,
      explanation: `${opPhrase(c)}${servedPhrase(c) ? `, ${servedPhrase(c)},` : ''} returned ${what}, inconsistent with ${a!.how} at op #${a!.since}`,
    });
    if (c.op.op === 'msr') {
      const cval = m.view === 'cval' ? c.op.value : u64(base + sext32(c.op.value));
      this.anchor[i] = { cval, low32Only: false, since: c.index, how: `the ${m.view.toUpperCase()} write that set ${m.timer}'s CVAL to ${hex(cval)}` };
      return undefined;
    }
    const got = c.obs.value;
    if (got === undefined) return undefined;
    if (m.view === 'cval') {
      if (a && !a.low32Only && got !== a.cval) return fail(`CVAL ${hex(got)}`);
      if (a && a.low32Only && low32(got) !== a.cval) return fail(`CVAL ${hex(got)} (low 32 bits ${hex(low32(got))}, expected ${hex(a.cval)})`);
      this.anchor[i] = { cval: got, low32Only: false, since: c.index, how: `the CVAL read of ${hex(got)}` };
      return undefined;
    }
    // TVAL read: only judged when the architecture defines it (ENABLE=1).
    if (c.exp.unknown !== undefined) return undefined;
    if (a) {
      const want = low32(a.cval - base);
      if (got !== want) return fail(`TVAL ${hex(got)} where CVAL ${a.low32Only ? '(low 32 bits) ' : ''}${hex(a.cval)} and count-offset ${hex(base)} give ${hex(want)}`);
      return undefined;
    }
    this.anchor[i] = { cval: low32(got + base), low32Only: true, since: c.index, how: `the TVAL read of ${hex(got)}` };
    return undefined;
  }
}

export const cvalTval: Property = {
  name: 'cval-tval',
  summary: "CVAL and TVAL stay two views of one comparator in the implementation's own answers",
  judge: () => new CvalTvalJudge(),
};
