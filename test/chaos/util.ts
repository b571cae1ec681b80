/**
 * Helpers for the chaos suite: run the built CLI (dist/, built by `npm test`) as a user would,
 * with a marker word in every fixture's command line so that `ps` finds anything left behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
export const EXEC = 'test/chaos/fixtures/chaos-exec.mjs';
export const PLUGINS = 'test/chaos/fixtures/plugins';

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `nvconform ARGS` to completion (asynchronously, so that tests in a file may overlap). */
export function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    p.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => p.kill('SIGKILL'), 50_000);
    p.on('error', reject);
    p.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** A fresh word to put in a fixture's command line. */
export const marker = (what: string): string => `nvc-chaos-${what}-${randomBytes(4).toString('hex')}`;

/** `exec:node test/chaos/fixtures/chaos-exec.mjs MARKER ARGS`. */
export const execSpec = (m: string, args: string): string => `exec:node ${EXEC} ${m} ${args}`;

/** Processes whose command line holds `m` (the fixture and anything it forked), as "pid args" lines. */
export function leftovers(m: string): string[] {
  const r = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.includes(m) && !/\bps -eo\b/.test(l)).map((l) => l.trim());
}

/**
 * leftovers(m), once processes already sent SIGKILL have had a moment to go: polls until none is
 * left, or 3 s have passed (on a loaded machine a killed process can take a few ms to disappear).
 */
export async function settledLeftovers(m: string): Promise<string[]> {
  for (let i = 0; i < 60; i++) {
    const l = leftovers(m);
    if (l.length === 0) return l;
    await new Promise((r) => setTimeout(r, 50));
  }
  return leftovers(m);
}

/** `args` followed by each default option (flag, value) that `args` does not already give. */
export function withDefaults(args: readonly string[], defaults: Readonly<Record<string, string>>): string[] {
  const out = [...args];
  for (const [flag, value] of Object.entries(defaults)) if (!args.includes(flag)) out.push(flag, value);
  return out;
}

export const tmp = (): string => mkdtempSync(join(tmpdir(), 'nvc-chaos-'));

/** The one line of stderr, without its newline; fails the test if there is not exactly one. */
export function oneLine(stderr: string): string {
  const lines = stderr.split('\n');
  if (lines.length !== 2 || lines[1] !== '') throw new Error(`expected one line on stderr, got:\n${stderr}`);
  return lines[0]!;
}

/** The rows of a report's trace table marked with `>` (the failing op), padding collapsed. */
export const markedRows = (out: string): string[] => out.split('\n').filter((l) => /^\s*>\d+\s/.test(l)).map((l) => l.trim().replace(/\s+/g, ' '));
