import { defineConfig } from 'vitest/config';

// One runner for every suite: unit tests of pure logic and integration tests against the real
// local services (RGW, gnome-keyring) that scripts/test.sh starts. Integration tests read the
// services' coordinates from COSYNC_TEST_* variables and fail — never skip — when they are absent.
export default defineConfig({
  test: {
    include: ['app/**/*.test.ts', 'main/**/*.test.ts', 'renderer/**/*.test.{ts,tsx}', 'test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
