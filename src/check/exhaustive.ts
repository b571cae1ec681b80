/**
 * Exhaustive small-scope checking: every trace of at most `depth` letters over each family of the
 * alphabet (src/check/alphabet.ts), from each root config, explored breadth-first over the product
 * of the reference's, the judge's and the implementation's states. States are merged by key, which
 * is sound because a key is a canonical text of everything that decides what follows (see
 * docs/exhaustive.md). Breadth-first order makes the first counterexample found a shortest one.
 */
import { NvcError } from '../../models/arch/errors.js';
import type { Implementation } from '../../models/arch/implementation.js';
import type { Feature, Op, TraceConfig } from '../../models/arch/vocabulary.js';
import type { OpContext, Property } from '../../properties/types.js';
import { asGenOps } from '../engine/abstract-ops.js';
import { Runner, runTrace, type Outcome, type RunnerSnapshot } from '../engine/runner.js';
import { ALPHABET, roots, type Alphabet } from './alphabet.js';
import { completed } from './shrink.js';

export interface ExhaustiveOptions {
  /** The longest trace explored, in letters (ops). */
  readonly depth: number;
  /** Pin the guest mode of the roots. Default: both. */
  readonly guest?: TraceConfig['guest'];
  /** Pin FEAT_ECV of the roots. Default: with and without. */
  readonly ecv?: boolean;
  /** The virtual-CPU features the roots may use. Default: what the implementation declares it offers (all if it does not say). */
  readonly offer?: readonly Feature[];
  /** The alphabet. Default: ALPHABET. */
  readonly alphabet?: Alphabet;
  /** Stop after this many transitions; the result then says which depth was completed. Default: no limit. */
  readonly maxTransitions?: number;
  /** Observe every op judged (coverage). Default none. */
  readonly observe?: (c: OpContext) => void;
  /** Checked before each letter: true stops the search as maxTransitions does (a time budget). Default never. */
  readonly stop?: () => boolean;
  /**
   * Checked before each letter: explore no deeper than this depth (a search of another family
   * found a counterexample that one here could not beat). Default no limit.
   */
  readonly depthLimit?: () => number | undefined;
  /**
   * Explore only this family of the alphabet (its index). Families share no states, so the
   * search of each is a separate task, and mergeByFamily gives the answer of one search of all.
   * Default: every family.
   */
  readonly family?: number;
}

export interface ExhaustiveResult {
  readonly alphabet: string;
  /** What a depth counts: ops (every letter one op) or letters (some are macros of several ops). */
  readonly unit: 'op' | 'letter';
  readonly depth: number;
  /** Every trace of at most this many ops was explored (less than `depth` only when a budget ran out or a counterexample ended the search). */
  readonly completedDepth: number;
  readonly families: number;
  readonly roots: number;
  /** Traces of 1 to completedDepth ops covered (each a sequence of letters valid where it stands). */
  readonly traces: number;
  /** Distinct product states reached. */
  readonly states: number;
  /** Letters executed. */
  readonly transitions: number;
  /** States were merged (the implementation gives keys). */
  readonly merged: boolean;
  /** How a state was returned to: from the implementation's snapshots, or by resetting it and replaying the path. */
  readonly mode: 'snapshots' | 'replay';
  readonly ms: number;
  /** A shortest counterexample, recorded, if there is one within the scope. */
  readonly counterexample?: Outcome;
  /** False when the counterexample did not fail again on the recording rerun: it is shown as first observed. */
  readonly reproducible?: boolean;
  /** An implementation failure met while confirming a property violation (reported beside it). */
  readonly sideFailure?: Outcome;
  /** With a counterexample: the depth being explored when it was found (0: at a root, before any letter). */
  readonly foundAt?: number;
  /** After each completed depth k (index k, from 0: the roots): the traces, states and transitions so far, for mergeByFamily. */
  readonly progress: { readonly traces: readonly number[]; readonly states: readonly number[]; readonly transitions: readonly number[] };
}

interface Node {
  readonly parent: Node | undefined;
  /** The letter's ops that led here (none at a root). */
  readonly ops: readonly Op[];
  readonly depth: number;
  readonly family: number;
  readonly config: TraceConfig;
  /** The runner's snapshot, for a node that will be entered again (none at the last depth). */
  readonly runner: RunnerSnapshot | undefined;
  /** The implementation's snapshot, or undefined when it is explored by replaying the path. */
  readonly impl: unknown;
  /** Distinct states reached from here by one valid letter (ids), for counting traces. */
  children: number[];
  readonly id: number;
}

