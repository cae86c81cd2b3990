import { defineConfig } from 'vitest/config';

// One configuration for every package: tests live beside each package in <pkg>/test/.
export default defineConfig({
  test: {
    include: ['*/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
