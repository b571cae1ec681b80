#!/usr/bin/env node
/**
 * The nvconform command line. Every failure is one line on stderr: exit 2 for bad input or usage,
 * 1 when a property was refuted (check) or an implementation misbehaved.
 */
import { Command, CommanderError, Option } from '@commander-js/extra-typings';
import { NvcError } from '../errors.js';
import { loadTrace } from './io.js';
import { runCommand } from './run.js';
import '../../models/builtin.js';
import '../plugins/index.js';

function implOptions(o: { layout: string; hostEcvTraps?: boolean }) {
  return { layout: o.layout, hostEcvTraps: o.hostEcvTraps ?? false };
}

export function buildProgram(out: (s: string) => void): Command {
  const program = new Command()
    .name('nvconform')
    .description('Conformance checker for Arm FEAT_NV2 nested virtualization of the generic timer')
    .version('0.1.0')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => out(s), writeErr: (s) => process.stderr.write(s) });

  program
    .command('run')
    .description('execute one trace (file or replay token) on a model and print every op with its observation')
    .argument('<trace>', 'trace file (nvconform-trace/1 JSON) or replay token')
    .addOption(new Option('--model <name>', 'reference, nv2, nv, a plug-in module path or exec:COMMAND').default('reference'))
    .addOption(new Option('--impl <name>', 'alias of --model').hideHelp())
    .option('--layout <name|file>', 'VNCR layout (catalogue name or file)', 'architected')
    .option('--host-ecv-traps', 'the physical CPU has FEAT_ECV and the host uses its traps')
    .option('--verbose', 'show what the hardware did and which VNCR slots changed')
    .option('--json', 'print the trace document with observations filled in')
    .exitOverride()
    .action(async (file, o) => {
      const trace = loadTrace(file);
      out(await runCommand(trace, { model: o.impl ?? o.model, impl: implOptions(o), verbose: !!o.verbose, json: !!o.json }));
    });

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  let buffered = '';
  const program = buildProgram((s) => {
    buffered += s;
  });
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
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

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
