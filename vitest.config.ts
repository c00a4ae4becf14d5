import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure, seconds) and `integration` (real Kafka broker, Prometheus, CLI).
// The integration project's global setup starts a broker unless KAFKA_BROKERS names one.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts', 'test/conformance/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/integration/globalSetup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // One broker for all files; tests that stop it or kill consumers must not overlap others.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
