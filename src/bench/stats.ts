/**
 * Trial-run helpers of `camtrack bench`. Pure functions, no state. The statistics (percentile, median, ratio), the
 * machine description and the commit come from report.ts, the one module every bench report uses (issue 15);
 * the trial modules import them from there.
 */
import { mean, percentile, round } from './report.js';
import type { LatencySummary, TrialRun } from './types.js';

/** p50/p99/mean/max of a latency sample in ms. */
export function summariseLatency(valuesMs: readonly number[]): LatencySummary {
  return {
    p50Ms: round(percentile(valuesMs, 0.5)),
    p99Ms: round(percentile(valuesMs, 0.99)),
    meanMs: round(mean(valuesMs)),
    maxMs: round(valuesMs.length ? Math.max(...valuesMs) : Number.NaN),
    samples: valuesMs.length,
  };
}

/** CPU time of the whole process (all threads) between two process.cpuUsage() readings, as % of one core. */
export function cpuPercent(start: NodeJS.CpuUsage, end: NodeJS.CpuUsage, wallMs: number): number {
  const usedUs = end.user - start.user + (end.system - start.system);
  return round((usedUs / 1000 / wallMs) * 100, 1);
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
