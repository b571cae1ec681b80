#!/usr/bin/env node
/** The nvconform executable: runs the command line of program.ts and exits with its status. */
import { installCrashHandlers, main } from './program.js';

installCrashHandlers();
// A reader that stops reading (`nvconform run big.json | head`) is not a failure of nvconform.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  throw e;
});
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
