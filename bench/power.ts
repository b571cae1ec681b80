/**
 * `npm run bench:power`: the checker's power, measured. For every mutant of the catalogue
 * (test/check/mutants.ts) and every configuration that must refute it, over a set of seeds: does
 * the default `check` refute it, in which phase (exhaustive, at which depth; or random, after how
 * many traces), and with how long a counterexample. Printed, never asserted (the tests assert the
 * default seed; test/check/sweep.test.ts asserts a sweep on demand).
 *
 *   npm run bench:power -- [--seeds 1,2,7,42] [--json]
 */
import { DEFAULT_CHECK_OPTIONS, check, type CheckOptions } from '../src/check/check.js';
import { hostOf, MUTANTS, MUTANT_REGISTRY, type MutantConfig } from '../test/check/mutants.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const seeds = (arg('--seeds') ?? '1,2,7,42').split(',').map(Number);
const json = process.argv.includes('--json');

const optionsFor = (impl: string, c: MutantConfig, seed: number): CheckOptions => ({
  ...DEFAULT_CHECK_OPTIONS, impl, seed, properties: [c.property], layout: c.layout, hostEcvTraps: c.hostEcvTraps, registry: MUTANT_REGISTRY, ...hostOf(c),
  ...(c.guest ? { guest: c.guest } : {}), ...(c.ecv !== undefined ? { ecv: c.ecv } : {}),
});
const label = (c: MutantConfig): string =>
  `${c.property} ${c.layout}${c.hostEcvTraps ? '+ecv-traps' : ''}${c.hostCpu ? ` cpu=${c.hostCpu.join(',')}` : ''} ${c.guest ?? 'vhe+nvhe'}${c.ecv === undefined ? '' : c.ecv ? ' ecv' : ' no-ecv'}`;

interface Row { mutant: string; config: string; seed: number; refuted: boolean; phase: string; depth: number | null; traces: number; ops: number | null; ms: number }
const rows: Row[] = [];
const t0 = performance.now();
for (const m of MUTANTS) {
  for (const c of m.caughtBy) {
    for (const seed of seeds) {
      const t = performance.now();
      const r = (await check(optionsFor(`mutant-${m.name}`, c, seed))).results[0]!;
      rows.push({
        mutant: m.name, config: label(c), seed, refuted: r.verdict === 'fail', phase: r.phase ?? '-',
        depth: r.phase === 'exhaustive' ? (r.counterexample?.ops.length ?? null) : null,
        traces: r.phase === 'exhaustive' ? (r.exhaustive?.transitions ?? 0) : r.runs, ops: r.counterexample?.ops.length ?? null,
        ms: Math.round(performance.now() - t),
      });
    }
  }
}
if (json) {
  console.log(JSON.stringify({ seeds, rows, ms: Math.round(performance.now() - t0) }, null, 2));
} else {
  console.log(`nvconform power: ${MUTANTS.length} mutants, seeds ${seeds.join(', ')}, default check (depth ${DEFAULT_CHECK_OPTIONS.depth ?? 'default'}, ${DEFAULT_CHECK_OPTIONS.runs} random traces)\n`);
  const head = ['mutant', 'configuration', 'seed', 'refuted', 'phase', 'ce ops', 'needed', 'ms'];
  const cells = rows.map((r) => [r.mutant, r.config, String(r.seed), r.refuted ? 'yes' : 'NO', r.phase, r.ops === null ? '-' : String(r.ops),
    r.phase === 'exhaustive' ? `${r.traces} transitions` : r.refuted ? `${r.traces} traces` : '-', String(r.ms)]);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  for (const line of [head, w.map((n) => '-'.repeat(n)), ...cells]) console.log(line.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd());
  const missed = rows.filter((r) => !r.refuted);
  console.log(`\n${rows.length - missed.length} of ${rows.length} (mutant, configuration, seed) refuted; ${rows.filter((r) => r.phase === 'exhaustive').length} in the exhaustive phase; ${Math.round((performance.now() - t0) / 1000)} s`);
  for (const r of missed) console.log(`NOT REFUTED: ${r.mutant} under ${r.config}, seed ${r.seed}`);
}
