import { defineConfig } from 'vitest/config';

// One runner for every suite: unit tests of pure logic and integration tests against the real
// local services (RGW, gnome-keyring) that scripts/test.sh starts. Integration tests read the
// services' coordinates from COSYNC_TEST_* variables and fail — never skip — when they are absent.
export default defineConfig({
  test: {
    include: ['app/**/*.test.ts', 'main/**/*.test.ts', 'renderer/**/*.test.{ts,tsx}', 'test/**/*.test.ts'],
    environment: 'node',
    // Integration tests run the CLI as fresh Node processes against real services: about 0.3 s of
    // CPU each, but `cosync --version` alone took 4.7 s of wall time on the 2-core box loaded 10
    // times over (load 22: CI with other work), so a test with a dozen runs needs minutes there.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
