/** A .ts plug-in when the `typescript` package cannot be loaded: a one-line InputError saying to compile it. */
import { expect, it, vi } from 'vitest';
import '../../src/plugins/index.js';
import { createImplementation } from '../../src/engine/registry.js';
import { InputError } from '../../models/arch/errors.js';

vi.mock('typescript', () => {
  throw new Error("Cannot find package 'typescript'");
});

it('asks to compile the plug-in to .js', async () => {
  const p = createImplementation('test/plugins/fixtures/plugins/ts-plugin.ts', { layout: 'architected', hostEcvTraps: false });
  await expect(p).rejects.toThrow(InputError);
  await expect(p).rejects.toThrow(
    "plug-in test/plugins/fixtures/plugins/ts-plugin.ts: loading a .ts plug-in needs the 'typescript' package, which is not installed; compile the plug-in to .js (tsc) and pass the .js file",
  );
});
