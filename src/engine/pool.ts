/**
 * A pool of worker threads that run named tasks, or the same tasks in this thread (`size` 1, or a
 * caller whose implementations cannot cross a thread: see src/check/executor.ts). A task is a
 * pure function of its input (structured-cloneable data in, data out): which worker runs it, and
 * when, changes nothing in its result, so a caller that merges results in a fixed order gets the
 * same answer whatever the pool's size (docs/architecture.md, "Workers and shards").
 *
 * The pool knows nothing about what the tasks do: the caller names the module a worker starts
 * (which calls `serveTasks` with its handlers) and gives the same handlers for the in-thread case.
 * Tasks queue first in, first out. A queued task can be cancelled (it never starts); a running
 * one sees its cancellation through `TaskContext.cancelled()` (a flag in shared memory, so a
 * worker busy in a synchronous loop sees it at once).
 */
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { ImplementationError, InputError, NvcError } from '../../models/arch/errors.js';
import { stopOnSignal } from '../plugins/exec.js';

/** What a running task can ask of the pool. */
export interface TaskContext {
  /** True once the caller has cancelled this task (its result will be ignored): stop early. */
  cancelled(): boolean;
  /** The last value the caller signalled to this task (Pending.signal), if any: a limit the task reads as it goes. */
  signal(): number | undefined;
}

/** Task handlers by kind. Each takes its input and a context; `X` is what the pool's user adds to the context (in-thread only). */
export type Handlers<X> = Record<string, (input: never, ctx: TaskContext & X) => unknown>;

type In<H, K extends keyof H> = H[K] extends (input: infer I, ctx: never) => unknown ? I : never;
type Out<H, K extends keyof H> = H[K] extends (...a: never[]) => infer O ? Awaited<O> : never;

/** A task's handle: its result, and a way to say it is no longer wanted. */
export interface Pending<T> {
  readonly result: Promise<T>;
  cancel(): void;
  /** Tell the task a number (it reads the last one with TaskContext.signal()), queued or running. */
  signal(value: number): void;
}

/** An error as it crosses a thread: its class (for the exit status), message and stack. */
export interface WireError {
  readonly cls: 'InputError' | 'ImplementationError' | 'NvcError' | 'Error';
  readonly name: string;
  readonly message: string;
  readonly exitCode?: 1 | 2;
  readonly stack?: string;
}

export function toWireError(e: unknown): WireError {
  if (e instanceof NvcError) {
    const cls = e instanceof InputError ? 'InputError' : e instanceof ImplementationError ? 'ImplementationError' : 'NvcError';
    return { cls, name: e.name, message: e.message, exitCode: e.exitCode, ...(e.stack ? { stack: e.stack } : {}) };
  }
  if (e instanceof Error) return { cls: 'Error', name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) };
  return { cls: 'Error', name: 'Error', message: `non-error thrown: ${String(e)}` };
}

/** The error again, of its class: an NvcError keeps its exit status; anything else stays nvconform's own failure. */
export function fromWireError(w: WireError): Error {
  let e: Error;
  switch (w.cls) {
    case 'InputError': e = new InputError(w.message); break;
    case 'ImplementationError': e = new ImplementationError(w.message, w.exitCode ?? 1); break;
    case 'NvcError': e = new NvcError(w.message, w.exitCode ?? 2); break;
    case 'Error': e = new Error(w.message); e.name = w.name; break;
  }
  if (w.stack) e.stack = w.stack;
  return e;
}

interface Job {
  readonly id: number;
  readonly kind: string;
  readonly input: unknown;
  cancelled: boolean;
  signal: number;
  /** The worker running it, once started. */
  slot?: number;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

type Reply = { id: number; ok: unknown } | { id: number; error: WireError };

export interface PoolOptions<X> {
  /** Worker threads; 1 runs every task in this thread. */
  readonly size: number;
  /** The module a worker runs (it calls serveTasks); needed when size > 1. */
  readonly entry?: URL;
  /** The handlers, for tasks run in this thread. */
  readonly handlers: Handlers<X>;
  /** What the in-thread handlers get in their context besides `cancelled`. */
  readonly context: X;
  /** Passed to every worker as `workerData.data`. Default none. */
  readonly workerData?: unknown;
  /** Run by close() in this thread, after the workers have stopped (what the in-thread handlers opened). Default none. */
  readonly onClose?: () => Promise<void>;
}

/** How long close() lets a worker close its implementations. */
const CLOSE_MS = 5000;

/** The most worker threads a pool starts. */
export const MAX_WORKERS = 64;

export class Pool<H extends Handlers<X>, X = object> {
  readonly size: number;
  private readonly queue: Job[] = [];
  private nextId = 1;
  private readonly workers: (Worker | undefined)[] = [];
  private readonly running: (Job | undefined)[] = [];
  /** Per worker, in memory the workers share: [cancelled, signal] of the task it runs. */
  private readonly flags: Int32Array;
  private localBusy = false;
  private closed = false;
  private broken: Error | undefined;

