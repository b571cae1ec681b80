/**
 * External processes: `exec:COMMAND ARGS` runs an implementation as a child process that speaks
 * JSON lines on stdin/stdout (docs/protocol.md). One process serves one Implementation instance
 * for as many traces as it is reset for; it is started on the first reset, restarted at a reset
 * if it has died, and killed after any protocol error, on timeout and on close().
 *
 * Errors: a command that cannot be started (not found, not executable) is an InputError (exit 2).
 * Everything the process does wrong is an ImplementationError (exit 1) naming the request
 * (`reset` or `ops[i]`) and quoting the last lines it printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { BroadcastChannel, isMainThread } from 'node:worker_threads';
import { ImplementationError, InputError } from '../../models/arch/errors.js';
import type { Declaration, Implementation, SnapshotSupport } from '../../models/arch/implementation.js';
import { defaultConfig, type Observation, type Op, type TraceConfig } from '../../models/arch/vocabulary.js';
import { layoutSpec } from '../../models/layouts/load.js';
import { configJson, opJson } from '../trace/format.js';
import { splitCommand } from './argv.js';
import { DEFAULT_TIMEOUT_MS, checkObservation, clip, clipTail, externalDeclaration, oneLine, resolveTimeoutMs, showValue, type ExternalOptions } from './common.js';

/** Lines of stdout and of stderr kept for messages. */
const KEEP_LINES = 3;
/** A line on stdout longer than this is a protocol error (protects memory against a runaway child). */
const MAX_LINE = 1 << 20;
/** After the child exits, how long to wait for its last output to arrive before reporting. */
const EXIT_DRAIN_MS = 200;
/** On close(), how long a child has to exit after SIGTERM before SIGKILL. */
const CLOSE_GRACE_MS = 500;

/**
 * Every live child's process group, killed if nvconform exits without closing it (also on
 * SIGINT, SIGTERM and SIGHUP). A child runs in a process group of its own, so that whatever it
 * forks is killed with it.
 */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Children started in worker threads (a check's workers), by pid, as the workers announce them on
 * CHILDREN_CHANNEL: a worker receives no signals and its exit hook does not run when the process
 * is killed, so the main thread kills their groups too.
 */
const remote = new Set<number>();
const CHILDREN_CHANNEL = 'nvconform:exec-children';
let channel: BroadcastChannel | undefined;
const childrenChannel = (): BroadcastChannel => {
  if (!channel) {
    channel = new BroadcastChannel(CHILDREN_CHANNEL);
    (channel as unknown as { unref(): void }).unref();
  }
  return channel;
};
if (isMainThread) {
  childrenChannel().onmessage = (e: MessageEvent) => {
    const m = e.data as { pid: number; live: boolean };
    if (m.live) {
      remote.add(m.pid);
      installExitHook();
    } else remote.delete(m.pid);
  };
}

function killAll(): void {
  for (const c of live) killGroup(c, 'SIGKILL');
  for (const pid of remote) killPid(pid, 'SIGKILL');
}

/**
 * This process's children that lead a process group of their own, as every child started here
 * does (Linux: read from /proc; elsewhere none, and the announced pids are all there is).
 */
function childGroupLeaders(): number[] {
  if (process.platform !== 'linux') return [];
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const d of entries) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ')'.
      const [, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === process.pid && Number(pgrp) === Number(d)) out.push(Number(d));
    } catch {
      /* it exited meanwhile */
    }
  }
  return out;
}

/**
 * What must stop before the children are killed on a signal: the worker threads, which could
 * otherwise start another child after the kill (a Pool registers its own). Each returns when its
 * threads have stopped.
 */
const stoppers = new Set<() => Promise<unknown>>();

/** Register `stop` to run on SIGINT, SIGTERM or SIGHUP before every child is killed; returns its removal. */
export function stopOnSignal(stop: () => Promise<unknown>): () => void {
  stoppers.add(stop);
  return () => stoppers.delete(stop);
}

/** How long a signal waits for the worker threads to stop before it kills the children anyway. */
const STOP_MS = 1000;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', killAll);
  // Signals reach the main thread only.
  if (!isMainThread) return;
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(sig, () => {
      killAll();
      // Then stop the workers (none can start a child after that), and kill what they started meanwhile.
      const stopped = Promise.allSettled([...stoppers].map((f) => f()));
      void Promise.race([stopped, new Promise((r) => setTimeout(r, STOP_MS).unref())]).then(() => {
        killAll();
        // A worker may have started a child whose pid had not reached this thread yet.
        for (const pid of childGroupLeaders()) killPid(pid, 'SIGKILL');
        process.exit(code);
      });
    });
  }
}

