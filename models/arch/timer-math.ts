/**
 * The generic timer's arithmetic as small pure functions (facts §1.2-1.3). Shared by every model:
 * the reference uses them for the architecture, the NV2 model for the real hardware timers.
 */
import { CTL_ENABLE, CTL_IMASK } from './registers.js';
import { low32, sext32, u64 } from './bits.js';

// Constants hoisted out of the functions below: every bigint operation allocates.
const ENABLE_IMASK = CTL_ENABLE | CTL_IMASK;
const TWO64 = 1n << 64n;

/** TimerConditionMet: the unsigned 64-bit compare (count - offset) mod 2^64 >= CVAL. */
export const conditionMet = (count: bigint, offset: bigint, cval: bigint): boolean => u64(count - offset) >= cval;

/** The timer can assert its line at all: ENABLE && !IMASK (then its condition decides). */
export const canFire = (ctl: bigint): boolean => (ctl & ENABLE_IMASK) === CTL_ENABLE;

/** The interrupt output: ENABLE && ISTATUS && !IMASK. */
export const lineAsserted = (ctl: bigint, count: bigint, offset: bigint, cval: bigint): boolean =>
  canFire(ctl) && conditionMet(count, offset, cval);

/** TVAL read: ZeroExtend((CVAL - (count - offset))<31:0>). */
export const tvalRead = (count: bigint, offset: bigint, cval: bigint): bigint => low32(cval - (count - offset));

/** TVAL write: CVAL = (count - offset) + SignExtend(value<31:0>), mod 2^64. */
export const tvalWrite = (count: bigint, offset: bigint, value: bigint): bigint => u64(count - offset + sext32(value));

/**
 * Counts from `count` until the line of a timer that can fire asserts, or undefined if it never
 * will while only time passes (disabled or masked). 0 when it is asserted now.
 */
export function countsUntilAsserted(ctl: bigint, count: bigint, offset: bigint, cval: bigint): bigint | undefined {
  if (!canFire(ctl)) return undefined;
  const now = u64(count - offset);
  return now >= cval ? 0n : cval - now;
}

/**
 * Counts from `count` until the timer condition next changes: for a met condition, when
 * count - offset wraps to 0; for an unmet one, when it reaches CVAL. Always > 0.
 */
export function countsUntilConditionChanges(count: bigint, offset: bigint, cval: bigint): bigint {
  const now = u64(count - offset);
  return now >= cval ? TWO64 - now : cval - now;
}
