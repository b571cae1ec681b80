/**
 * The trace format's agreement rule (docs/trace-format.md): two observations agree when `irq`,
 * `fault` and `elapsed` are equal and `value` is equal outside the UNKNOWN bits. `run` and
 * `replay` use it to compare what was executed with a trace's own `observations`.
 */
import type { Expectation, Observation } from '../../models/arch/vocabulary.js';

const MASK64 = (1n << 64n) - 1n;

/**
 * Does `got` agree with `want` (a trace's observation)? Bits either side leaves UNKNOWN (an
 * expectation's `unknown`: the trace's, or the reference's when it is what ran) are not compared.
 */
export function agrees(want: Observation | Expectation, got: Observation | Expectation): boolean {
  if (want.irq !== got.irq || want.fault !== got.fault || want.elapsed !== got.elapsed) return false;
  if ((want.value === undefined) !== (got.value === undefined)) return false;
  if (want.value === undefined) return true;
  const unknown = ('unknown' in want ? (want.unknown ?? 0n) : 0n) | ('unknown' in got ? (got.unknown ?? 0n) : 0n);
  const known = ~unknown & MASK64;
  return (want.value & known) === (got.value! & known);
}
