import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['*.test.mjs'],
    // A check of one property runs about a second; leave room on a slow machine.
    testTimeout: 60_000,
  },
});
