/**
 * The exhaustive phase, measured (part of `npm run bench`): per configuration, how deep the search
 * gets, how many distinct product states and traces it covers, and how long each depth takes.
 * A passing configuration is searched to the full depth; a failing one stops at its shortest
 * counterexample (the depth column then says where).
 */
import type { GuestMode } from '../models/arch/vocabulary.js';
import type { HostFeature } from '../models/arch/implementation.js';
import { loadLayout } from '../models/layouts/load.js';
import { Nv2Model } from '../models/nv2/model.js';
import { PROPERTIES } from '../properties/index.js';
import { exhaustive } from '../src/check/exhaustive.js';

interface Config {
  readonly label: string;
  readonly layout: string;
  readonly property: keyof typeof PROPERTIES;
  readonly guest: GuestMode;
  readonly hostCpu?: readonly HostFeature[];
  readonly nv2?: boolean;
}

/** A CPU without FEAT_ECV: the architected layout then meets the deferred contract (the default suite's entry #1). */
const NO_ECV: readonly HostFeature[] = ['vhe', 'wfxt', 'nv2p1'];

const CONFIGS: readonly Config[] = [
  { label: 'architected, deferred, VHE guest hyp, CPU without ECV', layout: 'architected', property: 'deferred', guest: 'vhe', hostCpu: NO_ECV },
  { label: 'architected, cval-tval, VHE guest hyp', layout: 'architected', property: 'cval-tval', guest: 'vhe' },
  { label: 'trap-all, architectural, non-VHE guest hyp', layout: 'trap-all', property: 'architectural', guest: 'nvhe' },
  { label: 'FEAT_NV only, architectural, VHE guest hyp', layout: 'trap-all', property: 'architectural', guest: 'vhe', nv2: false },
  { label: 'architected, deferred, non-VHE guest hyp (fails)', layout: 'architected', property: 'deferred', guest: 'nvhe', hostCpu: NO_ECV },
];

export interface ExhaustiveBenchOptions {
  /** The depths measured, each a separate search. Default [1, 2, 3]. */
  readonly depths?: readonly number[];
  /** Print one line per configuration and depth (default true); the rows are returned either way. */
  readonly print?: boolean;
}

export interface ExhaustiveBenchRow {
  readonly config: string;
  readonly depth: number;
  readonly completedDepth: number;
  readonly states: number;
  readonly traces: number;
  readonly transitions: number;
  readonly found: number | null;
  readonly ms: number;
}

export async function benchExhaustive(o: ExhaustiveBenchOptions = {}): Promise<ExhaustiveBenchRow[]> {
  const rows: ExhaustiveBenchRow[] = [];
  const print = o.print ?? true;
  if (print) console.log('\nexhaustive phase (one search per depth; "found" is the length of the shortest counterexample):');
  for (const c of CONFIGS) {
    for (const depth of o.depths ?? [1, 2, 3]) {
      const impl = new Nv2Model({ layout: loadLayout(c.layout), ...(c.hostCpu ? { hostCpu: c.hostCpu } : {}), ...(c.nv2 === false ? { nv2: false } : {}) });
      const r = await exhaustive(impl, PROPERTIES[c.property], { depth, guest: c.guest });
      const row = {
        config: c.label, depth, completedDepth: r.completedDepth, states: r.states, traces: r.traces, transitions: r.transitions,
        found: r.counterexample ? r.counterexample.ops.length : null, ms: Math.round(r.ms),
      };
      rows.push(row);
      if (print) {
        console.log(`  ${c.label.padEnd(56)} depth ${depth}: ${row.found === null ? `complete, ${String(row.traces).padStart(9)} traces` : `found at ${row.found} ops`.padEnd(25)}` +
          ` ${String(row.states).padStart(7)} states ${String(row.transitions).padStart(9)} transitions ${String(row.ms).padStart(7)} ms (${Math.round(row.transitions / Math.max(row.ms, 1))} k transitions/s)`);
      }
      if (row.found !== null) break;
    }
  }
  return rows;
}