const isPromise = <T>(x: T | Promise<T>): x is Promise<T> => typeof (x as { then?: unknown } | null)?.then === 'function';
const path = (n: Node | undefined): Op[] => {
  const out: Op[] = [];
  const letters: (readonly Op[])[] = [];
  for (let x = n; x?.parent; x = x.parent) letters.push(x.ops);
  for (let i = letters.length - 1; i >= 0; i--) out.push(...letters[i]!);
  return out;
};

/** Explore; a property violation or an implementation failure within the scope is returned as a shortest counterexample. */
export async function exhaustive(impl: Implementation, property: Property, o: ExhaustiveOptions): Promise<ExhaustiveResult> {
  const t0 = performance.now();
  const alphabet = o.alphabet ?? ALPHABET;
  const offer = o.offer ?? impl.declaration.host.vcpuFeatures;
  const rootConfigs = roots({ ...o, ...(offer ? { offer } : {}) });
  const runner = new Runner(impl, { property, ...(o.observe ? { observe: o.observe } : {}) });
  const snapshots = typeof impl.snapshot === 'function' && typeof impl.restore === 'function';
  const merged = snapshots && typeof impl.key === 'function';
  const limit = o.maxTransitions ?? Number.POSITIVE_INFINITY;
  const nodes: Node[] = [];
  const visited = alphabet.families.map(() => new StateSet());
  let transitions = 0;

  // The product key: the config's guest mode and features, the reference's and the implementation's
  // states as 64-bit words, and the judge's history (and the implementation's key text if it gives
  // no words). Looked up by a hash of the words; equality is checked on the whole key.
  let words = new BigUint64Array(256);
  let halves = new Uint32Array(words.buffer);
  const binary = typeof impl.keyInto === 'function';
  // Roots that differ only in their count share an index: the count is in the reference's state.
  const kindOf = (c: TraceConfig): string => `${c.guest} ${c.features.join(',')} -${(c.absent ?? []).join(',')}`;
  const kinds = [...new Set(rootConfigs.map(kindOf))];
  const configIndex = new Map(rootConfigs.map((c) => [c, kinds.indexOf(kindOf(c))]));
  const productKey = (_family: number, config: TraceConfig): StateKey => {
    for (;;) {
      words[0] = BigInt(configIndex.get(config) ?? 0);
      let n = runner.refKeyInto(words, 1);
      if (binary) n = impl.keyInto!(words, n);
      n = runner.judgeKeyInto(words, n);
      // Words written past the end are lost: grow and write them again.
      if (n <= words.length) return { words, halves, n, text: `${binary ? '' : merged ? impl.key!() : ''}|${runner.judgeKey()}` };
      words = new BigUint64Array(2 * n);
      halves = new Uint32Array(words.buffer);
    }
  };

  /** The node whose state the runner and the implementation are in, if nothing was stepped since (no need to enter it again). */
  let at: Node | undefined;
  /** Put the runner and the implementation back into node `n`'s state. */
  const enter = (n: Node): Promise<void> | undefined => {
    if (at === n) return undefined;
    at = n;
    if (snapshots) {
      runner.restore(n.runner!);
      const r = impl.restore!(n.impl);
      return isPromise(r) ? r : undefined;
    }
    return replay(n);
  };
  /** No snapshots: reset and replay the path. */
  const replay = async (n: Node): Promise<void> => {
    runner.begin(n.config);
    const r = impl.reset(n.config);
    if (isPromise(r)) await r;
    for (const op of path(n)) {
      const x = impl.step(op);
      runner.accept(op, isPromise(x) ? await x : x);
    }
    runner.restore(n.runner!);
  };

  /**
   * The implementation's snapshot of the state it is in (awaited only when it is a promise), for a
   * node that will be entered again: none at the last depth, none without snapshots.
   */
  const save = (depth: number): unknown => (snapshots && depth < o.depth ? impl.snapshot!() : undefined);
  /**
   * A failure of the implementation between ops (a snapshot or a return to one): a counterexample
   * of the ops that led to the state, failing after the last of them.
   */
  const between = async (config: TraceConfig, ops: readonly Op[], e: NvcError) => {
    const r = await record(impl, property, config, ops, { violation: { index: ops.length, explanation: `the implementation failed: ${e.message}` }, failure: e });
    if (!r.reproducible) r.outcome.between = true;
    return r;
  };
  const addNode = (parent: Node | undefined, ops: readonly Op[], family: number, config: TraceConfig, depth: number, snap: unknown): Node => {
    // A node at the last depth is never entered again: no snapshot of the runner either (save() takes none of the implementation).
    const n: Node = { parent, ops, depth, family, config, runner: depth < o.depth ? runner.snapshot() : undefined, impl: snap, children: [], id: nodes.length };
    nodes.push(n);
    return n;
  };

  // Depth 0: the roots of every family.
  let frontier: Node[] = [];
  /** The depth being explored (0: the roots). */
  let processing = 0;
  /** After each completed depth: traces, states, transitions (depth 0, the roots: states set once they are all made). */
  const progress = { traces: [0], states: [0], transitions: [0] };
  for (let f = 0; f < alphabet.families.length; f++) {
    if (o.family !== undefined && f !== o.family) continue;
    for (const config of rootConfigs) {
      runner.begin(config);
      try {
        const r = impl.reset(config);
        if (isPromise(r)) await r;
      } catch (e) {
        if (!(e instanceof NvcError)) throw e;
        return finish(0, await record(impl, property, config, [], { violation: undefined, failure: e }));
      }
      at = undefined;
      const k = productKey(f, config);
      if (visited[f]!.get(k) !== undefined) continue;
      let snap;
      try {
        snap = save(0);
        if (isPromise(snap)) snap = await snap;
      } catch (e) {
        if (!(e instanceof NvcError)) throw e;
        return finish(0, await between(config, [], e));
      }
      const n = addNode(undefined, [], f, config, 0, snap);
      visited[f]!.set(k, n.id);
      frontier.push(n);
    }
  }

  let completed = 0;
  progress.states[0] = nodes.length;
  for (let d = 1; d <= o.depth && frontier.length; d++) {
    processing = d;
    const next: Node[] = [];
    for (const n of frontier) {
      const letters = alphabet.families[n.family]!.letters;
      for (const letter of letters) {
        if (transitions >= limit || o.stop?.() || d > (o.depthLimit?.() ?? d)) return finish(completed);
        try {
          const entered = enter(n);
          if (entered) await entered;
        } catch (e) {
          if (!(e instanceof NvcError)) throw e;
          return finish(d - 1, await between(n.config, path(n), e));
        }
        // A letter of several ops is valid only if each op is valid where it stands.
        const done: Op[] = [];
        let valid = true;
        for (const g of letter.ops) {
          const op = runner.resolve(g);
          if (!op) {
            valid = false;
            break;
          }
          if (done.length === 0) transitions++;
          at = undefined;
          done.push(op);
          let obs;
          try {
            const x = impl.step(op);
            obs = isPromise(x) ? await x : x;
          } catch (e) {
            if (!(e instanceof NvcError)) throw e;
            return finish(d - 1, await record(impl, property, n.config, [...path(n), ...done], { violation: undefined, failure: e }));
          }
          if (runner.accept(op, obs)) return finish(d - 1, await record(impl, property, n.config, [...path(n), ...done], runner.outcome));
        }
        if (!valid || done.length === 0) continue;
        const k = merged ? productKey(n.family, n.config) : undefined;
        const seen = k && visited[n.family]!.get(k);
        if (seen !== undefined) {
          n.children.push(seen);
          continue;
        }
        let snap;
        try {
          snap = save(d);
          if (isPromise(snap)) snap = await snap;
        } catch (e) {
          if (!(e instanceof NvcError)) throw e;
          return finish(d - 1, await between(n.config, [...path(n), ...done], e));
        }
        const c = addNode(n, done, n.family, n.config, d, snap);
        if (k) visited[n.family]!.set(k, c.id);
        n.children.push(c.id);
        next.push(c);
      }
    }
    completed = d;
    frontier = next;
    progress.traces.push(countTraces(nodes, d));
    progress.states.push(nodes.length);
    progress.transitions.push(transitions);
  }
  return finish(completed);

  function finish(completedDepth: number, found?: { outcome: Outcome; reproducible: boolean; sideFailure?: Outcome }): ExhaustiveResult {
    const counterexample = found?.outcome;
    return {
      ...(found ? { foundAt: processing } : {}), progress,
      alphabet: alphabet.name, unit: alphabet.families.every((f) => f.letters.every((l) => l.ops.length === 1)) ? 'op' : 'letter', depth: o.depth, completedDepth, families: alphabet.families.length, roots: rootConfigs.length,
      traces: progress.traces[completedDepth]!, states: nodes.length, transitions, merged, mode: snapshots ? 'snapshots' : 'replay', ms: performance.now() - t0,
      ...(counterexample ? { counterexample } : {}), ...(found && !found.reproducible ? { reproducible: false } : {}),
      ...(found?.sideFailure ? { sideFailure: found.sideFailure } : {}),
    };
  }
}

