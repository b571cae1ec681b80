/**
 * Exhaustive small-scope checking: every trace of at most `depth` letters over each family of the
 * alphabet (src/check/alphabet.ts), from each root config, explored breadth-first over the product
 * of the reference's, the judge's and the implementation's states. States are merged by key, which
 * is sound because a key is a canonical text of everything that decides what follows (see
 * docs/exhaustive.md). Breadth-first order makes the first counterexample found a shortest one.
 */
import { NvcError } from '../../models/arch/errors.js';
import type { Implementation } from '../../models/arch/implementation.js';
import type { Op, TraceConfig } from '../../models/arch/vocabulary.js';
import type { OpContext, Property } from '../../properties/types.js';
import { asGenOps } from '../engine/abstract-ops.js';
import { Runner, runTrace, type Outcome, type RunnerSnapshot } from '../engine/runner.js';
import { ALPHABET, roots, type Alphabet } from './alphabet.js';

export interface ExhaustiveOptions {
  /** The longest trace explored, in letters (ops). */
  readonly depth: number;
  /** Pin the guest mode of the roots. Default: both. */
  readonly guest?: TraceConfig['guest'];
  /** Pin FEAT_ECV of the roots. Default: with and without. */
  readonly ecv?: boolean;
  /** The alphabet. Default: ALPHABET. */
  readonly alphabet?: Alphabet;
  /** Stop after this many transitions; the result then says which depth was completed. Default: no limit. */
  readonly maxTransitions?: number;
  /** Observe every op judged (coverage). Default none. */
  readonly observe?: (c: OpContext) => void;
}

export interface ExhaustiveResult {
  readonly alphabet: string;
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
  readonly ms: number;
  /** A shortest counterexample, recorded, if there is one within the scope. */
  readonly counterexample?: Outcome;
}

interface Node {
  readonly parent: Node | undefined;
  /** The op that led here (undefined at a root). */
  readonly op: Op | undefined;
  readonly depth: number;
  readonly family: number;
  readonly config: TraceConfig;
  readonly runner: RunnerSnapshot;
  /** The implementation's snapshot, or undefined when it is explored by replaying the path. */
  readonly impl: unknown;
  /** Distinct states reached from here by one valid letter (ids), for counting traces. */
  children: number[];
  readonly id: number;
}

const isPromise = <T>(x: T | Promise<T>): x is Promise<T> => typeof (x as { then?: unknown } | null)?.then === 'function';
const path = (n: Node | undefined): Op[] => {
  const out: Op[] = [];
  for (let x = n; x?.op; x = x.parent) out.push(x.op);
  return out.reverse();
};

/** Explore; a property violation or an implementation failure within the scope is returned as a shortest counterexample. */
export async function exhaustive(impl: Implementation, property: Property, o: ExhaustiveOptions): Promise<ExhaustiveResult> {
  const t0 = performance.now();
  const alphabet = o.alphabet ?? ALPHABET;
  const rootConfigs = roots(o);
  const runner = new Runner(impl, { property, ...(o.observe ? { observe: o.observe } : {}) });
  const snapshots = typeof impl.snapshot === 'function' && typeof impl.restore === 'function';
  const merged = snapshots && typeof impl.key === 'function';
  const limit = o.maxTransitions ?? Number.POSITIVE_INFINITY;
  const nodes: Node[] = [];
  const visited = alphabet.families.map(() => new Map<string, number>());
  let transitions = 0;

  const productKey = (family: number, config: TraceConfig): string =>
    `${config.guest}${config.features.join(',')}|${runner.key()}|${merged ? impl.key!() : ''}`;

  /** Put the runner and the implementation back into node `n`'s state. */
  const enter = (n: Node): Promise<void> | undefined => {
    if (snapshots) {
      runner.restore(n.runner);
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
      runner.judgeOp(op, isPromise(x) ? await x : x);
    }
    runner.restore(n.runner);
  };

  const addNode = (parent: Node | undefined, op: Op | undefined, family: number, config: TraceConfig, depth: number): Node => {
    const n: Node = { parent, op, depth, family, config, runner: runner.snapshot(), impl: snapshots ? impl.snapshot!() : undefined, children: [], id: nodes.length };
    nodes.push(n);
    return n;
  };

  // Depth 0: the roots of every family.
  let frontier: Node[] = [];
  for (let f = 0; f < alphabet.families.length; f++) {
    for (const config of rootConfigs) {
      runner.begin(config);
      try {
        const r = impl.reset(config);
        if (isPromise(r)) await r;
      } catch (e) {
        if (!(e instanceof NvcError)) throw e;
        return finish(0, await record(impl, property, config, []));
      }
      const k = productKey(f, config);
      if (visited[f]!.has(k)) continue;
      const n = addNode(undefined, undefined, f, config, 0);
      visited[f]!.set(k, n.id);
      frontier.push(n);
    }
  }

  let completed = 0;
  for (let d = 1; d <= o.depth && frontier.length; d++) {
    const next: Node[] = [];
    for (const n of frontier) {
      const letters = alphabet.families[n.family]!.letters;
      for (const letter of letters) {
        if (transitions >= limit) return finish(completed);
        const entered = enter(n);
        if (entered) await entered;
        const op = runner.resolve(letter.op);
        if (!op) continue;
        transitions++;
        let obs;
        try {
          const x = impl.step(op);
          obs = isPromise(x) ? await x : x;
        } catch (e) {
          if (!(e instanceof NvcError)) throw e;
          return finish(d - 1, await record(impl, property, n.config, [...path(n), op]));
        }
        if (runner.judgeOp(op, obs)) return finish(d - 1, await record(impl, property, n.config, [...path(n), op]));
        if (!merged) {
          const c = addNode(n, op, n.family, n.config, d);
          n.children.push(c.id);
          next.push(c);
          continue;
        }
        const k = productKey(n.family, n.config);
        const seen = visited[n.family]!.get(k);
        if (seen !== undefined) {
          n.children.push(seen);
          continue;
        }
        const c = addNode(n, op, n.family, n.config, d);
        visited[n.family]!.set(k, c.id);
        n.children.push(c.id);
        next.push(c);
      }
    }
    completed = d;
    frontier = next;
  }
  return finish(completed);

  function finish(completedDepth: number, counterexample?: Outcome): ExhaustiveResult {
    return {
      alphabet: alphabet.name, depth: o.depth, completedDepth, families: alphabet.families.length, roots: rootConfigs.length,
      traces: countTraces(nodes, completedDepth), states: nodes.length, transitions, merged, ms: performance.now() - t0,
      ...(counterexample ? { counterexample } : {}),
    };
  }
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
async function record(impl: Implementation, property: Property, config: TraceConfig, ops: readonly Op[]): Promise<Outcome> {
  const r = new Runner(impl, { property });
  r.record = true;
  const out = await runTrace(r, config, asGenOps(ops));
  if (!out.violation) throw new NvcError('internal error: the counterexample did not fail again (non-deterministic implementation?)', 1);
  return out;
}
