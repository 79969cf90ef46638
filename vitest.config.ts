import { defineConfig } from 'vitest/config';

// One test file at a time: the build/CI machines have 2 cores and the e2e tiers (RTSP server, decode,
// inference) are CPU-heavy; running files in parallel would make their timing assertions flaky.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    env: { NO_COLOR: '1' },
  },
});