/** A counterexample found by the search of one family: at which depth, in which family. */
export interface Found {
  readonly at: number;
  readonly family: number;
}

/** Whether one search of every family meets `a` before `b` (or there is no `b`): the shallower first, the first family's among equals. */
export const firstFound = (a: Found, b: Found | undefined): boolean => !b || a.at < b.at || (a.at === b.at && a.family < b.family);

/** Once `best` is the first counterexample: how deep the search of family `g` must go for the answer and its counts (mergeByFamily). */
export const depthNeeded = (best: Found, g: number): number => (g < best.family ? best.at : best.at - 1);

/**
 * The answer of one search over every family from the searches of each, in family order. The
 * families share no states, and breadth-first order over all of them explores depth d of every
 * family before depth d+1 of any, and within a depth the families in order. So the search of all
 * finds the counterexample found at the least depth, the first family's among equals, and by then
 * has explored: every family up to depth d-1, the families before the winner's at depth d too, and
 * the winner's up to its counterexample. The counts are those, from each search's progress; so
 * they depend only on the inputs, not on which searches ran where, in what order, or how far a
 * search went past what the answer needs (see depthLimit). Without a counterexample: the sums.
 */
export function mergeByFamily<R extends Omit<ExhaustiveResult, 'counterexample' | 'sideFailure' | 'ms'> & { readonly counterexample?: unknown }>(parts: readonly R[]): R {
  if (parts.length === 0) throw new Error('mergeByFamily: no searches');
  let best: Found | undefined;
  parts.forEach((r, family) => {
    if (r.foundAt === undefined) return;
    const f = { at: r.foundAt, family };
    if (firstFound(f, best)) best = f;
  });
  const sum = (k: 'traces' | 'states' | 'transitions'): number => parts.reduce((a, r) => a + r[k], 0);
  if (!best) {
    return { ...parts[0]!, completedDepth: Math.min(...parts.map((r) => r.completedDepth)), traces: sum('traces'), states: sum('states'), transitions: sum('transitions') };
  }
  const w = best.family, winner = parts[w]!, d = best.at;
  /** What family f had explored after depth k (nothing before its roots, at k = -1). */
  const at = (f: number, k: 'traces' | 'states' | 'transitions', depth: number): number => {
    const p = parts[f]!.progress[k];
    return depth < 0 ? 0 : p[Math.min(depth, p.length - 1)]!;
  };
  const total = (k: 'states' | 'transitions'): number => parts.reduce((a, r, f) => a + (f === w ? r[k] : at(f, k, depthNeeded(best!, f))), 0);
  return {
    ...winner,
    completedDepth: Math.max(0, d - 1),
    traces: parts.reduce((a, _r, f) => a + at(f, 'traces', d - 1), 0),
    states: total('states'), transitions: total('transitions'),
  };
}