  constructor(private readonly o: PoolOptions<X>) {
    this.size = Math.max(1, Math.min(MAX_WORKERS, o.size));
    this.flags = new Int32Array(new SharedArrayBuffer(8 * this.size));
  }

  /** Whether tasks run in worker threads (else in this one). */
  get threaded(): boolean {
    return this.size > 1;
  }

  /** Queue a task. */
  submit<K extends keyof H & string>(kind: K, input: In<H, K>): Pending<Out<H, K>> {
    let job!: Job;
    const result = new Promise<Out<H, K>>((resolve, reject) => {
      job = { id: this.nextId++, kind, input, cancelled: false, signal: NO_SIGNAL, resolve: resolve, reject };
    });
    if (this.closed) job.reject(new Error('pool: task submitted after close'));
    else if (this.broken) job.reject(this.broken);
    else {
      this.queue.push(job);
      this.pump();
    }
    return {
      result,
      cancel: () => {
        if (job.cancelled) return;
        job.cancelled = true;
        // Nobody waits for a cancelled task: its rejection (CancelledError) is not an error.
        result.catch(() => undefined);
        if (this.runsOn(job)) Atomics.store(this.flags, 2 * job.slot!, 1);
      },
      signal: (value: number) => {
        job.signal = value;
        if (this.runsOn(job)) Atomics.store(this.flags, 2 * job.slot! + 1, value);
      },
    };
  }

  /**
   * Whether `job` is running on a worker now: only then are its slot's flags its own (a job that
   * has finished leaves its slot to the next, whose flags a late cancel must not touch).
   */
  private runsOn(job: Job): boolean {
    return this.threaded && job.slot !== undefined && this.running[job.slot] === job;
  }

  /** Run a task and wait for its result. */
  run<K extends keyof H & string>(kind: K, input: In<H, K>): Promise<Out<H, K>> {
    return this.submit(kind, input).result;
  }

