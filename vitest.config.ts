import { defineConfig } from 'vitest/config';

/**
 * Test tiers (DESIGN §11). `npm test` runs them all; each tier can run alone (`npm run test:<tier>`).
 * integration and e2e get a real PostgreSQL from test/support/postgres-setup.ts: DATABASE_URL's server when
 * set, else an embedded server; a migrated template database is cloned once per test file.
 */
export default defineConfig({
  test: {
    reporters: ['default'],
    env: { LOG_LEVEL: 'SILENT' },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/postgres-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/postgres-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          // The Console in Debian's Chromium (playwright-core); skipped with a notice without /usr/bin/chromium.
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/support/postgres-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'aws',
          include: ['test/aws/**/*.test.ts'],
          globalSetup: ['test/aws/setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
});
