/**
 * Where a check's tasks run (src/check/tasks.ts): a pool of worker threads, or this thread, shared
 * by every check of a run (a suite's entries, a layout exploration's subsets) so that all cores
 * stay busy. What a task computes does not depend on where it runs; check.ts merges results in a
 * fixed order, so a run's output is the same whatever the number of workers.
 *
 * Also what a whole run shares: its shard (which chunks of each random phase it runs), its
 * deadline (a time budget) and a tally of what it has done (for progress).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../models/arch/errors.js';
import { Pool, MAX_WORKERS } from '../engine/pool.js';
import { BUILTINS, type Registry } from '../engine/registry.js';
import { CHECK_TASKS, ImplCache, type CheckTaskContext, type CheckTasks } from './tasks.js';

/** One of `count` machines' share of a run: shard `index` (1-based) of `count`. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Parse `I/N` (the CLI's --shard): 1 <= I <= N. */
export function parseShard(text: string, where = '--shard'): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count || count > 1_000_000) {
    throw new InputError(`${where}: expected I/N with 1 <= I <= N (e.g. 1/4), got ${JSON.stringify(text.slice(0, 40))}`);
  }
  return { index, count };
}

/** What a run has done so far (progress reads it). */
export interface Tally {
  /** Random runs finished (counted a chunk at a time), of `planned` (Infinity under a time budget). */
  runs: number;
  planned: number;
  /** Ops stepped, every phase. */
  ops: number;
  /** Properties that failed so far. */
  failures: number;
}

export interface ExecutorOptions {
  /** Worker threads. Default 1: every task in this thread. The CLI's default is the number of cores (defaultWorkers()). */
  readonly workers?: number;
  /** Built-in implementations. Default BUILTINS. Any other registry (a test's mutants) runs in this thread: its factories cannot cross to a worker. */
  readonly registry?: Registry;
  /** Run only this shard of each random phase. Default: the whole run. */
  readonly shard?: Shard;
  /** Stop searching at this time (Date.now()), a time budget. Default none. */
  readonly deadline?: number;
}

/** The number of cores (the CLI's default --workers). */
export const defaultWorkers = (): number => Math.max(1, Math.min(MAX_WORKERS, availableParallelism()));

/** The worker threads' entry module, when it exists (it does in the build, not when running the TypeScript sources). */
const workerEntry = (): URL | undefined => {
  const url = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);
  return url.pathname.endsWith('.js') && existsSync(fileURLToPath(url)) ? url : undefined;
};

export class Executor {
  readonly pool: Pool<CheckTasks, CheckTaskContext>;
  readonly shard: Shard | undefined;
  readonly deadline: number | undefined;
  readonly tally: Tally = { runs: 0, planned: 0, ops: 0, failures: 0 };
  /** The built-in implementations its tasks may make. */
  readonly registry: Registry;
  private readonly impls: ImplCache;

  constructor(o: ExecutorOptions = {}) {
    const registry = (this.registry = o.registry ?? BUILTINS);
    const entry = workerEntry();
    const threads = registry === BUILTINS && entry ? Math.max(1, Math.floor(o.workers ?? 1)) : 1;
    this.impls = new ImplCache(registry);
    this.pool = new Pool<CheckTasks, CheckTaskContext>({
      size: threads, ...(entry ? { entry } : {}), handlers: CHECK_TASKS, context: { registry, impls: this.impls },
      onClose: () => this.impls.closeAll(),
    });
    this.shard = o.shard;
    this.deadline = o.deadline;
  }

  /** Whether the budget has run out. */
  expired(): boolean {
    return this.deadline !== undefined && Date.now() > this.deadline;
  }

  /** Stop the workers and close every implementation made. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
