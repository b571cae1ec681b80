/** Comparing an observation with the architecture's expectation, and saying how they differ. */
import { hex, maskedHex } from '../models/arch/bits.js';
import { irqList, TIMERS, type Expectation, type Observation } from '../models/arch/vocabulary.js';

/** Does `obs` match `exp` (UNKNOWN bits of `value` excepted)? */
export function agrees(exp: Expectation, obs: Observation): boolean {
  if (exp.irq !== obs.irq || exp.fault !== obs.fault || exp.elapsed !== obs.elapsed) return false;
  if (exp.value === undefined || obs.value === undefined) return exp.value === obs.value;
  const keep = ~(exp.unknown ?? 0n);
  return (exp.value & keep) === (obs.value & keep);
}

export const irqText = (mask: number): string => `[${irqList(mask).join(',')}]`;

export function valueText(v: bigint | undefined, unknown?: bigint): string {
  if (v === undefined) return 'no value';
  return unknown ? maskedHex(v, unknown) : hex(v);
}

/** Which part differs first, as a short phrase: "value 0x10 where the architecture gives 0xb". */
export function difference(exp: Expectation, obs: Observation): string {
  if (exp.fault !== obs.fault) {
    return `${obs.fault ? `a fault (${obs.fault})` : 'no fault'} where the architecture gives ${exp.fault ? `a fault (${exp.fault})` : 'no fault'}`;
  }
  if (exp.value !== obs.value && (exp.value === undefined || obs.value === undefined ||
      ((exp.value ^ obs.value) & ~(exp.unknown ?? 0n)) !== 0n)) {
    return `value ${valueText(obs.value)} where the architecture gives ${valueText(exp.value, exp.unknown)}`;
  }
  if (exp.elapsed !== obs.elapsed) {
    return `a wake after ${valueText(obs.elapsed)} counts where the architecture gives ${valueText(exp.elapsed)}`;
  }
  const diff = exp.irq ^ obs.irq;
  const parts: string[] = [];
  for (let i = 0; i < TIMERS.length; i++) {
    if (diff & (1 << i)) parts.push(`the ${TIMERS[i]} line ${obs.irq & (1 << i) ? 'asserted' : 'low'} where the architecture has it ${exp.irq & (1 << i) ? 'asserted' : 'low'}`);
  }
  return parts.join(', and ');
}