function track(child: ChildProcess): void {
  live.add(child);
  installExitHook();
  if (!isMainThread && child.pid !== undefined) childrenChannel().postMessage({ pid: child.pid, live: true });
}

function untrack(child: ChildProcess): void {
  live.delete(child);
  if (!isMainThread && child.pid !== undefined) childrenChannel().postMessage({ pid: child.pid, live: false });
}

/** Signal the child's whole process group (it and anything it forked); the child alone where there are no groups. */
function killGroup(c: ChildProcess, signal: NodeJS.Signals): void {
  if (c.pid === undefined) return;
  if (process.platform === 'win32') c.kill(signal);
  else killPid(c.pid, signal);
}

/** Signal the process group led by `pid` (a child started by this module runs in a group of its own). */
function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(process.platform === 'win32' ? pid : -pid, signal);
  } catch {
    /* ESRCH: the group is gone */
  }
}

/** Load an `exec:` spec. Starts the process now, so that a command that does not exist is reported at once. */
export async function loadExecImplementation(spec: string, opts: ExternalOptions): Promise<Implementation> {
  const command = spec.slice('exec:'.length).trim();
  const argv = splitCommand(command, spec);
  const impl = new ExecImplementation(spec, argv, opts, resolveTimeoutMs(opts));
  await impl.start();
  return impl;
}

type Answer = { line: string } | { error: ImplementationError };

interface Pending {
  readonly what: string;
  readonly settle: (a: Answer) => void;
}

/** One running child process and the line protocol's low-level state. */
class Child {
  readonly proc: ChildProcess;
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private drained = false;
  private outPartial = '';
  private errPartial = '';
  private readonly outLines: string[] = [];
  private readonly errLines: string[] = [];
  private pending: Pending | undefined;
  /**
   * Lines printed and not yet taken as an answer. The n-th line the process prints is the answer
   * to the n-th request, whenever it arrives: what is reported never depends on timing. A line
   * printed out of turn (before it was asked, or a second line to one request) therefore stands
   * as the answer to the next request, and is reported there, quoted.
   */
  private readonly queue: string[] = [];
  /** What was asked last (for messages). */
  lastAsked = 'start';
  /** Killed by us (after a protocol error, a timeout or on close): never asked again. */
  private killed = false;
  /** It has answered a request: it has started. */
  answered = false;

