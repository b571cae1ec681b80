import { expect, test } from 'vitest';
import { models } from 'nvconform';
import { expectConformant } from 'nvconform/vitest';

// The built-in host on a physical CPU without FEAT_ECV: exact for a VHE guest hypervisor with the
// architected layout (see the default suite for what a CPU with ECV adds).
const host = { cpu: ['vhe', 'wfxt', 'nv2p1'] };

test('the built-in NV2 host meets the deferred contract with the architected layout (VHE guest hypervisor)', async () => {
  const report = await expectConformant('nv2', { property: 'deferred', layout: 'architected', guest: 'vhe', host });
  expect(report.results[0].scope).toMatch(/^no counterexample among every trace of/);
});

test('a TVAL slot in the VNCR page is refuted, with the counterexample and its replay token', async () => {
  await expect(expectConformant('nv2', { property: 'deferred', layout: 'tval-in-vncr', guest: 'vhe', host })).rejects.toThrow(/nvc1:/);
});

// Your own host: any object with the Implementation interface. This one wraps the built-in model
// and loses the sign of a TVAL read (bit 31), a plausible bug in an emulated TVAL.
function myHost({ bug }) {
  const hw = models.nv2({ layout: 'architected', host });
  return {
    name: bug ? 'my-host-tval-sign' : 'my-host',
    declaration: hw.declaration,
    reset: (config) => hw.reset(config),
    step(op) {
      const obs = hw.step(op);
      if (bug && op.op === 'mrs' && op.reg.includes('TVAL') && obs.value !== undefined) return { ...obs, value: obs.value & 0x7fffffffn };
      return obs;
    },
  };
}

test('my host conforms', async () => {
  await expectConformant(myHost({ bug: false }), { property: 'deferred', layout: 'architected', guest: 'vhe' });
});

test('my buggy host does not, and the message says where', async () => {
  await expect(expectConformant(myHost({ bug: true }), { property: 'deferred', guest: 'vhe' })).rejects.toThrow(/instance:my-host-tval-sign does not conform[\s\S]*TVAL[\s\S]*nvc1:/);
});
