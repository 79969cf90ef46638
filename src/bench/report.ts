/**
 * The one measurement-report module of camtrack's benchmarks (issue 15, "one harness"): machine description, commit,
 * statistics and the common report stamp. `camtrack bench` (src/cli/bench.ts), every `bench/*.mjs` script and the
 * drivers of the native benchmark executables (`bench/decode.mjs`, `bench/jpeg.mjs`, `bench/native.mjs`) use it, so
 * every report carries the same `{ tool, version, startedAt, durationS, commit, machine }` and every percentile,
 * median and ratio in a report means the same thing. Pure functions except machineInfo()/commitInfo() (they read the
 * machine and git) and writeReport() (it writes the report).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json is): dist/bench/report.js → ../.. */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// ---- statistics ------------------------------------------------------------------------------------------------

/**
 * Percentile by the nearest-rank definition: the smallest value of the sample such that at least q × n of the n
 * values are ≤ it, i.e. sorted[ceil(q × n) − 1] (clamped to the sample); no interpolation, so it is always a value
 * that was measured. q in 0..1 (q = 0 gives the minimum, q = 1 the maximum). NaN for an empty sample. Does not
 * modify `values`. Examples: p50 of [1, 2, 3, 4] = 2; p99 of 100 values = the 99th smallest.
 */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** Median: the middle value, the mean of the two middle values for an even count; NaN for an empty sample. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Arithmetic mean; NaN for an empty sample. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Rounds to `digits` decimals (keeps JSON readable); NaN/Infinity pass through (JSON.stringify makes them null). */
export function round(v: number, digits = 3): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** `{ ofMedians, pairedMedian }` of two trials' per-round figures (see ratio()). */
export interface Ratio {
  /** median(a) / median(b) */
  ofMedians: number;
  /** median over rounds i of a[i] / b[i]: a and b ran back to back in round i, so slow drift cancels better. */
  pairedMedian: number;
}

/**
 * Median of the per-round ratios a[i] / b[i] over the rounds where both are finite and b[i] > 0; NaN when there is
 * none. `a[i]` and `b[i]` must come from the same round (run back to back).
 */
export function pairedRatioMedian(a: readonly number[], b: readonly number[]): number {
  const r: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isFinite(x) && Number.isFinite(y) && y > 0) r.push(x / y);
  }
  return median(r);
}

/**
 * The two ratios of trial A over trial B, from their per-round figures (a[i] and b[i] of round i); values that are
 * not finite (a run without a figure) are left out of the medians. Rounded to `digits`. NaN parts become null in JSON.
 */
export function ratio(a: readonly number[], b: readonly number[], digits = 3): Ratio {
  const fa = a.filter(Number.isFinite);
  const fb = b.filter(Number.isFinite);
  const mb = median(fb);
  return {
    ofMedians: round(mb > 0 ? median(fa) / mb : Number.NaN, digits),
    pairedMedian: round(pairedRatioMedian(a, b), digits),
  };
}

/** Least-squares slope of ys over xs (units of y per unit of x); NaN with fewer than two distinct xs. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return Number.NaN;
  const mx = mean(xs.slice(0, n));
  const my = mean(ys.slice(0, n));
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : Number.NaN;
}

/** p50/p99/max/n of a latency sample (ms), nearest-rank, rounded to `digits`; nulls for an empty sample. */
export function latencySummary(
  valuesMs: readonly number[],
  digits = 1,
): { n: number; p50: number | null; p99: number | null; max: number | null } {
  const r = (v: number): number | null => (Number.isFinite(v) ? round(v, digits) : null);
  return {
    n: valuesMs.length,
    p50: r(percentile(valuesMs, 0.5)),
    p99: r(percentile(valuesMs, 0.99)),
    max: r(valuesMs.length ? Math.max(...valuesMs) : Number.NaN),
  };
}

/** One reading of concurrent streams' progress: seconds since the run started, frames per stream, none finished. */
export interface ProgressSample {
  t: number;
  counts: readonly number[];
  allRunning: boolean;
}

/**
 * Steady-state throughput of concurrent streams: the frames all streams decoded from the first sample at which every
 * stream has a frame to the last sample before any stream finished, over that window. Start-up (process start, open,
 * probe) and the uneven tail are outside it. null when the window is shorter than `minWindowS`.
 */
export function steadyWindow(
  samples: readonly ProgressSample[],
  minWindowS = 0.5,
): { fps: number; windowS: number } | null {
  let a = -1;
  let b = -1;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    if (!s.allRunning) continue;
    b = i;
    if (a < 0 && s.counts.length > 0 && s.counts.every((c) => c > 0)) a = i;
  }
  if (a < 0 || b <= a) return null;
  const sa = samples[a]!;
  const sb = samples[b]!;
  const windowS = sb.t - sa.t;
  if (windowS < minWindowS) return null;
  let frames = 0;
  for (let i = 0; i < sa.counts.length; i++) frames += sb.counts[i]! - sa.counts[i]!;
  return { fps: frames / windowS, windowS };
}

// ---- machine and commit ----------------------------------------------------------------------------------------

/** os.loadavg() (1, 5, 15 min) rounded to 2 decimals. */
export function loadAverage(): number[] {
  return os.loadavg().map((l) => round(l, 2));
}