  constructor(private readonly label: string, argv: readonly string[], env: NodeJS.ProcessEnv) {
    try {
      // detached: a process group of its own (see killGroup); it does not outlive nvconform.
      this.proc = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env, detached: process.platform !== 'win32' });
    } catch (e) {
      throw new InputError(`${label}: cannot start '${argv.join(' ')}': ${(e as Error).message.split('\n')[0]}`);
    }
  }

  /** Wait until the process has started; InputError if it cannot be. */
  async started(command: string): Promise<void> {
    const p = this.proc;
    await new Promise<void>((res, rej) => {
      p.once('spawn', () => res());
      p.once('error', (e: NodeJS.ErrnoException) => {
        const why = e.code === 'ENOENT' ? 'command not found' : e.code === 'EACCES' ? 'permission denied (not executable?)' : e.message;
        rej(new InputError(`${this.label}: cannot start '${command}': ${why}`));
      });
    });
    track(p);
    p.on('error', () => {
      /* reported through 'exit' or the pending request */
    });
    p.stdin!.on('error', () => {
      /* EPIPE when the child has gone: reported through 'exit' */
    });
    p.stdout!.setEncoding('utf8');
    p.stderr!.setEncoding('utf8');
    p.stdout!.on('data', (s: string) => this.onStdout(s));
    p.stderr!.on('data', (s: string) => this.onStderr(s));
    p.once('exit', (code, signal) => {
      this.exited = { code, signal };
      untrack(p);
      // Whatever it forked and left behind goes with it.
      killGroup(p, 'SIGKILL');
      // Let the last output arrive ('close' = all stdio closed), but do not wait for ever.
      const t = setTimeout(() => this.onDrained(), EXIT_DRAIN_MS);
      p.once('close', () => {
        clearTimeout(t);
        this.onDrained();
      });
    });
    // Neither the child nor its pipes keep nvconform alive; a pending request's timer does.
    p.unref();
    for (const s of [p.stdin, p.stdout, p.stderr]) (s as unknown as Partial<Socket> | null)?.unref?.();
  }

  get alive(): boolean {
    return this.exited === undefined && !this.killed;
  }

  private onStdout(s: string): void {
    this.outPartial += s;
    let nl: number;
    while ((nl = this.outPartial.indexOf('\n')) >= 0) {
      const line = this.outPartial.slice(0, nl).replace(/\r$/, '');
      this.outPartial = this.outPartial.slice(nl + 1);
      this.onLine(line);
    }
    if (this.outPartial.length > MAX_LINE && !this.killed) {
      const what = this.pending?.what ?? this.lastAsked;
      this.fail(`printed a line longer than ${MAX_LINE} characters while answering ${what}: ${clip(oneLine(this.outPartial), 60)}`);
      this.kill();
    }
  }

  private onStderr(s: string): void {
    this.errPartial += s;
    let nl: number;
    while ((nl = this.errPartial.indexOf('\n')) >= 0) {
      keep(this.errLines, this.errPartial.slice(0, nl).replace(/\r$/, ''));
      this.errPartial = this.errPartial.slice(nl + 1);
    }
    if (this.errPartial.length > 4096) this.errPartial = this.errPartial.slice(-4096);
  }

  private onLine(line: string): void {
    if (this.killed) return; // late output of a process we gave up on
    const p = this.pending;
    if (p) {
      // Quoted in messages as "last output" only once read as an answer, so that messages do not
      // depend on how far ahead the process has written.
      keep(this.outLines, line);
      this.pending = undefined;
      this.answered = true;
      p.settle({ line });
    } else {
      this.queue.push(line);
    }
  }

  private onDrained(): void {
    if (this.drained) return;
    this.drained = true;
    const e = this.exited!;
    const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
    this.fail(`${how} before answering ${this.pending?.what ?? ''}`);
  }

  /** Fail the pending request, if any, with `msg` and the last output. */
  private fail(msg: string): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    p.settle({ error: new ImplementationError(`${this.label}: ${msg} ${this.lastOutput()}`) });
  }

  /** Send one line and wait for one line back: the next line the process prints, or printed already. */
  ask(message: unknown, what: string, timeoutMs: number): Promise<Answer> {
    this.lastAsked = what;
    const early = this.queue.shift();
    if (early !== undefined) {
      keep(this.outLines, early);
      this.proc.stdin!.write(JSON.stringify(message) + '\n');
      return Promise.resolve({ line: early });
    }
    return new Promise<Answer>((resolve) => {
      const timer = setTimeout(() => {
        if (this.pending !== pending) return;
        this.pending = undefined;
        this.kill();
        resolve({ error: new ImplementationError(`${this.label}: no answer to ${what} within ${timeoutMs} ms ${this.lastOutput()}`) });
      }, timeoutMs);
      const pending: Pending = {
        what,
        settle: (a) => {
          clearTimeout(timer);
          resolve(a);
        },
      };
      this.pending = pending;
      this.proc.stdin!.write(JSON.stringify(message) + '\n');
    });
  }

  /** `(last output: stdout: ... ; stderr: ...)`, the last few lines of each, truncated. */
  lastOutput(): string {
    const part = (lines: readonly string[], partial: string): string => {
      const all = partial.trim() === '' ? lines : [...lines, partial];
      return clipTail(oneLine(all.filter((l) => l.trim() !== '').slice(-KEEP_LINES).join(' | ')), 160);
    };
    // Lines not read yet are quoted once the process has exited (then nothing more can come).
    const read = this.drained ? [...this.outLines, ...this.queue].slice(-KEEP_LINES) : this.outLines;
    const out = part(read, this.drained ? clip(oneLine(this.outPartial), 60) : '');
    const err = part(this.errLines, this.errPartial);
    const parts: string[] = [];
    if (out) parts.push(`stdout: ${out}`);
    if (err) parts.push(`stderr: ${err}`);
    return `(last output: ${parts.length ? parts.join('; ') : 'none'})`;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.killed = true;
    if (this.exited === undefined) killGroup(this.proc, signal);
  }

  /** End stdin, then SIGTERM, then SIGKILL after a grace period, to its whole group; resolves when it has exited. */
  async stop(): Promise<void> {
    if (this.exited !== undefined) return;
    const gone = new Promise<void>((res) => this.proc.once('exit', () => res()));
    this.proc.stdin!.end();
    killGroup(this.proc, 'SIGTERM');
    const t = setTimeout(() => this.kill('SIGKILL'), CLOSE_GRACE_MS);
    await gone;
    clearTimeout(t);
  }
}

