// Mutation testing of the models and properties (`npm run mutation`; not in CI: it takes a while).
// The score and the survivors worth a look are in docs/architecture.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  mutate: ['models/**/*.ts', 'properties/**/*.ts'],
  coverageAnalysis: 'perTest',
  // Message texts are checked by the tests where they matter; mutating every string literal of every
  // explanation would triple the run for little information.
  mutator: { excludedMutations: ['StringLiteral'] },
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  concurrency: 1,
  timeoutMS: 30000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
