/**
 * The machine as data: a new counter alias or storage register is one row (plus its generator
 * value class). The test builds a register table from the machine's rows and two added here, and
 * runs both models on it with no other change.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  REGISTER_ROWS, STORAGE_ROWS, buildRegisterTable, type RegisterRowSpec, type StorageRow,
} from '../../models/arch/registers.js';
import { loadLayout } from '../../models/layouts/load.js';
import { Nv2Model } from '../../models/nv2/model.js';
import { ReferenceModel } from '../../models/reference/reference.js';
import { valueArbFor } from '../../src/check/generate.js';
import { agrees } from '../support/oracle.js';
import { cfg, eret, mrs, msr, tick } from '../support/ops.js';

/** A counter alias: the physical count as the nested guest sees it (as TESTCNTPCT_EL0 does), at a made-up encoding. */
const counterAlias: RegisterRowSpec = {
  name: 'TESTCNTPCT_EL0', enc: [3, 3, 14, 15, 7], class: 'counter', values: 'counter', access: 'ro',
  vel2: { vhe: { kind: 'counter', offset: 'none' }, nvhe: { kind: 'counter', offset: 'none' } },
  vel1: { kind: 'counter', offset: 'cntpoff' }, el1Traps: [{ field: 'EL1PCTEN', trapsWhen: 0 }],
};
/** A storage register: 32 bits of state at vEL2 (a stand-in for any EL2 control register). */
const scratch: StorageRow = { id: 'TESTSCRATCH_EL2', class: 'control', writable: [{ bits: 0xffff_ffffn }] };
const scratchRow: RegisterRowSpec = {
  name: 'TESTSCRATCH_EL2', enc: [3, 4, 15, 0, 0], class: 'control', values: 'offset', access: 'rw',
  vel2: { vhe: { kind: 'storage', reg: scratch.id }, nvhe: { kind: 'storage', reg: scratch.id } },
  vel1: { kind: 'undefined' }, el1Traps: [],
};

const table = buildRegisterTable([...REGISTER_ROWS, counterAlias, scratchRow], [...STORAGE_ROWS, scratch]);

describe('a register table built from rows', () => {
  it('knows the added rows by name, with their storage index resolved', () => {
    expect(table.byName.get('TESTCNTPCT_EL0')?.vel1).toEqual({ kind: 'counter', offset: 'cntpoff' });
    expect(table.byName.get('TESTSCRATCH_EL2')?.vel2.vhe).toEqual({ kind: 'storage', reg: 'TESTSCRATCH_EL2', si: STORAGE_ROWS.length });
    expect(table.storage).toHaveLength(STORAGE_ROWS.length + 1);
  });

  it('rejects a meaning that names a storage register without a row, and duplicate names', () => {
    expect(() => buildRegisterTable([...REGISTER_ROWS, scratchRow], STORAGE_ROWS)).toThrow(/no storage row/);
    expect(() => buildRegisterTable([...REGISTER_ROWS, counterAlias, counterAlias], STORAGE_ROWS)).toThrow(/duplicate/);
  });

  it('the reference executes the added rows: the counter alias reads the count, the storage register keeps its writable bits', () => {
    const ref = new ReferenceModel(cfg({ count: 0x1234n }), { table });
    expect(ref.step(mrs('TESTCNTPCT_EL0'))).toEqual({ irq: 0, value: 0x1234n });
    expect(ref.step(msr('TESTCNTPCT_EL0', 1n))).toEqual({ irq: 0, fault: 'undefined' });
    ref.step(msr('TESTSCRATCH_EL2', 0xdead_beef_cafe_f00dn));
    // RES0 bits read back as written, but as UNKNOWN: only the writable ones are defined.
    expect(ref.step(mrs('TESTSCRATCH_EL2'))).toEqual({ irq: 0, value: 0xdead_beef_cafe_f00dn, unknown: 0xdead_beef_0000_0000n });
    ref.step(eret);
    expect(ref.step(mrs('TESTSCRATCH_EL2'))).toEqual({ irq: 0, fault: 'undefined' });
  });

  it('the NV2 model routes and executes them from the rows alone, and agrees with the reference', () => {
    for (const guest of ['vhe', 'nvhe'] as const) {
      const config = cfg({ guest, count: 0x100n });
      const ops = [mrs('TESTCNTPCT_EL0'), msr('TESTSCRATCH_EL2', 0x55n), tick(3n), mrs('TESTSCRATCH_EL2'), eret, mrs('TESTCNTPCT_EL0'), mrs('TESTSCRATCH_EL2')];
      const ref = new ReferenceModel(config, { table });
      const nv2 = new Nv2Model({ layout: loadLayout('architected'), table });
      nv2.reset(config);
      for (const op of ops) {
        const exp = ref.step(op);
        const obs = nv2.step(op);
        expect(agrees(exp, obs), `${guest} ${JSON.stringify(op, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v))}`).toBe(true);
      }
    }
  });

  it('the generator draws values for a row by its value class', () => {
    const samples = fc.sample(valueArbFor(scratchRow), { seed: 1, numRuns: 50 });
    expect(samples.length).toBe(50);
    expect(samples.every((v) => v.k === 'abs' || v.k === 'now')).toBe(true);
  });
});
