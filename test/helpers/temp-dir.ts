/**
 * A temporary directory for a test file or suite, made on first use and removed after the suite. Made lazily
 * because vitest runs a skipped suite's body (to collect its tests) but not its hooks: a directory made in the body
 * of a suite whose tests all skip (assets missing, no GPU) would never be removed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

export function lazyTempDir(prefix: string): () => string {
  let dir: string | undefined;
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return () => (dir ??= mkdtempSync(path.join(os.tmpdir(), prefix)));
}
