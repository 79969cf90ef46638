/**
 * A process that exits with a pipeline open — process.exit(), an uncaught error, a signal — exits with its own code
 * (or dies by that signal), within 5 s, without a crash. It used to abort (SIGABRT, exit 134, "terminate called after
 * throwing an instance of 'Napi::Error'"): Node terminates the worker threads after the 'exit' event, and an inference
 * worker terminated inside onnxruntime-node's session.run() threw a C++ exception through V8. Each scenario runs in a
 * child process (test/helpers/exit-scenario.mjs) with the real model, clip and onnxruntime workers, a few times,
 * since whether a worker is inside onnxruntime at that moment is a matter of timing. `camtrack run | head` (stdout
 * closed under a running pipeline: an uncaught EPIPE) took the same path. A worker thread that owns a pipeline, torn
 * down by the exit, aborted in the addon itself (its delivery callback).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';

import { Pipeline } from '../../dist/index.js';
import { assetPath, describeWithAssets, repoRoot } from '../helpers/assets.js';
import { killAllTracked, spawnTracked } from '../helpers/processes.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const MODEL = 'models/yolo11n_int8_320.onnx';
const WALKING = 'videos/walking.mp4';
const RUNS = 3;
const EXIT_WITHIN_MS = 5000;
const CRASH = /terminate called|Napi::Error|Aborted|core dumped/;
const tmp = lazyTempDir('camtrack-process-exit-');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** From 'EXITING' on the child's stdout (it is about to exit, or ready for the signal) to its exit. */
  exitMs: number;
}

/**
 * Runs one scenario of test/helpers/exit-scenario.mjs; `signal` is sent once the child printed 'EXITING'. The
 * scenario 'camtrack run | head' runs the CLI on a looping file instead and closes its stdout after 3 result lines.
 * Killed (and failed) after 30 s.
 */
function runScenario(scenario: string, signal?: NodeJS.Signals, fraction = 0): Promise<Exit> {
  const args =
    scenario === 'camtrack run | head'
      ? [path.join(repoRoot, 'bin', 'camtrack.js'), 'run', '--config', loopingRunConfig()]
      : [path.join(repoRoot, 'test', 'helpers', 'exit-scenario.mjs'), scenario, assetPath(MODEL), assetPath(WALKING), String(fraction)];
  const child = spawnTracked(process.execPath, args);
  let stdout = '';
  let stderr = '';
  let exitingAt: number | undefined;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    if (exitingAt !== undefined) return;
    if (stdout.includes('EXITING')) {
      exitingAt = performance.now();
      if (signal) child.kill(signal);
    } else if (scenario === 'camtrack run | head' && stdout.split('\n').length > 3) {
      exitingAt = performance.now();
      child.stdout!.destroy();
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      resolve({ code, signal: sig, stderr, exitMs: exitingAt === undefined ? Infinity : performance.now() - exitingAt });
    }),
  );
}

function loopingRunConfig(): string {
  const file = path.join(tmp(), 'run.json');
  writeFileSync(file, JSON.stringify({ model: assetPath(MODEL), streams: [{ id: 'walking', url: assetPath(WALKING), loop: true }] }));
  return file;
}

async function expectExits(
  scenario: string,
  expected: { code: number | null; signal: NodeJS.Signals | null },
  signal?: NodeJS.Signals,
  fractions: readonly number[] = Array<number>(RUNS).fill(0),
): Promise<Exit[]> {
  const runs: Exit[] = [];
  for (const [i, fraction] of fractions.entries()) {
    const r = await runScenario(scenario, signal, fraction);
    runs.push(r);
    expect(r.stderr, `run ${i + 1}`).not.toMatch(CRASH);
    expect({ code: r.code, signal: r.signal }, `run ${i + 1}: ${r.stderr.slice(-500)}`).toEqual(expected);
    expect(r.exitMs, `run ${i + 1}`).toBeLessThan(EXIT_WITHIN_MS);
  }
  console.log(`[process-exit] ${scenario}: exited ${runs.map((r) => r.exitMs.toFixed(0)).join(', ')} ms after 'EXITING'`);
  return runs;
}

describeWithAssets('exiting with a pipeline open', [MODEL, WALKING], () => {
  afterAll(() => killAllTracked());

  it("keeps one 'exit' listener in the process while a pipeline is open, none once it is closed", async () => {
    const before = process.listenerCount('exit');
    const pipeline = await Pipeline.create({ model: assetPath(MODEL) });
    try {
      expect(process.listenerCount('exit')).toBe(before + 1);
    } finally {
      await pipeline.close();
    }
    expect(process.listenerCount('exit')).toBe(before);
  });

  it('process.exit(3) inside a results() loop exits with code 3', async () => {
    await expectExits('exit', { code: 3, signal: null });
  });

  it('an uncaught error thrown inside a results() loop exits with code 1 and prints that error', async () => {
    const runs = await expectExits('throw', { code: 1, signal: null });
    for (const r of runs) expect(r.stderr).toContain('Error: scenario boom');
  });

  it('process.exit(3) from a result listener, with results queued and batches in flight on two workers, exits with code 3', async () => {
    await expectExits('busy', { code: 3, signal: null });
  });

  it('process.exit(3) while Pipeline.create() is loading the model in its workers exits with code 3', async () => {
    // At these fractions of a create's time its workers are mostly inside onnxruntime's session create (about 2/3 of a
    // create here; the rest is the worker's start and the onnxruntime import).
    await expectExits('create', { code: 3, signal: null }, undefined, [0.45, 0.6, 0.75]);
  });

  it('process.exit(3) while a worker thread owns a delivering native pipeline exits with code 3', async () => {
    // No onnxruntime here: the addon's own delivery callback, still dispatched while that thread's environment is
    // torn down, used to let N-API's refusal through as a Napi::Error.
    await expectExits('owner', { code: 3, signal: null });
  });

  // With no handler the kernel ends the process (Node leaves SIGTERM/SIGINT at their default action): no JS, no
  // teardown, so no timing to vary — one run each.
  it('SIGTERM with no handler kills a process running a looping file stream by SIGTERM', async () => {
    await expectExits('signal', { code: null, signal: 'SIGTERM' }, 'SIGTERM', [0]);
  });

  it('SIGINT with no handler kills a process running a looping file stream by SIGINT', async () => {
    await expectExits('signal', { code: null, signal: 'SIGINT' }, 'SIGINT', [0]);
  });

  it("`camtrack run | head`: its closed stdout (EPIPE) ends the run with code 1 (src/sinks/lines.ts stops it; before, an uncaught EPIPE)", async () => {
    const runs = await expectExits('camtrack run | head', { code: 1, signal: null }, undefined, [0, 0]);
    for (const r of runs) expect(r.stderr).toContain('EPIPE');
  });
});
