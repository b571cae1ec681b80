/**
 * Save/restore for external implementations (docs/protocol.md, docs/plugins.md): an exec process
 * that answers `{"save": ID}` / `{"restore": ID}`, and a module plug-in with snapshot()/restore()
 * (and key()), are explored by the exhaustive phase from their saved states, with the same answer
 * as replaying prefixes and fewer messages; one that does not support them falls back to replaying
 * (at a lower default depth); a save or restore that goes wrong is an implementation failure, a
 * counterexample like any other. A restore that silently does nothing (a mutant) is caught.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Implementation } from '../../models/arch/implementation.js';
import { VOCABULARIES } from '../../models/arch/vocabulary.js';
import { loadLayout } from '../../models/layouts/load.js';
import { propertyByName } from '../../properties/index.js';
import { check, DEFAULT_CHECK_OPTIONS, DEFAULT_REPLAY_DEPTH, type CheckOptions, type PropertyResult } from '../../src/check/check.js';
import { ALPHABET, restrictAlphabet } from '../../src/check/alphabet.js';
import { exhaustive, type ExhaustiveResult } from '../../src/check/exhaustive.js';
import { loadExternal } from '../../src/plugins/index.js';
import { cli } from '../chaos/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nvc-snap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FIX = 'test/plugins/fixtures/snapshot-exec.mjs';
const exec = (args: string): string => `exec:node ${FIX} ${args}`;
const PLUGINS = 'test/plugins/fixtures/plugins';
const ARCH = propertyByName('architectural');

/** One property, one guest mode without ECV: a small scope, explored quickly. */
async function run(impl: string, o: Partial<CheckOptions> = {}): Promise<{ p: PropertyResult; notes: readonly string[] }> {
  const r = await check({ ...DEFAULT_CHECK_OPTIONS, impl, properties: ['architectural'], runs: 5, guest: 'vhe', ecv: false, timeoutMs: 10_000, ...o });
  return { p: r.results[0]!, notes: r.notes ?? [] };
}

interface Counts { reset: number; op: number; save: number; restore: number }
const counts = (file: string): Counts => JSON.parse(readFileSync(file, 'utf8')) as Counts;
const total = (c: Counts): number => c.reset + c.op + c.save + c.restore;
/** What the search covered, without how it got there. */
const scope = (e: PropertyResult['exhaustive'] | ExhaustiveResult | undefined) =>
  e && { depth: e.completedDepth, traces: e.traces, roots: e.roots, families: e.families, transitions: e.merged ? undefined : e.transitions };

