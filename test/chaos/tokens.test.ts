/**
 * Tokens are data, never commands: a replay token that names an external implementation is
 * refused with the command that would run it, and nothing is started or imported; a token's
 * layout is a catalogue name or data, never a file.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeToken } from '../../src/trace/token.js';
import { defaultConfig } from '../../models/arch/vocabulary.js';
import { cli, oneLine, PLUGINS, tmp } from './util.js';

const dir = tmp();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TRACE = { config: defaultConfig(), ops: [{ op: 'tick' as const, by: 1n }, { op: 'mrs' as const, reg: 'CNTPCT_EL0' }] };
const token = (extra: object): string => encodeToken(TRACE, { layout: 'architected', hostEcvTraps: false, property: 'architectural', ...extra });

describe.concurrent('a hostile token starts nothing and imports nothing', () => {
  it('exec:touch FILE: exit 2, the command to run it, no file', async () => {
    const pwned = join(dir, 'pwned-exec');
    const r = await cli(['replay', token({ impl: `exec:touch ${pwned}` })]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(oneLine(r.stderr)).toBe(
      `nvconform: replay: this token was made with the implementation 'exec:touch ${pwned}'; to run it, name it yourself: nvconform replay TOKEN --impl 'exec:touch ${pwned}'`,
    );
    expect(existsSync(pwned)).toBe(false);
  });

  it('a module path: exit 2, not imported', async () => {
    const pwned = join(dir, 'pwned-module');
    const r = await cli(['replay', token({ impl: `${PLUGINS}/writes-on-import.mjs` })], { NVC_CHAOS_PWNED: pwned });
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/^nvconform: replay: this token was made with the implementation 'test\/chaos\/fixtures\/plugins\/writes-on-import\.mjs'; to run it, name it yourself: nvconform replay TOKEN --impl 'test\/chaos/);
    expect(existsSync(pwned)).toBe(false);
  });

  it('the same module, named by the user on the command line, is imported', async () => {
    const pwned = join(dir, 'named-module');
    const r = await cli(['replay', token({ impl: `${PLUGINS}/writes-on-import.mjs` }), '--impl', `${PLUGINS}/writes-on-import.mjs`, '--property', 'no-tval-in-vncr'], { NVC_CHAOS_PWNED: pwned });
    expect(r.stderr).toBe('');
    expect(existsSync(pwned)).toBe(true);
  });

  it('quotes a name with quotes and control characters on one line', async () => {
    const r = await cli(['replay', token({ impl: "exec:sh -c 'echo hi'\n\u001b[31m" })]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toBe(
      `nvconform: replay: this token was made with the implementation 'exec:sh -c '\\''echo hi'\\''\\x0a\\x1b[31m'; to run it, name it yourself: nvconform replay TOKEN --impl 'exec:sh -c '\\''echo hi'\\''\\x0a\\x1b[31m'`,
    );
  });

  it('run TOKEN never runs the token\'s implementation', async () => {
    const pwned = join(dir, 'pwned-run');
    const r = await cli(['run', token({ impl: `exec:touch ${pwned}` })]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^model reference /);
    expect(existsSync(pwned)).toBe(false);
  });

  it('a built-in name in a token is used', async () => {
    const r = await cli(['replay', token({ impl: 'nv' })]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^nvconform replay: 2 ops; .*; nv, layout architected, host-ecv-traps off$/m);
  });

  it('an impl that is not a string is a corrupt token', async () => {
    const r = await cli(['replay', token({ impl: ['exec:touch', 'x'] })]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toBe('nvconform: replay token: corrupt (impl is not a string)');
  });
});

describe.concurrent('a token\'s layout is data or a catalogue name, never a file', () => {
  it('a file path is refused, not read', async () => {
    const r = await cli(['replay', token({ impl: 'nv2', layout: 'examples/layouts/tval-spare.yaml' })]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/^nvconform: replay token: layout "examples\/layouts\/tval-spare\.yaml" is not a catalogue layout \(architected, .*\); a token names a catalogue layout or carries its slots, never a file$/);
  });

  it('slots as data are checked like a layout file', async () => {
    const r = await cli(['replay', token({ impl: 'nv2', layout: { name: 'mine', slots: [['CNTV_CVAL_EL0', 0x169]] } })]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/^nvconform: replay token:1: slots\[0\]\.offset: 361 \(0x169\) is not 8-byte aligned$/);
    const ok = await cli(['replay', token({ impl: 'nv2', layout: { name: 'mine', slots: [['CNTV_CVAL_EL0', 0x168]] } })]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/; nv2, layout mine, host-ecv-traps off$/m);
  });
});

describe.concurrent('a suite names built-in implementations only', () => {
  it('an exec: entry is refused before anything runs', async () => {
    const { writeFileSync } = await import('node:fs');
    const pwned = join(dir, 'pwned-suite');
    const suite = join(dir, 'suite.json');
    writeFileSync(suite, JSON.stringify({ format: 'nvconform-suite/1', entries: [{ name: 'x', impl: `exec:touch ${pwned}`, property: 'architectural', expect: 'pass' }] }));
    const r = await cli(['check', '--suite', suite]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toBe(`nvconform: ${suite}: entries[0].impl: "exec:touch ${pwned}" is not a built-in implementation (nv2, nv); a suite names built-ins only: check an external implementation with nvconform check --impl SPEC`);
    expect(existsSync(pwned)).toBe(false);
  });
});
