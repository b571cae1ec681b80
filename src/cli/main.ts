#!/usr/bin/env node
/**
 * The nvconform command line. Every failure is one line on stderr: exit 2 for bad input or usage,
 * 1 when a property was refuted (check) or an implementation misbehaved.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { InputError, NvcError } from '../../models/arch/errors.js';
import { loadTrace } from './io.js';
import { runCommand } from './run.js';
import { checkCommand, replayCommand, suiteCommand } from './check.js';
import { exploreCommand, layoutsCommand } from './layouts.js';
import { reportFlags, withCiReports, withHtml, withQuietTiming } from './reports.js';
import { DEFAULT_CHECK_OPTIONS, DEFAULT_DEPTH } from '../check/check.js';
import { isPropertyName, PROPERTY_NAMES, type PropertyName } from '../../properties/index.js';

function implOptions(o: { layout: string; hostEcvTraps?: boolean; timeout?: number }) {
  return { layout: o.layout, hostEcvTraps: o.hostEcvTraps ?? false, ...(o.timeout !== undefined ? { timeoutMs: o.timeout } : {}) };
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
function seedInt(v: string): number {
  if (!/^-?[0-9]+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new InvalidArgumentError('--seed expects an integer');
  return Number(v) | 0;
}
function collectProperty(v: string, prev: PropertyName[] | undefined): PropertyName[] {
  if (!isPropertyName(v)) throw new InvalidArgumentError(`unknown property '${v}' (known: ${PROPERTY_NAMES.join(', ')})`);
  return [...(prev ?? []), v];
}

export function buildProgram(out: (s: string) => void): Command {
  const program = new Command()
    .name('nvconform')
    .description('Conformance checker for Arm FEAT_NV2 nested virtualization of the generic timer')
    .version('0.1.0')
    .exitOverride()
    .showSuggestionAfterError(false)
    .configureOutput({ writeOut: (s) => out(s), writeErr: (s) => process.stderr.write(s) });

  withHtml(program
    .command('run')
    .description('execute one trace (file or replay token) on a model and print every op with its observation')
    .argument('<trace>', 'trace file (nvconform-trace/1 JSON) or replay token')
    .addOption(new Option('--model <name>', 'reference, nv2, nv, a plug-in module path or exec:COMMAND').default('reference'))
    .addOption(new Option('--impl <name>', 'alias of --model').hideHelp())
    .option('--layout <name|file>', 'VNCR layout (catalogue name or file)', 'architected')
    .option('--host-ecv-traps', 'the physical CPU has FEAT_ECV and the host uses its traps')
    .option('--timeout <ms>', 'external implementations: per-op answer timeout (default 5000)', positiveInt('--timeout'))
    .option('--verbose', 'show what the hardware did and which VNCR slots changed')
    .option('--json', 'print the trace document with observations filled in'))
    .exitOverride()
    .action(async (file, o) => {
      const reports = reportFlags('run', o);
      const trace = loadTrace(file);
      out(await runCommand(trace, { model: o.impl ?? o.model, impl: implOptions(o), verbose: !!o.verbose, json: !!o.json, reports }));
    });

  withQuietTiming(withCiReports(withHtml(program
    .command('check')
    .description('generate guest behaviour, run the reference and an implementation side by side, shrink failures; with no implementation options, run the default suite')
    .option('--impl <spec>', 'implementation: nv2, nv, a plug-in module path, or exec:COMMAND (default nv2)')
    .option('--layout <name|file>', 'VNCR layout: catalogue name or file (default architected)')
    .addOption(new Option('--guest <mode>', 'pin the guest hypervisor mode (default: both)').choices(['vhe', 'nvhe'] as const))
    .option('--ecv', 'the virtual CPU has FEAT_ECV (default: with and without)')
    .option('--no-ecv', 'the virtual CPU has no FEAT_ECV')
    .option('--host-ecv-traps', 'the physical CPU has FEAT_ECV and the host uses its traps')
    .option('--runs <n>', `generated traces per property (default ${DEFAULT_CHECK_OPTIONS.runs})`, positiveInt('--runs'))
    .option('--seed <n>', `fast-check seed (default ${DEFAULT_CHECK_OPTIONS.seed})`, seedInt)
    .option('--max-ops <n>', `longest generated trace (default ${DEFAULT_CHECK_OPTIONS.maxOps})`, positiveInt('--max-ops'))
    .option('--property <name>', `property to check, repeatable: ${PROPERTY_NAMES.join(', ')} (default all)`, collectProperty)
    .option('--depth <k>', `exhaustive phase: every trace of at most K ops over the alphabet, then the random phase; 0 skips it (default ${DEFAULT_DEPTH})`, natInt('--depth'))
    .option('--stats', 'print what the exhaustive and random phases covered')
    .option('--json', 'print one JSON document')
    .option('--out <file>', 'write the minimal failing trace (expected observations) to FILE, and the implementation\'s observations next to it (FILE with .json replaced by .observed.json)')
    .option('--timeout <ms>', 'external implementations: per-op answer timeout (default 5000)', positiveInt('--timeout'))
    .option('--suite <file>', 'run a suite file (default: the shipped default suite when no implementation option is given)'))))
    .exitOverride()
    .action(async (o) => {
      const reports = reportFlags('check', o);
      const base = { reports, runs: o.runs ?? DEFAULT_CHECK_OPTIONS.runs, seed: o.seed ?? DEFAULT_CHECK_OPTIONS.seed, maxOps: o.maxOps ?? DEFAULT_CHECK_OPTIONS.maxOps, stats: !!o.stats, json: !!o.json, ...(o.out ? { out: o.out } : {}), ...(o.depth !== undefined ? { depth: o.depth } : {}) };
      const single = o.impl !== undefined || o.layout !== undefined || o.guest !== undefined || o.ecv !== undefined || o.hostEcvTraps !== undefined || o.property !== undefined;
      const res = single && o.suite === undefined
        ? await checkCommand({
          ...base, impl: o.impl ?? DEFAULT_CHECK_OPTIONS.impl, layout: o.layout ?? 'architected', hostEcvTraps: !!o.hostEcvTraps,
          properties: o.property ?? PROPERTY_NAMES, ...(o.guest ? { guest: o.guest } : {}), ...(o.timeout !== undefined ? { timeoutMs: o.timeout } : {}), ...(o.ecv !== undefined ? { ecv: o.ecv } : {}),
        })
        : await suiteCommand(o.suite, base);
      out(res.text);
      process.exitCode = res.code;
    });

  withQuietTiming(withCiReports(withHtml(program
    .command('replay')
    .description('re-run a counterexample from its replay token (or a trace file) and show where it fails')
    .argument('<token|file>', 'replay token (nvc1:...) or trace file')
    .option('--impl <spec>', 'implementation (default: the token\'s, else nv2)')
    .option('--layout <name|file>', 'VNCR layout (default: the token\'s, else architected)')
    .option('--host-ecv-traps', 'the physical CPU has FEAT_ECV and the host uses its traps')
    .option('--property <name>', 'property to judge, repeatable (default: the token\'s, else all)', collectProperty)
    .option('--timeout <ms>', 'external implementations: per-op answer timeout (default 5000)', positiveInt('--timeout'))
    .option('--json', 'print one JSON document'))))
    .exitOverride()
    .action(async (arg, o) => {
      const res = await replayCommand(arg, {
        json: !!o.json, reports: reportFlags('replay', o), ...(o.impl ? { impl: o.impl } : {}), ...(o.layout ? { layout: o.layout } : {}),
        ...(o.hostEcvTraps ? { hostEcvTraps: true } : {}), ...(o.property ? { properties: o.property } : {}),
        ...(o.timeout !== undefined ? { timeoutMs: o.timeout } : {}),
      });
      out(res.text);
      process.exitCode = res.code;
    });

  withQuietTiming(withHtml(program
    .command('layouts')
    .description('judge every catalogue layout and each layout FILE in both guest modes: verdicts, minimal counterexample, trap cost; --explore searches all slot subsets')
    .argument('[files...]', 'layout files (JSON or YAML, nvconform-layout/1)')
    .option('--explore', 'check every subset of the registers that may take a slot; report the maximal conformant sets')
    .addOption(new Option('--guest <mode>', 'only this guest hypervisor mode (default: both)').choices(['vhe', 'nvhe'] as const))
    .option('--host-ecv-traps', 'the physical CPU has FEAT_ECV and the host uses its traps')
    .option('--runs <n>', `generated traces per contract (default ${DEFAULT_CHECK_OPTIONS.runs})`, positiveInt('--runs'))
    .option('--seed <n>', `fast-check seed (default ${DEFAULT_CHECK_OPTIONS.seed})`, seedInt)
    .option('--max-ops <n>', `longest generated trace (default ${DEFAULT_CHECK_OPTIONS.maxOps})`, positiveInt('--max-ops'))
    .option('--ecv', 'judge a virtual CPU with FEAT_ECV only (default: with and without)')
    .option('--no-ecv', 'judge a virtual CPU without FEAT_ECV only')
    .option('--depth <k>', `exhaustive phase depth per layout (default ${DEFAULT_DEPTH})`, natInt('--depth'))
    .option('--json', 'print one JSON document')))
    .exitOverride()
    .action(async (files, o) => {
      const opts = { reports: reportFlags('layouts', o),
        hostEcvTraps: !!o.hostEcvTraps, runs: o.runs ?? DEFAULT_CHECK_OPTIONS.runs, seed: o.seed ?? DEFAULT_CHECK_OPTIONS.seed,
        maxOps: o.maxOps ?? DEFAULT_CHECK_OPTIONS.maxOps, guests: o.guest ? [o.guest] : (['vhe', 'nvhe'] as const), json: !!o.json,
        ...(o.ecv !== undefined ? { ecv: o.ecv } : {}), ...(o.depth !== undefined ? { depth: o.depth } : {}),
      };
      if (o.explore && files.length) throw new InputError('layouts: --explore takes no layout files (it builds its own)');
      const res = o.explore ? await exploreCommand(opts) : await layoutsCommand(files, opts);
      out(res.text);
      process.exitCode = res.code;
    });

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  let buffered = '';
  const program = buildProgram((s) => {
    buffered += s;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    process.stdout.write(buffered);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    process.stdout.write(buffered);
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
      return 2; // commander already printed its one-line message
    }
    if (e instanceof NvcError) {
      process.stderr.write(`nvconform: ${e.message.split('\n')[0]}\n`);
      return e.exitCode;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`nvconform: internal error: ${msg.split('\n')[0]}\n`);
    return 2;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
