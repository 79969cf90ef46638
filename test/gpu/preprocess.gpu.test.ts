/**
 * GPU tier: runs the native CUDA test executable `camtrack_gpu_tests` (native/tests/gpu): the letterbox kernel
 * against the CPU reference maths, pad and batch-slot checks, and the device/pinned buffer, stream and event types.
 *
 * Where CUDA is absent this test SKIPS, loudly: when the build had no CUDA (no executable, CMakeCache says no
 * CUDA compiler) or when the executable reports no usable device (exit code 77, "SKIP: no CUDA device: <reason>").
 * A build that found CUDA but has no executable is a failure, not a skip. So is a build without the native tests
 * (CAMTRACK_BUILD_TESTS=OFF, the addon-only build of `npm run build:native`) under CI=true; elsewhere that skips, naming
 * the command that builds them (`npm run build:dev`).
 *
 * The executable is found at $CAMTRACK_GPU_TESTS_BIN, else build/camtrack_gpu_tests (where cmake-js puts
 * executables on Linux), else build/Release/camtrack_gpu_tests.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, type TestContext } from 'vitest';

import { BUILD_COMMAND, whyNoCudaBuild, whyOptInOff } from '../helpers/native-build.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const EXIT_NO_DEVICE = 77;

function skipLoudly(ctx: TestContext, reason: string): never {
  console.warn(`\n[camtrack] GPU tests SKIPPED: ${reason}\n`);
  return ctx.skip(`GPU tests SKIPPED: ${reason}`);
}

/** Why the build has no GPU test executable; undefined when it should have one. */
function whyNotBuilt(): string | undefined {
  return whyOptInOff('CAMTRACK_BUILD_TESTS') ?? whyNoCudaBuild();
}

function findExecutable(): { bin?: string; tried: string[] } {
  const fromEnv = process.env['CAMTRACK_GPU_TESTS_BIN'];
  if (fromEnv) return { bin: fromEnv, tried: [fromEnv] };
  const tried = [path.join(root, 'build', 'camtrack_gpu_tests'), path.join(root, 'build', 'Release', 'camtrack_gpu_tests')];
  return { bin: tried.find((p) => existsSync(p)), tried };
}

describe('camtrack_gpu_tests (CUDA letterbox kernel, buffers, streams)', () => {
  it('passes on this machine, or skips loudly where there is no CUDA', { timeout: 150_000 }, (ctx) => {
    const { bin, tried } = findExecutable();
    if (process.env['CAMTRACK_GPU_TESTS_BIN'] && !existsSync(bin!)) {
      throw new Error(`CAMTRACK_GPU_TESTS_BIN=${bin} does not exist`);
    }
    if (!bin) {
      const why = whyNotBuilt();
      if (why) skipLoudly(ctx, `${why} (looked for ${tried.join(', ')})`);
      throw new Error(
        `the native build has CUDA enabled but camtrack_gpu_tests is missing (looked for ${tried.join(', ')}); ` +
          `rebuild with \`${BUILD_COMMAND}\``,
      );
    }
    const res = spawnSync(bin, [], { encoding: 'utf8', timeout: 120_000, cwd: root });
    const output = `${res.stdout ?? ''}${res.stderr ?? ''}`;
    if (res.error) throw new Error(`could not run ${bin}: ${res.error.message}`);
    if (res.status === EXIT_NO_DEVICE) {
      const line = output.split('\n').find((l) => l.startsWith('SKIP:')) ?? output.trim();
      skipLoudly(ctx, line.replace(/^SKIP:\s*/, ''));
    }
    console.log(output);
    expect(res.signal, `${bin} was killed by ${res.signal}\n${output}`).toBeNull();
    expect(res.status, output).toBe(0);
    expect(output).toMatch(/^\d+ passed, 0 failed/m);
  });
});
