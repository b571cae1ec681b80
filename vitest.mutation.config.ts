import { defineConfig } from 'vitest/config';

// The tests StrykerJS runs against each mutant of models/ and properties/ (`npm run mutation`): the
// unit tests that exercise them in-process. Tests that spawn the CLI (they run dist/, not the
// mutant), the layer check, and the tests that run whole checks (minutes per mutant) are left out.
export default defineConfig({
  test: {
    include: [
      'test/reference/**/*.test.ts', 'test/nv2/**/*.test.ts', 'test/arch/table.test.ts', 'test/arch/state.test.ts',
      'test/properties/**/*.test.ts', 'test/layouts/validation.test.ts', 'test/layouts/catalogue.test.ts',
    ],
    exclude: ['test/nv2/cli.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