/**
 * Traces of 1..depth ops covered: from each root, the number of letter sequences valid where they
 * stand, counted over the merged graph (a state first reached at depth d has its children; traces
 * through a merged state are counted from it).
 */
function countTraces(nodes: readonly Node[], depth: number): number {
  const memo = new Map<number, number>();
  const f = (id: number, r: number): number => {
    if (r === 0) return 1;
    const key = id * 64 + r;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let total = 1;
    for (const c of nodes[id]!.children) total += f(c, r - 1);
    memo.set(key, total);
    return total;
  };
  let n = 0;
  for (const x of nodes) if (x.depth === 0) n += f(x.id, depth) - 1;
  return n;
}

/** The counterexample's recorded run, as every report shows one. */
/**
 * The counterexample's recorded run, as every report shows one. An implementation that does not
 * fail again on the rerun (a failure that does not recur) is reported as first observed: the
 * violation or failure the search met, on the rerun's records.
 */
async function record(
  impl: Implementation, property: Property, config: TraceConfig, ops: readonly Op[], first: Pick<Outcome, 'violation' | 'failure'>,
): Promise<{ outcome: Outcome; reproducible: boolean; sideFailure?: Outcome }> {
  const r = new Runner(impl, { property, hosts: true });
  r.record = true;
  let out = await runTrace(r, config, asGenOps(ops));
  // A crash while a property violation is confirmed is kept beside it, and the rerun tried once more (one crash does not cost the finding).
  const side = !first.failure && out.failure ? out : undefined;
  if (side) out = await runTrace(r, config, asGenOps(ops));
  const also = side ? { sideFailure: completed(side) } : {};
  if (out.violation && !out.failure === !first.failure) return { outcome: out, reproducible: true, ...also };
  out.violation = first.violation ?? { index: Math.max(0, ops.length - 1), explanation: `the implementation failed: ${first.failure?.message ?? 'unknown failure'}` };
  if (first.failure) {
    out.failure = first.failure;
    // As first observed: the op the implementation failed on had no answer (the rerun's is not shown).
    // (A failure between ops, at a snapshot or a return to one, is placed after the last op: every op answered.)
    const failed = first.violation?.index ?? Math.max(0, ops.length - 1);
    out.observed.length = Math.min(out.observed.length, failed);
    out.details.length = Math.min(out.details.length, failed);
    out.hosts.length = Math.min(out.hosts.length, failed);
  }
  return { outcome: out, reproducible: false, ...also };
}

