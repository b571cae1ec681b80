// Judge a layout with the library, print its counterexample, replay it by its token.
import { check, replay } from 'nvconform';

// The host on a physical CPU without FEAT_ECV (on one with it, the first thing found is that
// CNTPOFF_EL2 is served from the page to a virtual CPU that has no such register).
const host = { cpu: ['vhe', 'wfxt', 'nv2p1'] };
const report = await check({ layout: 'tval-in-vncr', guest: 'vhe', property: 'deferred', host });
const [deferred] = report.results;
console.log(`${deferred.property}: ${deferred.verdict} (${deferred.scope})`);
for (const step of deferred.counterexample.steps) {
  console.log(`  #${step.index} ${step.text}: expected ${JSON.stringify(step.expected)}, observed ${JSON.stringify(step.observed)}`);
  console.log(`     ${step.hardware.join('; ')}`);
}
console.log(`why: ${deferred.explanation}`);

const again = await replay({ trace: deferred.token });
console.log(`replayed: ${again.verdict} at op #${again.results[0].counterexample.divergentOp}`);
