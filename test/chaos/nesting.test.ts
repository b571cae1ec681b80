/**
 * Deeply nested documents are one-line input errors with the position, never a stack overflow:
 * trace files, suites, replay tokens and layout files (JSON and YAML).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../models/arch/errors.js';
import { checkJsonNesting, checkYamlNesting } from '../../models/arch/nesting.js';
import { parseLayoutText } from '../../models/layouts/file.js';
import { cli, oneLine, tmp } from './util.js';

const dir = tmp();
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe.concurrent('the CLI on deeply nested input: exit 2, one line with file, line and column', () => {
  it('a trace of [ x 100,000', async () => {
    const p = file('deep.json', '['.repeat(100_000));
    const r = await cli(['run', p]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toBe(`nvconform: ${p}:1:65: JSON nested deeper than 64 levels`);
  });

  it('nesting inside a trace\'s ops, on a later line', async () => {
    const p = file('deep-ops.json', `{"format": "nvconform-trace/1",\n "config": {"guest": "vhe"},\n "ops": [${'['.repeat(100_000)}${']'.repeat(100_000)}]}`);
    const r = await cli(['replay', p]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toBe(`nvconform: ${p}:3:72: JSON nested deeper than 64 levels`);
  });

  it('brackets inside strings do not count', async () => {
    const p = file('strings.json', JSON.stringify({ format: 'nvconform-trace/1', config: { guest: 'vhe' }, ops: [], x: '['.repeat(1000) }));
    const r = await cli(['run', p]);
    expect(oneLine(r.stderr)).toBe(`nvconform: ${p}: trace: unexpected field 'x' (allowed: format, config, ops, observations)`);
  });

  it('a suite', async () => {
    const p = file('suite.json', `{"format": "nvconform-suite/1", "entries": ${'{"a":'.repeat(50_000)}`);
    const r = await cli(['check', '--suite', p]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toBe(`nvconform: ${p}:1:359: JSON nested deeper than 64 levels`);
  });

  it('a token', async () => {
    const tok = 'nvc1:' + deflateRawSync(Buffer.from('{"c":' + '['.repeat(100_000))).toString('base64url');
    const r = await cli(['replay', tok]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toBe('nvconform: replay token: corrupt (JSON nested deeper than 64 levels)');
  });

  it('a token that decompresses to more than 64 MiB', async () => {
    const tok = 'nvc1:' + deflateRawSync(Buffer.alloc(65 << 20, 0x20)).toString('base64url');
    const r = await cli(['replay', tok]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toBe('nvconform: replay token: more than 64 MiB when decompressed');
  });

  it('a YAML layout, flow and block', async () => {
    const flow = file('flow.yaml', 'slots: ' + '['.repeat(100_000));
    const r1 = await cli(['check', '--layout', flow]);
    expect(r1.status).toBe(2);
    expect(oneLine(r1.stderr)).toBe(`nvconform: ${flow}:1: syntax error at column 71: nested deeper than 64 levels`);
    const block = file('block.yaml', Array.from({ length: 1000 }, (_, i) => ' '.repeat(i) + '- ').join('\n') + 'x');
    const r2 = await cli(['layouts', block]);
    expect(r2.status).toBe(2);
    expect(oneLine(r2.stderr)).toBe(`nvconform: ${block}:64: syntax error at column 66: nested deeper than 64 levels`);
  });
});

describe.concurrent('the scans', () => {
  const deny = (f: () => void, msg: string) => {
    expect(f).toThrow(InputError);
    expect(f).toThrow(msg);
  };
  it('JSON: 64 levels pass, 65 do not; escapes inside strings are skipped', () => {
    checkJsonNesting('['.repeat(64) + ']'.repeat(64), 'x');
    deny(() => checkJsonNesting('['.repeat(65), 'x'), 'x:1:65: JSON nested deeper than 64 levels');
    checkJsonNesting(`["\\"[[[[", ${'['.repeat(63)}]`, 'x', 64);
    deny(() => checkJsonNesting('{"a":\n  {"b": [[', 'f', 3), 'f:2:10: JSON nested deeper than 3 levels');
  });
  it('YAML: compact sequences, quotes and comments', () => {
    deny(() => checkYamlNesting('- '.repeat(65) + 'x', 'y'), 'y:1: syntax error at column 131: nested deeper than 64 levels');
    checkYamlNesting(`a: "[[[[[" # [[[[[\nb: '[[''[[['\n`, 'y', 3);
    deny(() => checkYamlNesting('a:\n  b:\n    c: [x]\n', 'y', 3), 'y:3: syntax error at column 8: nested deeper than 3 levels');
  });
  it('every shipped layout and example layout passes', () => {
    for (const f of ['examples/layouts/tval-spare.yaml', 'examples/layouts/virtual-only.json']) {
      expect(() => parseLayoutText(readFileSync(f, 'utf8'), f)).not.toThrow();
    }
  });
});