describe('an exec implementation with save/restore', () => {
  it('is explored from its saved states: the same traces as replaying prefixes, with fewer messages', async () => {
    const [fs, fr] = [join(dir, 'save.json'), join(dir, 'replay.json')];
    const saved = await run(exec(`ok --count ${fs}`), { depth: 2 });
    const replayed = await run(exec(`unsupported --count ${fr}`), { depth: 2 });
    expect(saved.p.verdict).toBe('pass');
    expect(replayed.p.verdict).toBe('pass');
    expect(saved.p.exhaustive?.mode).toBe('snapshots');
    expect(replayed.p.exhaustive?.mode).toBe('replay');
    expect(scope(saved.p.exhaustive)).toEqual(scope(replayed.p.exhaustive));
    expect(saved.p.exhaustive?.traces).toBeGreaterThan(10_000);
    expect([saved.notes, replayed.notes]).toEqual([[], []]); // a plain "unsupported" needs no note
    const [s, r] = [counts(fs), counts(fr)];
    // Replaying resets for every trace and steps every prefix again; restoring steps each op once.
    expect(s.save).toBeGreaterThan(0);
    expect(s.restore).toBeGreaterThan(0);
    expect(r).toMatchObject({ save: 1, restore: 0 }); // the one probe
    expect(s.reset).toBeLessThan(r.reset / 100);
    expect(s.op).toBeLessThan(r.op * 0.6);
    expect(total(s)).toBeLessThan(total(r) * 0.75);
  });

  it('finds the same shortest counterexample as replaying prefixes', async () => {
    const saved = await run(exec('ok --bug'), { depth: 2 });
    const replayed = await run(exec('unsupported --bug'), { depth: 2 });
    for (const x of [saved, replayed]) {
      expect(x.p.verdict).toBe('fail');
      expect(x.p.phase).toBe('exhaustive');
    }
    const ce = (x: typeof saved) => ({ config: x.p.counterexample?.config, ops: x.p.counterexample?.ops, index: x.p.counterexample?.violation?.index, why: x.p.explanation, observed: x.p.counterexample?.observed });
    expect(ce(saved)).toEqual(ce(replayed));
    expect(saved.p.explanation).toMatch(/^op #\d+ `mrs CNT[PV]CT_EL0`/);
    expect(saved.p.reproducible).toBeUndefined();
  });

  it('a restore that confirms but does nothing (a mutant) is caught; replaying the same implementation passes', async () => {
    const mutant = await run(exec('restore-noop'), { depth: 2 });
    expect(mutant.p.verdict).toBe('fail');
    expect(mutant.p.phase).toBe('exhaustive');
    // The observations after a restore that did nothing are those of another state; rerun from a reset the trace passes.
    expect(mutant.p.reproducible).toBe(false);
    expect(mutant.p.explanation).toMatch(/^op #\d+ /);
  });
});

describe('an exec implementation without save/restore', () => {
  it('"unsupported": explored by replaying prefixes, at the lower default depth', async () => {
    const { p, notes } = await run(exec('unsupported'));
    expect(p.verdict).toBe('pass');
    expect(p.exhaustive).toMatchObject({ mode: 'replay', depth: DEFAULT_REPLAY_DEPTH, completedDepth: DEFAULT_REPLAY_DEPTH });
    expect(notes).toEqual([]);
  });

  it('any other answer to the first save: the same, with a note quoting it', async () => {
    const { p, notes } = await run(exec('odd'));
    expect(p.verdict).toBe('pass');
    expect(p.exhaustive).toMatchObject({ mode: 'replay', depth: DEFAULT_REPLAY_DEPTH });
    expect(notes).toEqual([`${exec('odd')}: no save/restore (answered the first save with {"irq":[]}); explored by replaying prefixes`]);
  });

  it('an adapter written before save/restore (an error for an unknown message): replayed, the answer quoted', async () => {
    const { p, notes } = await run('exec:node test/chaos/fixtures/chaos-exec.mjs snap ok');
    expect(p.verdict).toBe('pass');
    expect(p.exhaustive?.mode).toBe('replay');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^exec:node .*: no save\/restore \(answered the first save with \{"error":"unknown op undefined"\}\); explored by replaying prefixes$/);
  });

  it('no exhaustive phase (--depth 0): the process is not asked', async () => {
    const f = join(dir, 'depth0.json');
    const { p } = await run(exec(`ok --count ${f}`), { depth: 0 });
    expect(p.exhaustive).toBeUndefined();
    expect(counts(f).save).toBe(0);
  });
});

describe('a save or restore that goes wrong is an implementation failure: a counterexample after the ops that led to the state', () => {
  it('a wrong answer to a restore', async () => {
    const { p } = await run(exec('bad-restore 3'), { depth: 2 });
    expect(p.verdict).toBe('fail');
    expect(p.phase).toBe('exhaustive');
    const ce = p.counterexample!;
    expect(p.explanation).toMatch(/^the implementation failed: exec:node .*: answered restore (\d+) \(the state after (reset|ops\[\d+\])\) with \{"restored":\d+\}, expected \{"restored":\1\} \(last output: /);
    // Placed after the last op: every op of the trace answered.
    expect(ce.violation?.index).toBe(ce.ops.length);
    expect(ce.observed).toHaveLength(ce.ops.length);
    expect(p.token).toMatch(/^nvc1:/);
  });

  it('a restore of a state it no longer has (an error)', async () => {
    const { p } = await run(exec('forget 2'), { depth: 2 });
    expect(p.verdict).toBe('fail');
    expect(p.explanation).toMatch(/^the implementation failed: exec:node .*: reported an error at restore (\d+) \(the state after (reset|ops\[\d+\])\): no state saved under \1$/);
  });

  it('a wrong answer to a save after the first', async () => {
    const { p } = await run(exec('bad-save 3'), { depth: 2 });
    expect(p.verdict).toBe('fail');
    expect(p.explanation).toMatch(/answered save 2 \(the state after (reset|ops\[\d+\])\) with \{"saved":"2"\}, expected \{"saved":2\}/);
  });

  it('through the CLI: exit 1, the failure after the last op, a replay line', async () => {
    const r = await cli(['check', '--impl', exec('bad-restore 3'), '--property', 'architectural', '--guest', 'vhe', '--no-ecv', '--runs', '5']);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^x architectural: FAIL in the exhaustive phase/m);
    expect(r.stdout).toMatch(/^ {2}\s*>\d+ +\(implementation failed\)/m);
    expect(r.stdout).toMatch(/^ {2}why {6}the implementation failed: .*answered restore \d+ /m);
    expect(r.stdout).toMatch(/^ {2}replay {3}nvconform replay nvc1:/m);
  });
});

const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
describe.skipIf(python.status !== 0)('the Python example (examples/exec/trap_all.py)', () => {
  const PY = 'exec:python3 examples/exec/trap_all.py';
  it('saves and restores; --no-save replays; --bug restore-noop is caught', async () => {
    const saved = await run(PY, { depth: 1 });
    const replayed = await run(`${PY} --no-save`, { depth: 1 });
    expect([saved.p.verdict, replayed.p.verdict]).toEqual(['pass', 'pass']);
    expect([saved.p.exhaustive?.mode, replayed.p.exhaustive?.mode]).toEqual(['snapshots', 'replay']);
    expect(scope(saved.p.exhaustive)).toEqual(scope(replayed.p.exhaustive));
    const mutant = await run(`${PY} --bug restore-noop`, { depth: 1 });
    expect(mutant.p.verdict).toBe('fail');
    expect(mutant.p.phase).toBe('exhaustive');
  });
});

describe('a module plug-in with snapshot()/restore()', () => {
  const load = (file: string): Promise<Implementation> => loadExternal(`${PLUGINS}/${file}`, { layout: loadLayout('architected'), hostEcvTraps: false, timeoutMs: 10_000 });
  /** The same plug-in with its snapshots hidden: explored by replaying prefixes. */
  const hidden = (impl: Implementation): Implementation => ({
    name: impl.name, declaration: impl.declaration, reset: (c) => impl.reset(c), step: (op) => impl.step(op), detail: () => impl.detail?.(),
  });
  const explore = async (file: string, hide = false): Promise<ExhaustiveResult> => {
    const impl = await load(file);
    try {
      // What check asks a plug-in of the first trace vocabulary.
      return await exhaustive(hide ? hidden(impl) : impl, ARCH, {
        depth: 2, guest: 'vhe', ecv: false, alphabet: restrictAlphabet(ALPHABET, { vocabulary: 1 }), offer: VOCABULARIES[1].features,
      });
    } finally {
      await impl.close?.();
    }
  };

  it('is explored from its snapshots (merged by key() when it has one), covering what replaying covers', async () => {
    const keyed = await explore('snapshots-ok.mjs');
    const unkeyed = await explore('snapshots-nokey.mjs');
    const replayed = await explore('snapshots-nokey.mjs', true);
    expect([keyed.mode, unkeyed.mode, replayed.mode]).toEqual(['snapshots', 'snapshots', 'replay']);
    expect([keyed.merged, unkeyed.merged, replayed.merged]).toEqual([true, false, false]);
    expect(keyed.counterexample ?? unkeyed.counterexample ?? replayed.counterexample).toBeUndefined();
    expect(scope(unkeyed)).toEqual(scope(replayed));
    expect(keyed.traces).toBe(replayed.traces);
    expect(keyed.states).toBeLessThan(replayed.states / 2);
    expect(keyed.transitions).toBeLessThan(replayed.transitions);
  });

  it('finds the same shortest counterexample as replaying prefixes', async () => {
    const a = await explore('snapshots-bug.mjs');
    const b = await explore('snapshots-bug.mjs', true);
    const ce = (r: ExhaustiveResult) => ({ config: r.counterexample?.config, ops: r.counterexample?.ops, v: r.counterexample?.violation, observed: r.counterexample?.observed });
    expect(a.counterexample).toBeDefined();
    expect(ce(a)).toEqual(ce(b));
  });

  it('a restore() that does nothing (a mutant) is caught; replaying it passes', async () => {
    expect((await explore('snapshots-noop.mjs')).counterexample?.violation).toBeDefined();
    expect((await explore('snapshots-noop.mjs', true)).counterexample).toBeUndefined();
  });

  it('a restore() that throws is an implementation failure naming the call', async () => {
    const r = await explore('snapshots-throws.mjs');
    expect(r.counterexample?.failure?.message).toMatch(/^plug-in .*snapshots-throws\.mjs: restore\(\) to the state after (reset|ops\[\d+\]) threw: restore: state table corrupted$/);
    expect(r.counterexample?.violation?.index).toBe(r.counterexample?.ops.length);
  });

  it('a key() that returns a non-string is an implementation failure naming the call', async () => {
    const r = await explore('snapshots-badkey.mjs');
    expect(r.counterexample?.failure?.message).toMatch(/^plug-in .*snapshots-badkey\.mjs: key\(\) after (reset\(\)|step\(ops\[\d+\]\)|restore\(\) to the state after \S+) returned 5, expected a string$/);
  });

  it('through check: the default depth for a plug-in with snapshots, the lower one without', async () => {
    const withSnap = await run(`${PLUGINS}/snapshots-ok.mjs`);
    const without = await run('examples/plugin/trap-all-host.mjs');
    expect(withSnap.p.exhaustive).toMatchObject({ mode: 'snapshots', merged: true, depth: 2 });
    expect(without.p.exhaustive).toMatchObject({ mode: 'replay', merged: false, depth: DEFAULT_REPLAY_DEPTH });
  });

  it('snapshot() without restore() is not a plug-in (exit 2)', async () => {
    const r = await cli(['check', '--impl', `${PLUGINS}/snapshots-half.mjs`, '--property', 'architectural']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`nvconform: plug-in ${PLUGINS}/snapshots-half.mjs: createImplementation() returned an object with snapshot() but no restore(): give both, or neither`);
  });
});