/** A product state's key: `n` 64-bit words (reused between calls) and a short text. */
export interface StateKey {
  readonly words: BigUint64Array;
  /** The same words as 32-bit halves (a view over the same memory). */
  readonly halves: Uint32Array;
  readonly n: number;
  readonly text: string;
}

/**
 * A set of keys, each with a node id: an open-addressing hash table over the words' 32-bit halves,
 * every key compared in full. The keys' words live end to end in one growing arena, so adding a
 * state allocates nothing but, now and then, a bigger arena or table (the search adds one per state).
 */
export class StateSet {
  /** Per table slot: 0 empty, else 1 + the index of the entry. */
  private table = new Int32Array(1024);
  /** Per entry: where its words start in the arena, how many halves, its text and its id. */
  private starts = new Int32Array(256);
  private lengths = new Int32Array(256);
  private hashes = new Int32Array(256);
  private texts: string[] = [];
  private ids: number[] = [];
  private arena = new Uint32Array(1 << 14);
  private used = 0;
  private count = 0;

  private static hash(k: StateKey): number {
    const u = k.halves, len = k.n * 2;
    let h = 0x811c9dc5 ^ k.n;
    for (let i = 0; i < len; i++) h = Math.imul(h ^ u[i]!, 0x01000193);
    const t = k.text;
    for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), 0x01000193);
    return h | 0;
  }

  private same(e: number, k: StateKey): boolean {
    const len = this.lengths[e]!;
    if (len !== k.n * 2 || this.texts[e] !== k.text) return false;
    const u = k.halves, a = this.arena, at = this.starts[e]!;
    for (let i = 0; i < len; i++) if (a[at + i] !== u[i]) return false;
    return true;
  }

  /** The table slot of key `k` (hash `h`): its entry's, or the empty one where it would go. */
  private slotOf(k: StateKey, h: number): number {
    const t = this.table, mask = t.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = t[i]!;
      if (e === 0 || (this.hashes[e - 1] === h && this.same(e - 1, k))) return i;
    }
  }

  get(k: StateKey): number | undefined {
    const e = this.table[this.slotOf(k, StateSet.hash(k))]!;
    return e === 0 ? undefined : this.ids[e - 1];
  }

  /** Add `k` (not in the set) with node id `id`. */
  set(k: StateKey, id: number): void {
    const h = StateSet.hash(k), len = k.n * 2;
    const e = this.count++;
    if (e === this.starts.length) {
      this.starts = grow(this.starts, 2 * e);
      this.lengths = grow(this.lengths, 2 * e);
      this.hashes = grow(this.hashes, 2 * e);
    }
    if (this.used + len > this.arena.length) {
      const a = new Uint32Array(Math.max(2 * this.arena.length, this.used + len));
      a.set(this.arena.subarray(0, this.used));
      this.arena = a;
    }
    this.arena.set(k.halves.subarray(0, len), this.used);
    this.starts[e] = this.used;
    this.lengths[e] = len;
    this.hashes[e] = h;
    this.texts.push(k.text);
    this.ids.push(id);
    this.used += len;
    // At most half full: rehash into a table twice the size first.
    if (2 * this.count > this.table.length) this.rehash();
    this.table[this.slotOf(k, h)] = e + 1;
  }

  private rehash(): void {
    const t = new Int32Array(2 * this.table.length), mask = t.length - 1;
    for (let e = 0; e < this.count - 1; e++) {
      let i = this.hashes[e]! & mask;
      while (t[i] !== 0) i = (i + 1) & mask;
      t[i] = e + 1;
    }
    this.table = t;
  }
}

function grow(a: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}