function keep(lines: string[], line: string): void {
  lines.push(clip(line, 400));
  if (lines.length > KEEP_LINES) lines.shift();
}

/**
 * A state the process confirmed it saved: under `id`, by the process `child` (a process started
 * afresh has none of its predecessor's), after `index` ops of the trace begun by the last reset.
 */
class SavedState {
  constructor(readonly id: number, readonly child: Child, readonly index: number) {}
}

/** `the state after ops[2]`, `the state after reset`: what a save or restore is about, for messages. */
const stateAfter = (index: number): string => `the state after ${index === 0 ? 'reset' : `ops[${index - 1}]`}`;

class ExecImplementation implements Implementation {
  readonly name: string;
  readonly declaration: Declaration;
  private child: Child | undefined;
  private index = 0;
  private readonly env: NodeJS.ProcessEnv;
  /** The answer of probeSnapshots(), asked once. */
  private probed: Promise<SnapshotSupport> | undefined;
  /** The next save's ID: never reused while nvconform runs. */
  private nextSave = 0;
  /** Present once the process has confirmed a save (probeSnapshots()); absent otherwise. */
  snapshot?: () => Promise<SavedState>;
  restore?: (s: unknown) => Promise<void>;

  constructor(
    private readonly label: string,
    private readonly argv: readonly string[],
    opts: ExternalOptions,
    private readonly timeoutMs: number,
  ) {
    this.name = label;
    // A process reports no per-op hardware detail.
    this.declaration = externalDeclaration('process', opts, false);
    this.env = {
      ...process.env,
      NVCONFORM_LAYOUT: layoutSpec(opts.layout),
      NVCONFORM_HOST_ECV_TRAPS: opts.hostEcvTraps ? '1' : '0',
    };
  }

  /** Start a fresh process (after killing any previous one). */
  async start(): Promise<void> {
    this.child?.kill();
    const c = new Child(this.label, this.argv, this.env);
    this.child = c;
    await c.started(this.argv.join(' '));
  }

  async reset(config: TraceConfig): Promise<void> {
    this.index = 0;
    const fresh = !this.child || !this.child.alive || !this.child.answered;
    if (!this.child || !this.child.alive) await this.start();
    const c = this.child!;
    // The first reset of a process includes its start (an interpreter, under load): it gets at least the default time.
    const answer = await this.request(c, { reset: configJson(config) }, 'reset', fresh ? Math.max(this.timeoutMs, DEFAULT_TIMEOUT_MS) : this.timeoutMs);
    if (isObj(answer) && answer.ready === true && Object.keys(answer).length === 1) return;
    c.kill();
    const why = isObj(answer) && 'irq' in answer ? ' (an observation, out of turn)' : '';
    throw new ImplementationError(`${this.label}: answered reset with ${showValue(answer)}${why}, expected {"ready":true} ${c.lastOutput()}`);
  }

  async step(op: Op): Promise<Observation> {
    const what = `ops[${this.index++}]`;
    const c = this.child;
    if (!c) throw new ImplementationError(`${this.label}: ${what} sent before reset`);
    const answer = await this.request(c, opJson(op), what);
    if (isObj(answer) && 'ready' in answer) {
      c.kill();
      throw new ImplementationError(`${this.label}: answered ${what} with ${showValue(answer)} (out of turn), expected an observation ${c.lastOutput()}`);
    }
    const r = checkObservation(answer);
    if ('ok' in r) return r.ok;
    c.kill();
    throw new ImplementationError(`${this.label}: answered ${what} with ${showValue(answer)}: ${r.problem} ${c.lastOutput()}`);
  }

