import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests against the built app, started the way a newcomer starts it
 * (`npm start`: build if needed, demo data), on a throw-away embedded database.
 * Debian's Chromium is used; Playwright never downloads a browser here.
 */
const PORT = Number(process.env.E2E_PORT ?? 3100);
// A fixed demo key so tests can call the API; it must match the key format.
export const E2E_DEMO_KEY = 'ldg_test_e2eE2Ee2eE2E_0123456789abcdefghijABCDEFGHIJ01';

export default defineConfig({
  testDir: './tests/e2e',
  // Limits that only stop a hang: on a busy 2-core machine a page or a call that takes
  // 1 s alone can take 20. No test asserts how long anything takes.
  timeout: 120_000,
  expect: { timeout: 20_000 },
  retries: 0,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: {
    command: 'npx tsx scripts/start.ts',
    url: `http://127.0.0.1:${PORT}/api/health`,
    timeout: 600_000, // a first build, then the start (about 45 s alone, minutes on a busy machine)
    reuseExistingServer: false,
    stdout: 'pipe',
    env: {
      PORT: String(PORT),
      PGLITE_DATA_DIR: 'memory://',
      LEDGER_DEMO: '1',
      LEDGER_DEMO_API_KEY: E2E_DEMO_KEY,
      // The hosted pages' links (invoices.hostedUrl, setup sessions) point at this server.
      LEDGER_PUBLIC_URL: `http://127.0.0.1:${PORT}`,
      NEXT_TELEMETRY_DISABLED: '1',
      DATABASE_URL: '',
    },
  },
});
