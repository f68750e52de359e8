import { defineConfig } from 'vitest/config';

export default defineConfig({
  // graphql 16 has no "exports" map: Node loads its CJS build for the dependencies (yoga, graphql-ws),
  // Vite would pick the .mjs one for our sources. One copy only, or instanceof checks fail.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/clients/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: [],
  },
});
