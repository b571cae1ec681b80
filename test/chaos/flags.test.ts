/**
 * Nothing on the command line is silently ignored: contradictory, repeated or inapplicable options
 * are usage errors (exit 2, one line naming the option); a token's implementation options apply
 * to `run TOKEN --model IMPL` unless overridden.
 */
import { describe, expect, it } from 'vitest';
import { encodeToken } from '../../src/trace/token.js';
import { defaultConfig } from '../../models/arch/vocabulary.js';
import { cli, oneLine } from './util.js';

const EX = 'examples/vhe-cval-basic.json';
const SUITE_WHY = 'does not apply with --suite: each suite entry names its own implementation, layout, host, guest, FEAT_ECV and property';
const REF_WHY = 'does not apply to the reference model (it is the architecture: no VNCR page, no host); name an implementation with --model';

describe.concurrent('usage errors: exit 2, one line, nothing run', () => {
  it.each([
    [['check', '--ecv', '--no-ecv'], 'check: --ecv and --no-ecv contradict each other; give one'],
    [['check', '--no-ecv', '--ecv'], 'check: --ecv and --no-ecv contradict each other; give one'],
    [['check', '--runs', '5', '--runs', '10'], 'check: --runs given twice (5, then 10); give it once'],
    [['check', '--impl', 'nv', '--impl', 'nv2'], 'check: --impl given twice (nv, then nv2); give it once'],
    [['check', '--suite', 'suites/default.json', '--impl', 'nv'], `check: --impl ${SUITE_WHY}`],
    [['check', '--suite', 'suites/default.json', '--layout', 'cval-only'], `check: --layout ${SUITE_WHY}`],
    [['check', '--suite', 'suites/default.json', '--property', 'deferred'], `check: --property ${SUITE_WHY}`],
    [['check', '--suite', 'suites/default.json', '--guest', 'vhe'], `check: --guest ${SUITE_WHY}`],
    [['check', '--suite', 'suites/default.json', '--no-ecv'], `check: --no-ecv ${SUITE_WHY}`],
    [['check', '--suite', 'suites/default.json', '--host-ecv-traps'], `check: --host-ecv-traps ${SUITE_WHY}`],
    [['check', '--suite', 'suites/default.json', '--host', 'kvm'], `check: --host ${SUITE_WHY}`],
    [['check', '--suite', 'suites/default.json', '--host-cpu', 'vhe'], `check: --host-cpu ${SUITE_WHY}`],
    [['check', '--timeout', '100'], 'check: --timeout does not apply to the default suite (run when no implementation option is given): it applies to external implementations (--impl MODULE or exec:COMMAND)'],
    [['check', '--impl', 'nv2', '--timeout', '100'], "check: --timeout does not apply to the built-in 'nv2' (it applies to external implementations: a module or exec:COMMAND)"],
    [['run', EX, '--layout', 'cval-only'], `run: --layout ${REF_WHY}`],
    [['run', EX, '--host-ecv-traps'], `run: --host-ecv-traps ${REF_WHY}`],
    [['run', EX, '--no-host-ecv-traps'], `run: --no-host-ecv-traps ${REF_WHY}`],
    [['run', EX, '--timeout', '100'], `run: --timeout ${REF_WHY}`],
    [['run', EX, '--model', 'nv2', '--timeout', '100'], "run: --timeout does not apply to the built-in 'nv2' (it applies to external implementations: a module or exec:COMMAND)"],
    [['run', EX, '--json', '--verbose'], 'run: --verbose does not apply with --json (the trace document holds the observations only)'],
    [['run', EX, '--model', 'nv2', '--impl', 'nv'], 'run: --impl is an alias of --model; give one'],
    [['replay', EX, '--timeout', '100'], 'replay: --timeout does not apply to a built-in implementation (replay runs the built-ins unless you name one with --impl); it applies to external implementations (a module or exec:COMMAND)'],
    [['replay', EX, '--host-ecv-traps', '--no-host-ecv-traps'], 'replay: --host-ecv-traps and --no-host-ecv-traps contradict each other; give one'],
    [['layouts', '--seed', '1', '--seed', '2'], 'layouts: --seed given twice (1, then 2); give it once'],
    [['xcheck', 'qemu', '--runs', '2', '--runs', '3'], 'xcheck qemu: --runs given twice (2, then 3); give it once'],
  ])('%j', async (args, message) => {
    const r = await cli(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(oneLine(r.stderr)).toBe(`nvconform: ${message}`);
  });
});

describe('run TOKEN --model IMPL takes the token\'s layout and host options', () => {
  const token = encodeToken(
    { config: defaultConfig(), ops: [{ op: 'msr', reg: 'CNTV_TVAL_EL02', value: 2n }, { op: 'mrs', reg: 'CNTV_CVAL_EL02' }] },
    { impl: 'nv2', layout: 'tval-in-vncr', hostEcvTraps: true },
  );
  it('by default', async () => {
    const r = await cli(['run', token, '--model', 'nv2', '--verbose']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('model nv2  guest vhe  features []  count 0x0  layout tval-in-vncr  host-ecv-traps');
    expect(r.stdout).toContain('store VNCR[0x1f0] (CNTV_TVAL_EL0)');
  });
  it('unless overridden', async () => {
    const r = await cli(['run', token, '--model', 'nv2', '--layout', 'architected', '--no-host-ecv-traps']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('model nv2  guest vhe  features []  count 0x0  layout architected');
  });
  it('and the reference ignores nothing it was given', async () => {
    const r = await cli(['run', token]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('model reference  guest vhe  features []  count 0x0');
  });
});
