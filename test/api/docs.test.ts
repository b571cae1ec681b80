/**
 * docs/api.md quotes what the code does now: its example is examples/api/check-layout.mjs
 * verbatim, and the output it shows is what that file prints (run against dist/ through the
 * package's own exports, as a user's `import 'nvconform'` would be); the vitest example is the
 * file test/api/package.test.ts runs; the options it lists exist.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { check, replay } from '../../src/api/index.js';
import { ConformanceError, expectConformant } from '../../src/vitest.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DOC = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');

/** The fenced blocks of a Markdown text with their info string. */
const blocks = (md: string): { lang: string; body: string }[] => [...md.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, body: m[2]! }));

describe('docs/api.md', () => {
  it('holds the example file and the vitest example verbatim', () => {
    const js = blocks(DOC).filter((b) => b.lang === 'js').map((b) => b.body);
    expect(js).toContain(read('examples/api/check-layout.mjs'));
    expect(js).toContain(read('examples/vitest/conformance.test.mjs'));
  });

  it('shows what the example prints', () => {
    const r = spawnSync(process.execPath, ['examples/api/check-layout.mjs'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const text = blocks(DOC).filter((b) => b.lang === 'text').map((b) => b.body);
    expect(text).toContain(r.stdout);
  });

  it('quotes a scope and a failure headline as the code makes them', async () => {
    const host = { cpu: ['vhe', 'wfxt', 'nv2p1'] } as const;
    const pass = await check({ property: 'deferred', guest: 'vhe', host });
    expect(DOC).toContain(`\`${pass.results[0]!.scope}\``);
    const e = (await expectConformant('nv2', { layout: 'tval-in-vncr', guest: 'vhe', property: 'deferred', host }).catch((x: unknown) => x)) as ConformanceError;
    expect(e).toBeInstanceOf(ConformanceError);
    expect(blocks(DOC).filter((b) => b.lang === 'text').map((b) => b.body)).toContain(e.message.split('\n')[0] + '\n');
    // The README's "As a library" quotes the same headline.
    const readme = read('README.md');
    const lib = readme.slice(readme.indexOf('### As a library'));
    expect(blocks(lib.slice(0, lib.indexOf('\n### ', 1))).map((b) => b.body)).toContain(e.message.split('\n')[0] + '\n');
  });

  it('documents exactly the options the types declare', () => {
    const api = read('src/api/index.ts');
    const fields = (iface: string): string[] => {
      const body = new RegExp(`export interface ${iface}\\b[^{]*\\{([\\s\\S]*?)\\n\\}`).exec(api)![1]!;
      return [...body.matchAll(/^\s+readonly (\w+)\?:/gm)].map((m) => m[1]!);
    };
    const checkOptions = [...fields('ImplementationOptions'), ...fields('CheckOptions')];
    const table = (heading: string): string[] => {
      const at = DOC.indexOf(heading);
      const rows = DOC.slice(at).split('\n\n')[2]!.split('\n').slice(2);
      return rows.flatMap((r) => [...r.split('|')[1]!.matchAll(/`(\w+)`/g)].map((m) => m[1]!));
    };
    expect(table('### `check(').sort()).toEqual(checkOptions.sort());
    const layoutsDocumented = table('### `layouts(');
    for (const k of fields('LayoutsOptions')) expect(layoutsDocumented).toContain(k);
  });
});

describe('docs/plugins.md, Loading plug-ins from code', () => {
  const doc = read('docs/plugins.md');
  const section = doc.slice(doc.indexOf('## Loading plug-ins from code'));

  it('holds examples/api/load-plugin.mjs verbatim; the example prints what it says, and its token replays on the plug-in only when named', async () => {
    const file = read('examples/api/load-plugin.mjs');
    expect(blocks(section).filter((b) => b.lang === 'js').map((b) => b.body)).toEqual([file]);
    const r = spawnSync(process.execPath, ['examples/api/load-plugin.mjs'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^fail at op #\d+: op #\d+ `\w+ [A-Z0-9_]+/);
    expect(lines[1]).toMatch(/^replay: nvconform replay nvc1:[A-Za-z0-9_-]+ --impl examples\/plugin\/buggy-host\.mjs$/);
    const text = blocks(section).filter((b) => b.lang === 'text').map((b) => b.body);
    expect(text).toEqual([lines.slice(2).join('\n')]);

    // The replay command it prints reproduces the counterexample on the plug-in; without naming
    // the plug-in, the token's plug-in is not loaded: replay rejects.
    const token = /nvconform replay (nvc1:[A-Za-z0-9_-]+)/.exec(lines[1]!)![1]!;
    const again = await replay({ trace: token, impl: 'examples/plugin/buggy-host.mjs' });
    expect(again.verdict).toBe('fail');
    const e = (await replay({ trace: token }).catch((x: unknown) => x)) as Error;
    expect(e.name).toBe('InputError');
    expect(e.message).toBe('replay: this token was made with the implementation "examples/plugin/buggy-host.mjs"; a token never names what to run: pass it yourself, replay({ trace, impl: "examples/plugin/buggy-host.mjs" }) or the object');
  });
});
