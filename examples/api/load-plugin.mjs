// Module plug-ins (and exec: processes) from a program: the spec goes where an implementation
// goes, as on the command line. Each runs isolated, in a worker thread (or a child process) that
// nvconform starts for the call and stops before its promise settles.
import { check, run } from 'nvconform';

// A plug-in with a bug (a TVAL write that zero-extends): a fail, with its counterexample and token.
const [p] = (await check({ impl: 'examples/plugin/buggy-host.mjs', property: 'deferred', guest: 'vhe', runs: 50, timeoutMs: 2000 })).results;
console.log(`${p.verdict} at op #${p.counterexample.divergentOp}: ${p.explanation}`);
console.log(`replay: nvconform replay ${p.token} --impl examples/plugin/buggy-host.mjs`);

// One trace on a plug-in: its observations, op by op.
const r = await run({ trace: 'examples/vhe-cval-basic.json', model: 'examples/plugin/trap-all-host.mjs' });
console.log(`${r.model}: ${r.steps.map((s) => JSON.stringify(s.observed)).join(' ')}`);

// A path that is not a plug-in rejects with an InputError (a plug-in that throws is a counterexample).
await check({ impl: 'examples/plugin/tval-negative.json' }).catch((e) => console.log(`${e.name}: ${e.message}`));
