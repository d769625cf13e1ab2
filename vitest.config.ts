import { defineConfig } from 'vitest/config';
import path from 'node:path';

export default defineConfig({
  resolve: {
    alias: {
      '@': path.resolve(import.meta.dirname),
      // `server-only` throws outside a React Server Component bundle.
      'server-only': path.resolve(import.meta.dirname, 'tests/support/empty.ts'),
    },
  },
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/e2e/**', 'node_modules/**'],
    // Only there to stop a hang: on a busy 2-core machine (CI may share it) a test that
    // takes 3 s alone can take 20. Tests that start processes set their own, longer limit.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // PGlite instances are heavy (a WASM Postgres each): two workers on two cores.
    maxWorkers: 2,
    // next-auth imports `next/server` without an extension, which Node's ESM loader cannot
    // resolve outside Next.js; through Vite's resolver it can (tests/portal/auth-route.test.ts).
    server: { deps: { inline: ['next-auth'] } },
  },
});
