/**
 * The cross-check's own table of register encodings: every register name of the trace format
 * (docs/trace-format.md), plus a few names only the routing probe uses. The guest image executes
 * an access by encoding, so this table is the one place that turns a name into an instruction.
 * Kept independent of models/registers.ts on purpose (the cross-check is a second opinion);
 * test/xcheck/registers.test.ts checks that both tables agree.
 *
 * Encodings (op0, op1, CRn, CRm, op2): the Arm ARM's; the generic timer registers have op0 = 3,
 * CRn = 14; HCR_EL2 is (3, 4, 1, 1, 0).
 */
export type Encoding = readonly [op0: number, op1: number, crn: number, crm: number, op2: number];

const VIEW_OP2 = { TVAL: 0, CTL: 1, CVAL: 2 } as const;

function build(): Map<string, Encoding> {
  const m = new Map<string, Encoding>();
  for (const [v, op2] of Object.entries(VIEW_OP2)) {
    m.set(`CNTP_${v}_EL0`, [3, 3, 14, 2, op2]);
    m.set(`CNTV_${v}_EL0`, [3, 3, 14, 3, op2]);
    m.set(`CNTP_${v}_EL02`, [3, 5, 14, 2, op2]);
    m.set(`CNTV_${v}_EL02`, [3, 5, 14, 3, op2]);
    m.set(`CNTHP_${v}_EL2`, [3, 4, 14, 2, op2]);
    m.set(`CNTHV_${v}_EL2`, [3, 4, 14, 3, op2]);
  }
  m.set('CNTVOFF_EL2', [3, 4, 14, 0, 3]);
  m.set('CNTPOFF_EL2', [3, 4, 14, 0, 6]);
  m.set('CNTHCTL_EL2', [3, 4, 14, 1, 0]);
  m.set('CNTKCTL_EL1', [3, 0, 14, 1, 0]);
  m.set('CNTPCT_EL0', [3, 3, 14, 0, 1]);
  m.set('CNTVCT_EL0', [3, 3, 14, 0, 2]);
  // Vocabulary 2 (docs/trace-format.md).
  m.set('CNTKCTL_EL12', [3, 5, 14, 1, 0]);
  m.set('CNTPCTSS_EL0', [3, 3, 14, 0, 5]);
  m.set('CNTVCTSS_EL0', [3, 3, 14, 0, 6]);
  m.set('HCR_EL2', [3, 4, 1, 1, 0]);
  return m;
}

/** Names of the trace format, with their encodings. */
export const TRACE_ENCODINGS: ReadonlyMap<string, Encoding> = build();

/** Extra names the routing probe may use (not trace-format names). */
export const EXTRA_ENCODINGS: ReadonlyMap<string, Encoding> = new Map<string, Encoding>();

export function encodingOf(name: string): Encoding | undefined {
  return TRACE_ENCODINGS.get(name) ?? EXTRA_ENCODINGS.get(name);
}

/** The 16-bit system-register encoding op0<<14 | op1<<11 | CRn<<7 | CRm<<3 | op2. */
export function enc16(e: Encoding): number {
  const [op0, op1, crn, crm, op2] = e;
  return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

/** HCR_EL2's encoding: the one name outside the generic timer's op0 = 3, CRn = 14. */
export const HCR_EL2_ENCODING: Encoding = [3, 4, 1, 1, 0];

const isHcr = (e: Encoding): boolean => e.every((x, i) => x === HCR_EL2_ENCODING[i]);

/**
 * What the guest image runs in a trace: the stub table, op0 = 3, CRn = 14. Not HCR_EL2: in a
 * trace the harness owns the real HCR_EL2 at EL2 (E2H from the guest mode, the trace's vEL2 at
 * real EL2), so a guest hypervisor's write of its HCR_EL2 has no real instruction to become.
 */
export function guestCanExecute(e: Encoding): boolean {
  return e[0] === 3 && e[2] === 14 && e.every((x) => Number.isInteger(x) && x >= 0) && e[1] < 8 && e[3] < 16 && e[4] < 8;
}

/** What the routing probe runs at EL1 under NV/NV2: the stub table and HCR_EL2's own stubs. */
export function probeCanExecute(e: Encoding): boolean {
  return guestCanExecute(e) || isHcr(e);
}
