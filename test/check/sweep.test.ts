/**
 * Opt-in seed sweep: every mutant must be refuted under every configuration it names, for each
 * of N seeds, at the default number of runs. Slow (minutes), so off by default:
 *   NVCONFORM_SWEEP=20 npx vitest run test/check/sweep.test.ts
 * It prints one line per mutant and configuration: seeds caught and the longest counterexample.
 */
import { describe, expect, it } from 'vitest';
import { MUTANT_REGISTRY, MUTANTS } from './mutants.js';
import { check, DEFAULT_CHECK_OPTIONS } from '../../src/check/check.js';

const seeds = Number(process.env.NVCONFORM_SWEEP ?? 0);

describe.skipIf(!seeds)(`mutant seed sweep over ${seeds} seeds`, () => {
  for (const m of MUTANTS) {
    for (const c of m.caughtBy) {
      it(`${m.name} is refuted by ${c.property} in every seed`, async () => {
        let caught = 0;
        let longest = 0;
        for (let seed = 1; seed <= seeds; seed++) {
          const r = await check({
            ...DEFAULT_CHECK_OPTIONS, impl: `mutant-${m.name}`, registry: MUTANT_REGISTRY, seed, properties: [c.property], layout: c.layout,
            hostEcvTraps: c.hostEcvTraps, ...(c.guest ? { guest: c.guest } : {}), ...(c.ecv !== undefined ? { ecv: c.ecv } : {}),
          });
          const p = r.results[0]!;
          if (p.verdict === 'fail') {
            caught++;
            longest = Math.max(longest, p.counterexample?.ops.length ?? 0);
          }
        }
        console.log(`${m.name.padEnd(26)} ${c.property.padEnd(14)} ${caught}/${seeds} seeds, longest counterexample ${longest} ops`);
        expect(caught).toBe(seeds);
      }, 600_000);
    }
  }
});
