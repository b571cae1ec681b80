/**
 * The nvconform command line (src/cli/main.ts runs it). Exit statuses: 0 pass; 1 a
 * counterexample, or an implementation that misbehaved (with a report on stdout); 2 bad input or
 * usage (one line on stderr); 3 an internal error of nvconform (one line and a crash report file).
 */
import { Command, CommanderError, InvalidArgumentError, Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { InputError, NvcError } from '../../models/arch/errors.js';
import { checkOutPath, loadTrace } from './io.js';
import { isToken } from '../trace/token.js';
import { BUILTINS } from '../engine/registry.js';
import { runCommand } from './run.js';
import { checkCommand, hostFromToken, layoutFromToken, replayCommand, suiteCommand } from './check.js';
import { exploreCommand, layoutsCommand } from './layouts.js';
import { reportFlags, withCiReports, withHtml, withQuietTiming } from './reports.js';
import { DEFAULT_CHECK_OPTIONS, DEFAULT_DEPTH, DEFAULT_REPLAY_DEPTH } from '../check/check.js';
import { isPropertyName, PROPERTY_NAMES, type PropertyName } from '../../properties/index.js';
import { REGISTER_NAMES } from '../../models/arch/registers.js';
import { counterOffsetOption, hostCpuOption, hostOption, hostOptionsOf, vocabularyOption } from './host-options.js';
import type { Registry } from '../engine/registry.js';
import { EXIT_INTERNAL, internalErrorLine, noteArgv, noteInputs, packageVersion } from './crash.js';
import { executorOf, mergeShards, shardOption, startProgress, timeOption, workersOption } from './scale.js';
import { xcheckQemuCommand, xcheckRoutingCommand } from '../xcheck/command.js';

/** What a caller (a test) may replace: the built-in implementations. */
export interface ProgramDeps {
  readonly registry?: Registry;
}

export const EXIT_STATUS_HELP = `
Exit status:
  0  pass: every property holds (for a suite: every verdict as expected; for run: the trace ran)
  1  a counterexample, or an implementation that misbehaved (crashed, hung, broke the protocol,
     or disagreed with the observations in the trace); the report is on stdout
  2  bad input or usage: one line on stderr, 'nvconform: ...', saying what and where
  3  an internal error of nvconform: one line on stderr with the path of a crash report
     ($NVCONFORM_CRASH_DIR, else the temporary directory); please report it
`;

/** Was option `key` (its attribute name) given on the command line? */
const given = (cmd: CommandUnknownOpts, key: string): boolean => cmd.getOptionValueSource(key) === 'cli';

/**
 * Nothing on a command line is silently ignored: an option that takes a value may be given once
 * (a second --runs used to win silently), and a flag and its --no- form contradict each other.
 * Both are usage errors (exit 2), reported as the options are parsed.
 */
function strictOptions(cmd: CommandUnknownOpts, repeatable: readonly string[] = []): void {
  const seen = new Map<string, string>();
  // The command as the user typed it: `xcheck qemu`, not `qemu`.
  const where = [cmd.parent?.parent ? cmd.parent.name() : undefined, cmd.name()].filter((x) => x !== undefined).join(' ');
  for (const opt of cmd.options) {
    const name = opt.name();
    const flag = opt.long ?? `--${name}`;
    if ((opt.required || opt.optional) && !repeatable.includes(name)) {
      cmd.on(`option:${name}`, (v: string) => {
        const before = seen.get(name);
        if (before !== undefined) throw new InputError(`${where}: ${flag} given twice (${before}, then ${v}); give it once`);
        seen.set(name, v);
      });
    } else if (!opt.required && !opt.optional) {
      const base = opt.negate ? name.slice('no-'.length) : name;
      const other = opt.negate ? base : `no-${base}`;
      cmd.on(`option:${name}`, () => {
        seen.set(name, '');
        if (seen.has(other) && cmd.options.some((x) => x.name() === other)) {
          throw new InputError(`${where}: --${base} and --no-${base} contradict each other; give one`);
        }
      });
    }
  }
}

/** A usage error for an option that does not apply where it was given. */
function notHere(command: string, flag: string, why: string): never {
  throw new InputError(`${command}: ${flag} does not apply ${why}`);
}


function positiveInt(flag: string) {
  return (v: string): number => {
    if (!/^[0-9]+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) throw new InvalidArgumentError(`${flag} expects a positive integer`);
    return Number(v);
  };
}
function natInt(flag: string) {
  return (v: string): number => {
    if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(Number(v)) || Number(v) > 32) throw new InvalidArgumentError(`${flag} expects a whole number from 0 to 32`);
    return Number(v);
  };
}
function collectRegister(v: string, prev: string[] | undefined): string[] {
  if (!REGISTER_NAMES.includes(v)) throw new InvalidArgumentError(`--exclude: unknown register '${v}' (known: ${REGISTER_NAMES.join(', ')})`);
  return [...(prev ?? []), v];
}
function seedInt(v: string): number {
  if (!/^-?[0-9]+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new InvalidArgumentError('--seed expects an integer');
  return Number(v) | 0;
}
function collectProperty(v: string, prev: PropertyName[] | undefined): PropertyName[] {
  if (!isPropertyName(v)) throw new InvalidArgumentError(`unknown property '${v}' (known: ${PROPERTY_NAMES.join(', ')})`);
  return [...(prev ?? []), v];
}

export function buildProgram(out: (s: string) => void | Promise<void>, deps: ProgramDeps = {}): Command {
  const registry = deps.registry ? { registry: deps.registry } : {};
  const program = new Command()
    .name('nvconform')
    .description('Conformance checker for Arm FEAT_NV2 nested virtualization of the generic timer')
    .version(packageVersion())
    .addHelpText('after', EXIT_STATUS_HELP)
    .exitOverride()
    .showSuggestionAfterError(false)
    .configureOutput({ writeOut: (s) => void out(s), writeErr: (s) => process.stderr.write(s) });

  const run = withHtml(program
    .command('run')
    .description('execute one trace (file or replay token) on a model and print every op with its observation; compare with the trace\'s own observations, if it has any')
    .argument('<trace>', 'trace file (nvconform-trace/1 JSON) or replay token')
    .addOption(new Option('--model <name>', 'reference, nv2, nv, a plug-in module path or exec:COMMAND (default reference)'))
    .addOption(new Option('--impl <name>', 'alias of --model').hideHelp())
    .option('--layout <name|file>', 'implementations: VNCR layout, catalogue name or file (default: a token\'s, else architected)')
    .option('--host-ecv-traps', 'implementations: the physical CPU has FEAT_ECV and the host uses its traps (default: a token\'s, else off)')
    .option('--no-host-ecv-traps', 'implementations: the host does not use ECV traps')
    .addOption(hostOption()).addOption(hostCpuOption()).addOption(counterOffsetOption())
    .option('--timeout <ms>', 'external implementations: per-op answer timeout (default 5000)', positiveInt('--timeout'))
    .option('--verbose', 'show what the hardware did and which VNCR slots changed')
    .option('--json', 'print the trace document with observations filled in'))
    .exitOverride()
    .action(async (file, o, cmd) => {
      noteInputs({ command: 'run', trace: file, options: o });
      const reports = reportFlags('run', o);
      if (given(cmd, 'model') && given(cmd, 'impl')) throw new InputError('run: --impl is an alias of --model; give one');
      const model = o.model ?? o.impl ?? 'reference';
      if (o.json && o.verbose) notHere('run', '--verbose', 'with --json (the trace document holds the observations only)');
      if (model === 'reference') {
        for (const [key, flag] of [['layout', '--layout'], ['hostEcvTraps', '--host-ecv-traps'], ['timeout', '--timeout'], ['host', '--host'], ['hostCpu', '--host-cpu'], ['hostCounterOffset', '--host-counter-offset']] as const) {
          if (given(cmd, key)) notHere('run', flag === '--host-ecv-traps' && o.hostEcvTraps === false ? '--no-host-ecv-traps' : flag, 'to the reference model (it is the architecture: no VNCR page, no host); name an implementation with --model');
        }
      } else if (given(cmd, 'timeout') && (deps.registry ?? BUILTINS).has(model)) {
        notHere('run', '--timeout', `to the built-in '${model}' (it applies to external implementations: a module or exec:COMMAND)`);
      }
      const trace = loadTrace(file);
      // A token's implementation options apply unless overridden (its implementation does not: tokens are data).
      const x = ('extra' in trace && trace.extra ? trace.extra : {}) as Record<string, unknown>;
      const host = hostOptionsOf(o) ?? hostFromToken(x.host);
      const impl = {
        layout: o.layout ?? layoutFromToken(x.layout) ?? 'architected',
        hostEcvTraps: o.hostEcvTraps ?? (x.hostEcvTraps === true),
        ...(o.timeout !== undefined ? { timeoutMs: o.timeout } : {}),
        ...(host ? { host } : {}),
      };
      const res = await runCommand(trace, { model, impl, verbose: !!o.verbose, json: !!o.json, source: isToken(file) ? 'the token' : file, reports, ...registry }, out);
      if (res.message) process.stderr.write(`nvconform: ${res.message.split('\n')[0]}\n`);
      process.exitCode = res.code;
    });
  strictOptions(run);

  const check = withQuietTiming(withCiReports(withHtml(program
    .command('check')
    .description('generate guest behaviour, run the reference and an implementation side by side, shrink failures; with no implementation options, run the default suite')
    .option('--impl <spec>', 'implementation: nv2, nv, a plug-in module path, or exec:COMMAND (default nv2)')
    .option('--layout <name|file>', 'VNCR layout: catalogue name or file (default architected)')
    .addOption(new Option('--guest <mode>', 'pin the guest hypervisor mode (default: both)').choices(['vhe', 'nvhe'] as const))
    .option('--ecv', 'the virtual CPU has FEAT_ECV (default: with and without)')
    .option('--no-ecv', 'the virtual CPU has no FEAT_ECV')
    .option('--host-ecv-traps', 'the physical CPU has FEAT_ECV and the host uses its traps')
    .addOption(hostOption()).addOption(hostCpuOption()).addOption(counterOffsetOption())
    .option('--runs <n>', `generated traces per property (default ${DEFAULT_CHECK_OPTIONS.runs})`, positiveInt('--runs'))
    .option('--seed <n>', `fast-check seed (default ${DEFAULT_CHECK_OPTIONS.seed})`, seedInt)
    .option('--max-ops <n>', `longest generated trace (default ${DEFAULT_CHECK_OPTIONS.maxOps})`, positiveInt('--max-ops'))
    .option('--property <name>', `property to check, repeatable: ${PROPERTY_NAMES.join(', ')} (default all)`, collectProperty)
    .option('--depth <k>', `exhaustive phase: every trace of at most K ops over the alphabet, then the random phase; 0 skips it (default ${DEFAULT_DEPTH}; ${DEFAULT_REPLAY_DEPTH} for an implementation without snapshots or save/restore, explored by replaying prefixes)`, natInt('--depth'))
    .option('--exclude <register>', 'no generated or enumerated trace touches this register (to look past a known divergence), repeatable', collectRegister)
    .addOption(vocabularyOption())
    .option('--stats', 'print what the exhaustive and random phases covered')
    .option('--json', 'print one JSON document')
    .option('--out <file>', 'write each counterexample: the first to FILE (expected observations) and FILE.observed.json (the implementation\'s, .json replaced), the n-th to FILE.n (ce.json: ce.2.json); says what it wrote')
    .option('--timeout <ms>', 'external implementations: per-op answer timeout (default 5000)', positiveInt('--timeout'))
    .option('--suite <file>', 'run a suite file (default: the shipped default suite when no implementation option is given)')
    .addOption(workersOption()).addOption(shardOption()).addOption(timeOption()))))
    .exitOverride()
    .action(async (o, cmd) => {
      noteInputs({ command: 'check', seed: o.seed ?? DEFAULT_CHECK_OPTIONS.seed, options: o });
      const configuration = [
        ['impl', '--impl'], ['layout', '--layout'], ['guest', '--guest'], ['ecv', o.ecv === false ? '--no-ecv' : '--ecv'], ['hostEcvTraps', '--host-ecv-traps'], ['property', '--property'],
        ['host', '--host'], ['hostCpu', '--host-cpu'], ['hostCounterOffset', '--host-counter-offset'], ['exclude', '--exclude'], ['vocabulary', '--vocabulary'],
      ] as const;
      if (o.suite !== undefined) {
        for (const [key, flag] of [...configuration, ['timeout', '--timeout'] as const]) {
          if (given(cmd, key)) notHere('check', flag, 'with --suite: each suite entry names its own implementation, layout, host, guest, FEAT_ECV and property');
        }
      }
      const single = o.suite === undefined && configuration.some(([key]) => given(cmd, key));
      if (!single) {
        if (given(cmd, 'timeout')) notHere('check', '--timeout', `to ${o.suite === undefined ? 'the default suite (run when no implementation option is given)' : 'a suite'}: it applies to external implementations (--impl MODULE or exec:COMMAND)`);
      } else if (given(cmd, 'timeout') && (deps.registry ?? BUILTINS).has(o.impl ?? DEFAULT_CHECK_OPTIONS.impl)) {
        notHere('check', '--timeout', `to the built-in '${o.impl ?? DEFAULT_CHECK_OPTIONS.impl}' (it applies to external implementations: a module or exec:COMMAND)`);
      }
      if (o.out !== undefined) checkOutPath(o.out);
      const reports = reportFlags('check', o);
      // A time budget searches until it runs out (and counts coverage, to say what it covered), or until --runs if given.
      const timed = o.time !== undefined;
      const executor = executorOf(o, deps.registry);
      const base = { reports,
        runs: o.runs ?? (timed ? Infinity : DEFAULT_CHECK_OPTIONS.runs), seed: o.seed ?? DEFAULT_CHECK_OPTIONS.seed, maxOps: o.maxOps ?? DEFAULT_CHECK_OPTIONS.maxOps, stats: !!o.stats || timed, json: !!o.json,
        ...(o.out ? { out: o.out } : {}), ...(o.depth !== undefined ? { depth: o.depth } : {}),
        executor, ...(o.shard ? { shard: o.shard } : {}), ...(timed ? { budgetMs: o.time } : {}),
      };
      const host = hostOptionsOf(o);
      const stopProgress = startProgress(executor, { json: !!o.json });
      const res = await (single
        ? checkCommand({
          ...base, impl: o.impl ?? DEFAULT_CHECK_OPTIONS.impl, layout: o.layout ?? 'architected', hostEcvTraps: !!o.hostEcvTraps,
          properties: o.property ?? PROPERTY_NAMES, ...registry, ...(o.guest ? { guest: o.guest } : {}), ...(o.timeout !== undefined ? { timeoutMs: o.timeout } : {}), ...(o.ecv !== undefined ? { ecv: o.ecv } : {}),
          ...(host ? { host } : {}), ...(o.exclude ? { exclude: o.exclude } : {}), ...(o.vocabulary !== undefined ? { vocabulary: o.vocabulary } : {}),
        })
        : suiteCommand(o.suite, { ...base, ...registry })).finally(async () => {
        stopProgress();
        await executor.close();
      });
      await out(res.text);
      process.exitCode = res.code;
    });
  strictOptions(check, ['property', 'exclude']);

  const replay = withQuietTiming(withCiReports(withHtml(program
    .command('replay')
    .description('re-run a counterexample from its replay token (or a trace file) and show where it fails')
    .argument('<token|file>', 'replay token (nvc1:...) or trace file')
    .option('--impl <spec>', 'implementation (default: the token\'s if it is built in, else nv2; a token never runs a module or process you did not name)')
    .option('--layout <name|file>', 'VNCR layout (default: the token\'s, else architected)')
    .option('--host-ecv-traps', 'the physical CPU has FEAT_ECV and the host uses its traps (default: the token\'s, else off)')
    .option('--no-host-ecv-traps', 'the host does not use ECV traps')
    .addOption(hostOption()).addOption(hostCpuOption()).addOption(counterOffsetOption())
    .option('--property <name>', 'property to judge, repeatable (default: the token\'s, else all)', collectProperty)
    .option('--timeout <ms>', 'external implementations: per-op answer timeout (default 5000)', positiveInt('--timeout'))
    .option('--json', 'print one JSON document'))))
    .exitOverride()
    .action(async (arg, o, cmd) => {
      noteInputs({ command: 'replay', trace: arg, options: o });
      if (given(cmd, 'timeout') && (o.impl === undefined || (deps.registry ?? BUILTINS).has(o.impl))) {
        notHere('replay', '--timeout', `to ${o.impl === undefined ? 'a built-in implementation (replay runs the built-ins unless you name one with --impl)' : `the built-in '${o.impl}'`}; it applies to external implementations (a module or exec:COMMAND)`);
      }
      const res = await replayCommand(arg, {
        json: !!o.json, reports: reportFlags('replay', o), ...(o.impl ? { impl: o.impl } : {}), ...(o.layout ? { layout: o.layout } : {}),
        ...(o.hostEcvTraps !== undefined ? { hostEcvTraps: o.hostEcvTraps } : {}), ...(o.property ? { properties: o.property } : {}),
        ...(o.timeout !== undefined ? { timeoutMs: o.timeout } : {}), ...registry, ...(hostOptionsOf(o) ? { host: hostOptionsOf(o) } : {}),
      });
      await out(res.text);
      process.exitCode = res.code;
    });
  strictOptions(replay, ['property']);

  const layouts = withQuietTiming(withHtml(program
    .command('layouts')
    .description('judge every catalogue layout and each layout FILE in both guest modes: verdicts, minimal counterexample, trap cost; --explore searches all slot subsets')
    .argument('[files...]', 'layout files (JSON or YAML, nvconform-layout/1)')
    .option('--explore', 'check every subset of the registers that may take a slot; report the maximal conformant sets')
    .addOption(new Option('--guest <mode>', 'only this guest hypervisor mode (default: both)').choices(['vhe', 'nvhe'] as const))
    .option('--host-ecv-traps', 'the physical CPU has FEAT_ECV and the host uses its traps')
    .addOption(hostOption()).addOption(hostCpuOption()).addOption(counterOffsetOption())
    .option('--runs <n>', `generated traces per contract (default ${DEFAULT_CHECK_OPTIONS.runs})`, positiveInt('--runs'))
    .option('--seed <n>', `fast-check seed (default ${DEFAULT_CHECK_OPTIONS.seed})`, seedInt)
    .option('--max-ops <n>', `longest generated trace (default ${DEFAULT_CHECK_OPTIONS.maxOps})`, positiveInt('--max-ops'))
    .option('--ecv', 'judge a virtual CPU with FEAT_ECV only (default: with and without)')
    .option('--no-ecv', 'judge a virtual CPU without FEAT_ECV only')
    .option('--depth <k>', `exhaustive phase depth per layout (default ${DEFAULT_DEPTH})`, natInt('--depth'))
    .option('--json', 'print one JSON document')
    .addOption(workersOption()).addOption(shardOption()).addOption(timeOption())))
    .exitOverride()
    .action(async (files, o) => {
      noteInputs({ command: 'layouts', files, seed: o.seed ?? DEFAULT_CHECK_OPTIONS.seed, options: o });
      if (o.explore && o.shard) notHere('layouts', '--shard', 'with --explore: the explorer picks each subset from the verdicts before it, so its shards could not be put together; use --workers');
      const opts = { reports: reportFlags('layouts', o),
        hostEcvTraps: !!o.hostEcvTraps, runs: o.runs ?? DEFAULT_CHECK_OPTIONS.runs, seed: o.seed ?? DEFAULT_CHECK_OPTIONS.seed,
        maxOps: o.maxOps ?? DEFAULT_CHECK_OPTIONS.maxOps, guests: o.guest ? [o.guest] : (['vhe', 'nvhe'] as const), json: !!o.json,
        ...(o.ecv !== undefined ? { ecv: o.ecv } : {}), ...(o.depth !== undefined ? { depth: o.depth } : {}),
        ...(hostOptionsOf(o) ? { host: hostOptionsOf(o) } : {}),
      };
      if (o.explore && files.length) throw new InputError('layouts: --explore takes no layout files (it builds its own)');
      const executor = executorOf(o, deps.registry);
      const stopProgress = startProgress(executor, { json: !!o.json });
      const res = await (o.explore ? exploreCommand({ ...opts, executor }) : layoutsCommand(files, { ...opts, executor })).finally(async () => {
        stopProgress();
        await executor.close();
      });
      await out(res.text);
      process.exitCode = res.code;
    });
  strictOptions(layouts);

  const merge = program
    .command('merge')
    .description('put the --json outputs of every shard of one check run (--shard I/N) together: the unsharded run\'s verdicts, as one JSON document')
    .argument('<files...>', 'the shards\' --json outputs, one per shard')
    .exitOverride()
    .action(async (files) => {
      noteInputs({ command: 'merge', files });
      const r = mergeShards(files);
      await out(JSON.stringify(r.doc, null, 2) + '\n');
      process.exitCode = r.code;
    });
  strictOptions(merge);

  const xcheck = program
    .command('xcheck')
    .description('cross-check against QEMU 10 (scripts/setup-qemu.sh installs it): generated traces run at real EL2/EL1, and the NV2 routing table (docs/qemu-crosscheck.md)')
    .exitOverride();
  const xqemu = xcheck
    .command('qemu')
    .description('run generated traces in QEMU under -icount, compare op by op with the reference on the rebuilt traces, explain or shrink every disagreement')
    .option('--runs <n>', 'generated traces (default 1000)', positiveInt('--runs'))
    .option('--seed <n>', `fast-check seed (default ${DEFAULT_CHECK_OPTIONS.seed})`, seedInt)
    .addOption(new Option('--guest <mode>', 'pin the guest hypervisor mode (default: both)').choices(['vhe', 'nvhe'] as const))
    .option('--ecv', 'the virtual CPU has FEAT_ECV (default: with and without)')
    .option('--no-ecv', 'the virtual CPU has no FEAT_ECV')
    .option('--max-ops <n>', `longest generated trace (default ${DEFAULT_CHECK_OPTIONS.maxOps})`, positiveInt('--max-ops'))
    .option('--qemu <path>', 'the qemu-system-aarch64 to run (default: the first QEMU 10 on PATH)')
    .option('--routing', 'also print the NV2 routing table (as `xcheck routing`)')
    .option('--shrink-known', 'also shrink one example of each known QEMU behaviour')
    .option('--replay <token|file>', 'run one trace (an xcheck replay token or a trace file) in QEMU and print it op by op')
    .option('--json', 'print one JSON document')
    .exitOverride()
    .action(async (o, cmd) => {
      noteInputs({ command: 'xcheck qemu', seed: o.seed ?? DEFAULT_CHECK_OPTIONS.seed, options: o });
      if (o.replay !== undefined) {
        for (const [key, flag] of [['runs', '--runs'], ['seed', '--seed'], ['guest', '--guest'], ['ecv', o.ecv === false ? '--no-ecv' : '--ecv'], ['maxOps', '--max-ops'], ['routing', '--routing'], ['shrinkKnown', '--shrink-known']] as const) {
          if (given(cmd, key)) notHere('xcheck qemu', flag, 'with --replay (it runs the one trace it is given)');
        }
      }
      const res = await xcheckQemuCommand({
        json: !!o.json, ...(o.runs !== undefined ? { runs: o.runs } : {}), ...(o.seed !== undefined ? { seed: o.seed } : {}),
        ...(o.maxOps !== undefined ? { maxOps: o.maxOps } : {}), ...(o.guest ? { guest: o.guest } : {}), ...(o.ecv !== undefined ? { ecv: o.ecv } : {}),
        ...(o.qemu ? { qemu: o.qemu } : {}), ...(o.routing ? { routing: true } : {}), ...(o.shrinkKnown ? { shrinkKnown: true } : {}),
        ...(o.replay !== undefined ? { replay: o.replay } : {}),
      });
      await out(res.text);
      process.exitCode = res.code;
    });
  strictOptions(xqemu);
  const xrouting = xcheck
    .command('routing')
    .description('the NV2 routing of every timer register name in QEMU (page slot, hardware register, or trap) next to models/nv2/routing.ts, one row per cell')
    .option('--qemu <path>', 'the qemu-system-aarch64 to run (default: the first QEMU 10 on PATH)')
    .option('--nv-only', 'also every cell with HCR_EL2.NV2 = 0 (FEAT_NV alone, no page)')
    .option('--json', 'print one JSON document')
    .exitOverride()
    .action(async (o) => {
      noteInputs({ command: 'xcheck routing', options: o });
      const res = await xcheckRoutingCommand({ json: !!o.json, ...(o.qemu ? { qemu: o.qemu } : {}), ...(o.nvOnly ? { nvOnly: true } : {}) });
      await out(res.text);
      process.exitCode = res.code;
    });
  strictOptions(xrouting);

  return program;
}

/** Write to stdout, waiting when its buffer is full (a pipe to a slow reader): output is never held in full. */
function stdoutWrite(s: string): void | Promise<void> {
  if (process.stdout.write(s)) return;
  return new Promise((res) => process.stdout.once('drain', () => res()));
}

export async function main(argv: readonly string[], deps: ProgramDeps = {}): Promise<number> {
  noteArgv(argv);
  const program = buildProgram(stdoutWrite, deps);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
      return 2; // commander already printed its one-line message
    }
    if (e instanceof NvcError) {
      process.stderr.write(`nvconform: ${e.message.split('\n')[0]}\n`);
      return e.exitCode;
    }
    // Anything else is nvconform's own failure: never posing as bad input.
    process.stderr.write(internalErrorLine(e));
    return EXIT_INTERNAL;
  }
}

/** Report an error that escaped every handler (an exception in a callback, a rejected promise nobody awaited) as internal, and exit 3. */
export function installCrashHandlers(): void {
  const die = (e: unknown): void => {
    try {
      process.stderr.write(internalErrorLine(e));
    } finally {
      process.exit(EXIT_INTERNAL);
    }
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
}
