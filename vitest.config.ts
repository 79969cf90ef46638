import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The files whose executables CI builds in the background while the suite runs (test/helpers/background-builds.ts),
 * in the order the builds finish; they run last, in this order, after vitest's own order for every other file.
 */
const LAST = ['test/unit/sanitizers.test.ts', 'test/unit/fuzz.test.ts', 'test/e2e/package.test.ts'];

class BackgroundBuildsLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification): number =>
      LAST.findIndex((f) => spec.moduleId.replaceAll('\\', '/').endsWith(f));
    return [...sorted.filter((s) => rank(s) < 0), ...sorted.filter((s) => rank(s) >= 0).sort((a, b) => rank(a) - rank(b))];
  }
}

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
    sequence: { sequencer: BackgroundBuildsLast },
    env: { NO_COLOR: '1' },
  },
});
