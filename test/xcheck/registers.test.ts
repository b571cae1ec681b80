import { describe, it, expect } from 'vitest';
import { REGISTERS } from '../../models/arch/registers.js';
import { TRACE_ENCODINGS, guestCanExecute } from '../../src/xcheck/index.js';

describe('the cross-check register table', () => {
  it('has exactly the register names of models/registers.ts, with the same encodings', () => {
    expect([...TRACE_ENCODINGS.keys()].sort()).toEqual(REGISTERS.map((r) => r.name).sort());
    for (const r of REGISTERS) expect(TRACE_ENCODINGS.get(r.name), r.name).toEqual(r.enc);
  });
  it('every name is executable by the guest (op0 3, CRn 14)', () => {
    for (const [name, e] of TRACE_ENCODINGS) expect(guestCanExecute(e), name).toBe(true);
  });
});