  /**
   * Ask the process, once, whether it keeps states: a reset (a state to save), then `{"save": 0}`.
   * `{"saved": 0}`: it does, and snapshot()/restore() appear. `{"error": "unsupported"}`: it does
   * not. Anything else (another error, another answer, no answer, an exit) also means it does not,
   * with a note quoting what happened; the process is then killed and started afresh at the next
   * reset, so that nothing it did with the message can affect a trace.
   */
  probeSnapshots(): Promise<SnapshotSupport> {
    this.probed ??= this.probe();
    return this.probed;
  }

  private async probe(): Promise<SnapshotSupport> {
    const note = (why: string): SnapshotSupport => ({ supported: false, note: `${this.label}: no save/restore (${why}); explored by replaying prefixes` });
    try {
      await this.reset(defaultConfig({ features: [] }));
    } catch (e) {
      if (!(e instanceof ImplementationError)) throw e;
      return note(`the reset before the first save failed: ${clip(e.message, 160)}`);
    }
    const c = this.child!;
    const id = this.nextSave++;
    let answer: unknown;
    try {
      answer = await this.request(c, { save: id }, `save ${id}`, this.timeoutMs, false);
    } catch (e) {
      if (!(e instanceof ImplementationError)) throw e;
      c.kill();
      return note(`the first save failed: ${clip(e.message, 160)}`);
    }
    if (isObj(answer) && answer.saved === id && Object.keys(answer).length === 1) {
      this.snapshot = () => this.save();
      this.restore = (s) => this.restoreTo(s);
      return { supported: true };
    }
    if (isObj(answer) && answer.error === 'unsupported' && Object.keys(answer).length === 1) return { supported: false };
    c.kill();
    return note(`answered the first save with ${showValue(answer)}`);
  }

  /** `{"save": ID}`, answered `{"saved": ID}`; anything else is an implementation failure. */
  private async save(): Promise<SavedState> {
    const c = this.child;
    const id = this.nextSave++;
    const what = `save ${id} (${stateAfter(this.index)})`;
    if (!c) throw new ImplementationError(`${this.label}: ${what} asked before reset`);
    const answer = await this.request(c, { save: id }, what);
    if (isObj(answer) && answer.saved === id && Object.keys(answer).length === 1) return new SavedState(id, c, this.index);
    c.kill();
    throw new ImplementationError(`${this.label}: answered ${what} with ${showValue(answer)}, expected {"saved":${id}} ${c.lastOutput()}`);
  }

  /** `{"restore": ID}`, answered `{"restored": ID}`; only a state this process confirmed it saved is asked for. */
  private async restoreTo(s: unknown): Promise<void> {
    if (!(s instanceof SavedState)) throw new Error(`${this.label}: restore() of something that is not a saved state`);
    const what = `restore ${s.id} (${stateAfter(s.index)})`;
    const c = this.child;
    if (c !== s.child || !c.alive) {
      throw new ImplementationError(`${this.label}: cannot ${what}: the process that saved it has ended ${s.child.lastOutput()}`);
    }
    const answer = await this.request(c, { restore: s.id }, what);
    if (isObj(answer) && answer.restored === s.id && Object.keys(answer).length === 1) {
      this.index = s.index;
      return;
    }
    c.kill();
    throw new ImplementationError(`${this.label}: answered ${what} with ${showValue(answer)}, expected {"restored":${s.id}} ${c.lastOutput()}`);
  }

  async close(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    await c?.stop();
  }

  /** Send a request and return the answer decoded from JSON; every failure is an ImplementationError. */
  private async request(c: Child, message: unknown, what: string, timeoutMs = this.timeoutMs, errorFails = true): Promise<unknown> {
    if (!c.alive) {
      const e = c.exited;
      const how = e?.signal ? `was killed by ${e.signal}` : e ? `exited with code ${e.code}` : 'is not running';
      throw new ImplementationError(`${this.label}: ${how} before ${what} ${c.lastOutput()}`);
    }
    const a = await c.ask(message, what, timeoutMs);
    if ('error' in a) throw a.error;
    let v: unknown;
    try {
      v = JSON.parse(a.line);
    } catch {
      c.kill();
      throw new ImplementationError(`${this.label}: answered ${what} with a line that is not JSON: ${JSON.stringify(clip(oneLine(a.line), 60))} ${c.lastOutput()}`);
    }
    if (errorFails && isObj(v) && 'error' in v && Object.keys(v).length === 1) {
      c.kill();
      throw new ImplementationError(`${this.label}: reported an error at ${what}: ${clip(oneLine(String(v.error)), 160)}`);
    }
    return v;
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