  /**
   * Stop the workers; tasks still queued are rejected. Each worker first runs its close hook
   * (serveTasks' `onClose`: its implementations' processes end), for at most CLOSE_MS.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new Error('pool: closed'));
    await Promise.all(this.workers.map(async (w) => {
      if (!w) return;
      w.ref();
      await new Promise<void>((res) => {
        const timer = setTimeout(res, CLOSE_MS);
        w.on('message', (m: { closed?: boolean }) => {
          if (m.closed) {
            clearTimeout(timer);
            res();
          }
        });
        w.postMessage({ close: true });
      });
      await w.terminate();
    }));
    await this.o.onClose?.();
  }

  private pump(): void {
    if (this.threaded) {
      for (let slot = 0; slot < this.size && this.queue.length; slot++) if (!this.running[slot]) this.startOn(slot);
    } else if (!this.localBusy && this.queue.length) {
      this.localBusy = true;
      // One task per turn of the event loop: timers (progress, a deadline) run between tasks, and a
      // caller that cancels the rest on a result does so before the next one starts.
      setImmediate(() => this.runLocal());
    }
  }

  private nextJob(): Job | undefined {
    for (;;) {
      const j = this.queue.shift();
      if (!j) return undefined;
      if (!j.cancelled) return j;
      j.reject(new CancelledError());
    }
  }

  private runLocal(): void {
    const job = this.nextJob();
    if (!job) {
      this.localBusy = false;
      return;
    }
    const ctx = { ...this.o.context, cancelled: () => job.cancelled, signal: () => (job.signal === NO_SIGNAL ? undefined : job.signal) };
    const done = (): void => {
      this.localBusy = false;
      this.pump();
    };
    try {
      const handler = this.o.handlers[job.kind] as (i: unknown, c: TaskContext & X) => unknown;
      const r = handler(job.input, ctx);
      if (isPromise(r)) r.then((v) => { job.resolve(v); done(); }, (e: unknown) => { job.reject(e); done(); });
      else {
        job.resolve(r);
        done();
      }
    } catch (e) {
      job.reject(e);
      done();
    }
  }

  private worker(slot: number): Worker {
    const have = this.workers[slot];
    if (have) return have;
    if (!this.o.entry) throw new Error('pool: no worker entry module');
    const w = new Worker(this.o.entry, { workerData: { flags: this.flags, slot, data: this.o.workerData } });
    w.on('message', (m: Reply) => this.onReply(slot, m));
    w.on('error', (e: Error) => this.fail(new Error(`worker ${slot} failed: ${e.stack ?? e.message}`)));
    // On a signal, nvconform stops its workers before it kills their implementations' processes (src/plugins/exec.ts).
    const unregister = stopOnSignal(() => {
      this.closed = true;
      return w.terminate();
    });
    w.on('exit', (code) => {
      unregister();
      if (!this.closed) this.fail(new Error(`worker ${slot} exited (code ${code}) while the pool was open`));
    });
    this.workers[slot] = w;
    return w;
  }

  private startOn(slot: number): void {
    const job = this.nextJob();
    if (!job) return;
    job.slot = slot;
    this.running[slot] = job;
    Atomics.store(this.flags, 2 * slot, 0);
    Atomics.store(this.flags, 2 * slot + 1, job.signal);
    const w = this.worker(slot);
    // A busy worker keeps nvconform alive; an idle one does not.
    w.ref();
    w.postMessage({ id: job.id, kind: job.kind, input: job.input });
  }

  private onReply(slot: number, m: Reply): void {
    const job = this.running[slot];
    if (!job || job.id !== m.id) return;
    this.running[slot] = undefined;
    this.workers[slot]?.unref();
    if ('error' in m) job.reject(fromWireError(m.error));
    else job.resolve(m.ok);
    this.pump();
  }

  /** A worker died: nvconform's own failure, for every task pending and every later one. */
  private fail(e: Error): void {
    if (this.broken) return;
    this.broken = e;
    for (const j of [...this.running, ...this.queue.splice(0)]) j?.reject(e);
    this.running.length = 0;
  }
}

/** The rejection of a task cancelled before it started. */
export class CancelledError extends Error {
  constructor() {
    super('task cancelled');
    this.name = 'CancelledError';
  }
}

/** No value signalled. */
const NO_SIGNAL = -0x80000000;

const isPromise = (x: unknown): x is Promise<unknown> => typeof (x as { then?: unknown } | null)?.then === 'function';

/**
 * In a worker started by a Pool: answer tasks with `handlers` until the pool terminates the thread.
 * `context` is built once per worker from the pool's workerData (the task-specific part of the context).
 */
export function serveTasks<X>(handlers: Handlers<X>, context: (data: unknown) => X, onClose?: (ctx: X) => Promise<void>): void {
  const port = parentPort;
  if (!port) throw new Error('serveTasks: not in a worker thread');
  const { flags, slot, data } = workerData as { flags: Int32Array; slot: number; data: unknown };
  const base = context(data);
  const ctx = {
    ...base,
    cancelled: () => Atomics.load(flags, 2 * slot) === 1,
    signal: () => {
      const v = Atomics.load(flags, 2 * slot + 1);
      return v === NO_SIGNAL ? undefined : v;
    },
  };
  port.on('message', (m: { id: number; kind: string; input: unknown; close?: boolean }) => {
    if (m.close) {
      void (onClose ? onClose(base) : Promise.resolve()).catch(() => undefined).then(() => port.postMessage({ closed: true }));
      return;
    }
    const reply = (r: { ok: unknown } | { error: WireError }): void => {
      try {
        port.postMessage({ id: m.id, ...r });
      } catch (e) {
        port.postMessage({ id: m.id, error: toWireError(new Error(`task ${m.kind}: its result cannot be passed between threads: ${(e as Error).message}`)) });
      }
    };
    try {
      const h = handlers[m.kind] as ((i: unknown, c: typeof ctx) => unknown) | undefined;
      if (!h) throw new Error(`unknown task kind ${m.kind}`);
      const r = h(m.input, ctx);
      if (isPromise(r)) r.then((ok) => reply({ ok }), (e: unknown) => reply({ error: toWireError(e) }));
      else reply({ ok: r });
    } catch (e) {
      reply({ error: toWireError(e) });
    }
  });
}
