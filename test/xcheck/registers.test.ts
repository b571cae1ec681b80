import { describe, it, expect } from 'vitest';
import { REGISTERS } from '../../models/arch/registers.js';
import { HCR_EL2_ENCODING, TRACE_ENCODINGS, guestCanExecute, probeCanExecute, unsupportedReason } from '../../src/xcheck/index.js';
import { defaultConfig } from '../../models/arch/vocabulary.js';

describe('the cross-check register table', () => {
  it('has exactly the register names of models/registers.ts, with the same encodings', () => {
    expect([...TRACE_ENCODINGS.keys()].sort()).toEqual(REGISTERS.map((r) => r.name).sort());
    for (const r of REGISTERS) expect(TRACE_ENCODINGS.get(r.name), r.name).toEqual(r.enc);
  });
  it('gives the vocabulary-2 names their Arm ARM encodings', () => {
    expect(TRACE_ENCODINGS.get('HCR_EL2')).toEqual([3, 4, 1, 1, 0]);
    expect(TRACE_ENCODINGS.get('CNTKCTL_EL12')).toEqual([3, 5, 14, 1, 0]);
    expect(TRACE_ENCODINGS.get('CNTPCTSS_EL0')).toEqual([3, 3, 14, 0, 5]);
    expect(TRACE_ENCODINGS.get('CNTVCTSS_EL0')).toEqual([3, 3, 14, 0, 6]);
  });
  it('every timer register (op0 3, CRn 14) runs in a trace; HCR_EL2 only in the routing probe', () => {
    for (const [name, e] of TRACE_ENCODINGS) {
      expect(probeCanExecute(e), name).toBe(true);
      expect(guestCanExecute(e), name).toBe(name !== 'HCR_EL2');
    }
    expect(HCR_EL2_ENCODING).toEqual(TRACE_ENCODINGS.get('HCR_EL2'));
  });
  it('a trace that touches HCR_EL2 is refused with the reason (the harness owns the real one)', () => {
    expect(unsupportedReason({ config: defaultConfig(), ops: [{ op: 'mrs', reg: 'HCR_EL2' }] })).toBe('ops[0]: the harness owns the real HCR_EL2 in a trace');
    expect(unsupportedReason({ config: defaultConfig({ init: { HCR_EL2: 1n << 27n } }), ops: [] })).toBe('config.init.HCR_EL2: the harness owns the real HCR_EL2 in a trace');
    expect(unsupportedReason({ config: defaultConfig(), ops: [{ op: 'mrs', reg: 'CNTKCTL_EL12' }] })).toBeUndefined();
  });
});
