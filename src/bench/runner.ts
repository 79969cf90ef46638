/**
 * Runs the declarative trial list of `camtrack bench`: every run of every trial in a fresh child process
 * (child.ts, via child_process.fork), trials interleaved A B C A B C … for --repeat rounds so slow drift of a
 * shared machine hits every trial alike; then medians per trial, ratios and the acceptance check.
 * Child stdout/stderr go to this process's stderr, so stdout carries only the JSON report.
 */
import { fork } from 'node:child_process';

import { median, ratio as ratioOf, round, type Ratio } from './report.js';
import type { ChildMessage, TrialName, TrialRun, TrialSpec } from './types.js';

/** The trials, in the order they run within a round, with what each measures (also printed in the report). */
export const TRIALS: Readonly<Record<TrialName, string>> = {
  'ort-raw': 'raw onnxruntime-node session.run() loop in worker_threads Worker(s), same model/batch/session options as the pipeline',
  'ort-raw-seq': 'the same with one run at a time per session (await each run)',
  'ort-raw-main': 'the ort-raw loop on the main thread of the child process',
  pipeline: 'full Pipeline, 1 looped file stream, consumed with stream.results()',
  'pipeline-4x': 'full Pipeline, --streams looped copies of the file at once',
  'pipeline-null': 'native pipeline with a null inference worker (decode + letterbox + postprocess + track + delivery only)',
  'push-jpeg': 'full Pipeline, 1 pushed stream (input push, codec jpeg, lossless): 100 frames of the source as JPEGs, pushed round and round',
  'file-mjpeg': 'full Pipeline, the same 100 JPEGs in an AVI read by the file source, looped',
  'push-jpeg-null': 'push-jpeg on the native pipeline with a null inference worker (decode at DCT scale + letterbox + delivery)',
  'file-mjpeg-null': 'file-mjpeg on the native pipeline with a null inference worker (full-size decode + letterbox + delivery)',
};

export const TRIAL_NAMES = Object.keys(TRIALS) as TrialName[];

export interface TrialSummary {
  description: string;
  /**
   * Medians over the runs. fpsPerCore = fps / (cpuPercent / 100): frames per second of CPU time, less sensitive
   * than fps to other processes taking cores away on a shared machine.
   */
  median: { fps: number; latencyP50Ms: number; latencyP99Ms: number; cpuPercent: number; fpsPerCore: number };
  runs: TrialRun[];
}

/** Runs one trial in a fresh child process; rejects with the child's error or on timeout. */
export function runInChild(spec: TrialSpec): Promise<TrialRun> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./child.js', import.meta.url), [], { stdio: ['ignore', 2, 2, 'ipc'], serialization: 'advanced' });
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    // The child enforces spec.timeoutMs itself; this is the backstop for a child that hangs while closing.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(() => reject(new Error(`${spec.trial}: child process did not finish within ${spec.timeoutMs + 30000} ms`)));
    }, spec.timeoutMs + 30000);
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'result') finish(() => resolve(m.run));
      else finish(() => reject(Object.assign(new Error(`${spec.trial}: ${m.message}`), m.code ? { code: m.code } : {})));
    });
    child.once('error', (err) => finish(() => reject(err)));
    child.once('exit', (code, signal) =>
      finish(() => reject(new Error(`${spec.trial}: child process exited (${signal ?? `code ${code}`}) without a result`))),
    );
    child.send(spec);
  });
}

/** Runs `trials` `repeat` times, interleaved; `log` gets one progress line per run. */
export async function runTrials(
  base: Omit<TrialSpec, 'trial'>,
  trials: TrialName[],
  repeat: number,
  log: (line: string) => void,
): Promise<Record<string, TrialSummary>> {
  const runs = new Map<TrialName, TrialRun[]>(trials.map((t) => [t, []]));
  for (let r = 0; r < repeat; r++) {
    for (const trial of trials) {
      const run = await runInChild({ ...base, trial });
      runs.get(trial)!.push(run);
      log(
        `[bench] round ${r + 1}/${repeat} ${trial}: ${run.fps} fps, latency p50 ${run.latency.p50Ms} ms p99 ${run.latency.p99Ms} ms, CPU ${run.cpuPercent}%`,
      );
    }
  }
  const out: Record<string, TrialSummary> = {};
  for (const [trial, list] of runs) {
    out[trial] = {
      description: TRIALS[trial],
      median: {
        fps: round(median(list.map((x) => x.fps)), 2),
        latencyP50Ms: round(median(list.map((x) => x.latency.p50Ms))),
        latencyP99Ms: round(median(list.map((x) => x.latency.p99Ms))),
        cpuPercent: round(median(list.map((x) => x.cpuPercent)), 1),
        fpsPerCore: round(median(list.map((x) => (x.cpuPercent > 0 ? x.fps / (x.cpuPercent / 100) : Number.NaN))), 2),
      },
      runs: list,
    };
  }
  return out;
}

/** Ratio of medians a/b, and the median of the per-round ratios (pairs run back to back, so less drift): report.ts ratio(). */
export function ratio(a: TrialSummary | undefined, b: TrialSummary | undefined): Ratio | null {
  if (!a || !b) return null;
  return ratioOf(
    a.runs.map((r) => r.fps),
    b.runs.map((r) => r.fps),
  );
}
