#!/usr/bin/env node
/** The nvconform executable: runs the command line of program.ts and exits with its status. */
import { installCrashHandlers, main } from './program.js';

installCrashHandlers();
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
