/** Small statistics and machine-description helpers for `camtrack bench`. Pure functions, no state. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

import type { LatencySummary, TrialRun } from './types.js';

/** Nearest-rank percentile (q in 0..1) of an unsorted sample; NaN for an empty one. Does not modify `values`. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** Median (mean of the two middle values for an even count); NaN for an empty sample. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** p50/p99/mean/max of a latency sample in ms. */
export function summariseLatency(valuesMs: readonly number[]): LatencySummary {
  const mean = valuesMs.length ? valuesMs.reduce((a, b) => a + b, 0) / valuesMs.length : Number.NaN;
  return {
    p50Ms: round(percentile(valuesMs, 0.5)),
    p99Ms: round(percentile(valuesMs, 0.99)),
    meanMs: round(mean),
    maxMs: round(valuesMs.length ? Math.max(...valuesMs) : Number.NaN),
    samples: valuesMs.length,
  };
}

/** Rounds to `digits` decimals (keeps JSON readable); NaN/Infinity pass through (JSON.stringify makes them null). */
export function round(v: number, digits = 3): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** CPU time of the whole process (all threads) between two process.cpuUsage() readings, as % of one core. */
export function cpuPercent(start: NodeJS.CpuUsage, end: NodeJS.CpuUsage, wallMs: number): number {
  const usedUs = end.user - start.user + (end.system - start.system);
  return round((usedUs / 1000 / wallMs) * 100, 1);
}

/** os.loadavg() (1, 5, 15 min) rounded to 2 decimals, as the report gives it. */
export function loadAverage(): number[] {
  return os.loadavg().map((l) => round(l, 2));
}

/** Machine description for the JSON report. */
export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    platform: `${process.platform}-${process.arch}`,
    kernel: os.release(),
    cpus: cpus.length,
    availableParallelism: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryBytes: os.totalmem(),
    node: process.version,
    // Load before the run: on a shared machine this says how much the numbers can be trusted.
    loadAverage: loadAverage(),
  };
}

/** `git rev-parse HEAD` of `dir` (plus "-dirty" when the work tree has changes), or null outside a checkout. */
export function gitCommit(dir: string): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}

/**
 * A TrialRun from what a trial measured: frames over `wallMs` (the window), the latency samples and the CPU % of the
 * window. fps, the rounded window and the latency summary are derived here, the same way for every trial.
 */
export function trialRun(m: {
  trial: TrialRun['trial'];
  frames: number;
  wallMs: number;
  latenciesMs: readonly number[];
  cpuPercent: number;
  batchSize: number;
  intraOpThreads: number;
  workers: number;
  details: Record<string, unknown>;
}): TrialRun {
  return {
    trial: m.trial,
    fps: round((m.frames / m.wallMs) * 1000, 2),
    frames: m.frames,
    wallMs: round(m.wallMs, 1),
    latency: summariseLatency(m.latenciesMs),
    cpuPercent: m.cpuPercent,
    batchSize: m.batchSize,
    intraOpThreads: m.intraOpThreads,
    workers: m.workers,
    details: m.details,
  };
}