function readVersion(pkgJson: string): string | null {
  try {
    return (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

/** The version of this package (package.json), or null when it cannot be read. */
export function packageVersion(): string | null {
  return readVersion(path.join(packageRoot, 'package.json'));
}

/** The machine a report was measured on. */
export interface MachineInfo {
  hostname: string;
  /** `${process.platform}-${process.arch}` */
  platform: string;
  /** os.release() */
  kernel: string;
  /** logical CPUs (os.cpus().length) */
  cpus: number;
  availableParallelism: number;
  cpuModel: string;
  totalMemoryBytes: number;
  /** free memory when the report started */
  freeMemoryBytes: number;
  /** process.version */
  node: string;
  /** the installed onnxruntime-node's version, null when it is not installed */
  onnxruntime: string | null;
  /** 1, 5 and 15 min when the report started: on a shared machine, how much the figures can be trusted */
  loadAverage: number[];
  /** the same when the report was written (writeReport adds it) */
  loadAverageAfter?: number[];
  [extra: string]: unknown;
}

/** Describes this machine now (load average included). */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    platform: `${process.platform}-${process.arch}`,
    kernel: os.release(),
    cpus: cpus.length,
    availableParallelism: os.availableParallelism(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemoryBytes: os.totalmem(),
    freeMemoryBytes: os.freemem(),
    node: process.version,
    onnxruntime: readVersion(path.join(packageRoot, 'node_modules', 'onnxruntime-node', 'package.json')),
    loadAverage: loadAverage(),
  };
}

/** The checkout a report was measured from. */
export interface CommitInfo {
  /** `git rev-parse HEAD` */
  sha: string;
  /** tracked files differ from HEAD (`git status --porcelain --untracked-files=no` is not empty) */
  dirty: boolean;
  /** `sha`, plus "-dirty" when dirty: the report's `commit` field */
  id: string;
}

/** HEAD of the git checkout at `dir` (default: the package root) and whether it is dirty; null outside a checkout. */
export function commitInfo(dir: string = packageRoot): CommitInfo | null {
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  try {
    const sha = git('rev-parse', 'HEAD');
    if (!/^[0-9a-f]{40}$/.test(sha)) return null;
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return { sha, dirty, id: dirty ? `${sha}-dirty` : sha };
  } catch {
    return null;
  }
}

// ---- the report ------------------------------------------------------------------------------------------------

/** What every report starts with, the same way for every bench. */
export interface ReportStamp {
  /** which bench wrote it: `camtrack bench`, `bench/decode.mjs`, `camtrack_bench_tracker_bench`, … */
  tool: string;
  /** camtrack's package version */
  version: string | null;
  /** ISO time the measurement started */
  startedAt: string;
  /** seconds from startedAt to the report */
  durationS: number;
  /** commitInfo().id: "<sha>" or "<sha>-dirty"; null outside a git checkout */
  commit: string | null;
  machine: MachineInfo;
}

/** Where a bench started: give it to stampReport/writeReport at the end (machine and load read at the start). */
export interface ReportStart {
  startedAt: Date;
  machine: MachineInfo;
}

/** Call when the measurement starts: the time and the machine (with its load average) before anything ran. */
export function startReport(): ReportStart {
  return { startedAt: new Date(), machine: machineInfo() };
}

/**
 * The report: the common stamp, then `body`'s fields. `body.machine`, when given, adds to the machine description
 * (e.g. the FFmpeg version a native bench was built with); `loadAverageAfter` is read now.
 */
export function stampReport<T extends Record<string, unknown>>(
  tool: string,
  body: T,
  start: ReportStart = startReport(),
  dir: string = packageRoot,
): ReportStamp & Omit<T, 'machine'> {
  const { machine: extraMachine, ...rest } = body as Record<string, unknown>;
  const stamp: ReportStamp = {
    tool,
    version: packageVersion(),
    startedAt: start.startedAt.toISOString(),
    durationS: round((Date.now() - start.startedAt.getTime()) / 1000, 1),
    commit: commitInfo(dir)?.id ?? null,
    machine: {
      ...start.machine,
      ...(extraMachine && typeof extraMachine === 'object' ? (extraMachine as Record<string, unknown>) : {}),
      loadAverageAfter: loadAverage(),
    },
  };
  return { ...stamp, ...(rest as Omit<T, 'machine'>) };
}

/** `bench/results/<name>-<startedAt>.json` under the package root (bench/results/ is git-ignored). */
export function resultsPath(name: string, startedAt: Date): string {
  return path.join(packageRoot, 'bench', 'results', `${name}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
}

export interface WriteReportOptions {
  /** file to write the report to (its directory is made); none: stdout only */
  out?: string | null;
  /** from startReport() at the start of the measurement; default: now */
  start?: ReportStart;
  /** print the report on stdout (default true) */
  stdout?: boolean;
}

/**
 * Stamps `body` (stampReport) and writes it as indented JSON: on stdout (unless `stdout: false`) and to `out` when
 * given. Returns the report and the file written (absolute), or null.
 */
export function writeReport<T extends Record<string, unknown>>(
  tool: string,
  body: T,
  options: WriteReportOptions = {},
): { report: ReportStamp & Omit<T, 'machine'>; path: string | null } {
  const report = stampReport(tool, body, options.start);
  const text = `${JSON.stringify(report, null, 2)}\n`;
  let file: string | null = null;
  if (options.out) {
    file = path.resolve(options.out);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  if (options.stdout !== false) process.stdout.write(text);
  return { report, path: file };
}
