/** 64-bit arithmetic on bigint, modulo 2^64. All values are kept in [0, 2^64). */

export const MASK64 = (1n << 64n) - 1n;
export const MASK32 = (1n << 32n) - 1n;

/** a mod 2^64 */
export const u64 = (a: bigint): bigint => BigInt.asUintN(64, a);

/** Sign-extend bits [31:0] of `v` to 64 bits (as an unsigned 64-bit value). */
export const sext32 = (v: bigint): bigint => BigInt.asUintN(64, BigInt.asIntN(32, v));

/** Bits [31:0] of `v`, zero-extended. */
export const low32 = (v: bigint): bigint => BigInt.asUintN(32, v);

export const bit = (v: bigint, n: number): boolean => ((v >> BigInt(n)) & 1n) === 1n;

/** Lower-case canonical hex form used on output: "0x" followed by 1-16 digits. */
export const hex = (v: bigint): string => '0x' + v.toString(16);

const HEX64 = /^0x[0-9a-fA-F]{1,16}$/;

/** Parse the trace format's 64-bit string, or return undefined if it is not one. */
export function parseHex64(s: unknown): bigint | undefined {
  if (typeof s !== 'string' || !HEX64.test(s)) return undefined;
  return BigInt(s);
}

/** Hex with UNKNOWN nibbles shown as `x` (a nibble partly unknown shows as `?`); all 64 bits unknown: `UNKNOWN`. */
export function maskedHex(value: bigint, unknown: bigint): string {
  if (unknown === MASK64) return 'UNKNOWN';
  let s = '';
  let v = value, u = unknown;
  do {
    const nib = Number(v & 15n), un = Number(u & 15n);
    s = (un === 15 ? 'x' : un !== 0 ? '?' : nib.toString(16)) + s;
    v >>= 4n;
    u >>= 4n;
  } while (v !== 0n || u !== 0n);
  return '0x' + s;
}
